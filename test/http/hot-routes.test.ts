// The hot routes (POST /shorten with JSON, GET /:code) answer without Express. Every request here is
// sent twice, to an app whose hot routes are on and to the same app's Express side alone, each with
// its own FakeNode in the same state; the answers must be the same: status, headers, body. Then:
// the requests of the hot shapes really skip Express, and every other shape goes to it.
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp, type HttpAppOptions } from '../../src/http/app.js';
import { NotLeaderError, UnavailableError } from '../../src/domain/errors.js';
import { parseStrictJson } from '../../src/http/hot-routes.js';
import { FakeNode } from './fake-node.js';

const PUBLIC_URL = 'http://short.example:8081';

interface Side {
  node: FakeNode;
  app: HttpApp;
  baseUrl: string;
  logs: Array<Record<string, unknown>>;
  registry: Registry;
  /** Requests that reached the Express app. */
  expressCalls: string[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
});

async function listen(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function side(
  hot: boolean,
  options: Partial<HttpAppOptions>,
  prepare: (node: FakeNode) => void,
): Promise<Side> {
  const node = new FakeNode();
  prepare(node);
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const registry = new Registry();
  const app = createHttpApp({
    node,
    visits: node,
    logger,
    publicUrl: PUBLIC_URL,
    metricsRegistry: registry,
    ...options,
  });
  const expressCalls: string[] = [];
  // `handle` is Express's internal entry point for every request; its typings leave it out.
  const routed = app.express as unknown as {
    handle: (req: { method: string; url: string }, ...rest: unknown[]) => unknown;
  };
  const handle = routed.handle.bind(app.express);
  routed.handle = (req, ...rest) => {
    expressCalls.push(`${req.method} ${req.url}`);
    return handle(req, ...rest);
  };
  const baseUrl = await listen(hot ? app : app.express);
  return { node, app, baseUrl, logs, registry, expressCalls };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a client sees, minus what differs by the instant (Date) and by the random code. */
async function answer(baseUrl: string, path: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(baseUrl + path, { redirect: 'manual', ...init });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'date') headers[name] = value;
  });
  const body = (await res.text())
    .replace(/"code":"[0-9A-Za-z_-]{7,}"/g, '"code":"<code>"')
    .replace(/8081\/[0-9A-Za-z_-]{7,}"/g, '8081/<code>"');
  return { status: res.status, headers, body };
}

/** Sends each request to both sides in turn and expects the same answers. Returns the hot side. */
async function expectSameAnswers(
  requests: Array<[path: string, init: RequestInit]>,
  options: Partial<HttpAppOptions> = {},
  prepare: (node: FakeNode) => void = () => undefined,
): Promise<{ hot: Side; plain: Side; answers: Answer[] }> {
  const hot = await side(true, options, prepare);
  const plain = await side(false, options, prepare);
  const answers: Answer[] = [];
  for (const [path, init] of requests) {
    const fromHot = await answer(hot.baseUrl, path, init);
    const fromExpress = await answer(plain.baseUrl, path, init);
    expect(fromHot, `${init.method ?? 'GET'} ${path} ${String(init.body ?? '')}`).toEqual(fromExpress);
    answers.push(fromHot);
  }
  return { hot, plain, answers };
}

const postJson = (body: string | Buffer, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
});

describe('hot routes answer exactly as the Express routes do', () => {
  it('POST /shorten: creates, dedup, and every refusal of the body', async () => {
    const { hot, answers } = await expectSameAnswers([
      ['/shorten', postJson('{"url":"https://example.com/a"}')],
      ['/shorten', postJson('{"url":"https://example.com/a"}')],
      [
        '/shorten',
        postJson('{"url":"https://example.com/b"}', { 'content-type': 'Application/JSON; charset=UTF-8' }),
      ],
      [
        '/shorten',
        postJson(
          Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"url":"https://example.com/bom"}')]),
        ),
      ],
      ['/shorten', postJson('  \n{"url":"https://example.com/ws"}  ')],
      ['/shorten', postJson('{"url":"ftp://example.com/"}')],
      ['/shorten', postJson('{"url":""}')],
      ['/shorten', postJson('{}')],
      ['/shorten', postJson('[]')],
      ['/shorten', postJson('"https://example.com/"')],
      ['/shorten', postJson('null')],
      ['/shorten', postJson('   ')],
      ['/shorten', postJson('{"url": "https://example.com/"')],
      ['/shorten', postJson('{"url":"https://example.com/x","alias":"my-alias"}')],
      ['/shorten', postJson('{"url":"https://example.com/y","alias":"my-alias"}')],
      ['/shorten', postJson('{"url":"https://example.com/x","alias":"healthz"}')],
      ['/shorten', postJson('{"url":"https://example.com/x","alias":"a b"}')],
      ['/shorten', postJson('{"url":"https://example.com/t","ttlSeconds":0}')],
      [
        '/shorten',
        postJson('{"url":"https://example.com/t","ttlSeconds":60,"expiresAt":"2031-01-01T00:00:00Z"}'),
      ],
      ['/shorten', postJson('{"url":"https://example.com/t","expiresAt":"yesterday"}')],
      ['/shorten', postJson('{"url":"https://example.com/i"}', { 'idempotency-key': 'key-1' })],
      ['/shorten', postJson('{"url":"https://example.com/i"}', { 'idempotency-key': 'key-1' })],
      ['/shorten', postJson('{"url":"https://example.com/other"}', { 'idempotency-key': 'key-1' })],
      ['/shorten', postJson('{"url":"https://example.com/i"}', { 'idempotency-key': '\u00e9' })],
    ]);
    expect(answers.map((a) => a.status)).toEqual([
      201, 200, 201, 201, 201, 400, 400, 400, 400, 400, 400, 400, 400, 201, 409, 400, 400, 400, 400, 400, 201,
      201, 422, 400,
    ]);
    expect(answers[21]!.headers['idempotent-replayed']).toBe('true');
    expect(answers.slice(9, 13).map((a) => JSON.parse(a.body).error)).toEqual([
      'invalid_json',
      'invalid_json',
      'invalid_json',
      'invalid_json',
    ]);
    expect(hot.expressCalls).toEqual([]);
  });

  it('POST /shorten: blocked hosts, API keys and the rate limit', async () => {
    const key = { authorization: 'Bearer s3cret' };
    const { hot, answers } = await expectSameAnswers(
      [
        ['/shorten', postJson('{"url":"https://example.com/a"}')],
        ['/shorten', postJson('{"url":"https://example.com/a"}', { 'x-api-key': 'wrong' })],
        ['/shorten', postJson('{"url":"https://evil.example/a"}', key)],
        ['/shorten', postJson('{"url":"https://example.com/a"}', key)],
        ['/shorten', postJson('{"url":"https://example.com/b"}', key)],
      ],
      { apiKey: 's3cret', blockedHosts: ['evil.example'], writeRateLimit: { perSecond: 0.001, burst: 2 } },
    );
    expect(answers.map((a) => a.status)).toEqual([401, 401, 403, 201, 429]);
    expect(answers[0]!.headers['www-authenticate']).toBe('Bearer');
    expect(answers[4]!.headers['retry-after']).toMatch(/^\d+$/);
    expect(hot.expressCalls).toEqual([]);
  });

  it('POST /shorten: what the node answers — not the leader, no leader, unavailable, broken', async () => {
    for (const failure of [
      new NotLeaderError(2, 'http://127.0.0.1:8082'),
      new NotLeaderError(0, null),
      new UnavailableError('removed from the cluster'),
      new Error('disk on fire'),
    ]) {
      const { hot, plain, answers } = await expectSameAnswers(
        [['/shorten', postJson('{"url":"https://example.com/a"}')]],
        {},
        (node) => void (node.fail.create = failure),
      );
      expect(answers[0]!.status).toBe(
        failure instanceof NotLeaderError
          ? failure.leaderId
            ? 409
            : 503
          : failure instanceof UnavailableError
            ? 503
            : 500,
      );
      // An unexpected error is logged with its stack on both paths, the same way.
      const errorLines = (s: Side) =>
        s.logs
          .filter((l) => l.msg === 'request failed with an unexpected error')
          .map((l) => [(l.err as { message: string }).message, l.url]);
      expect(errorLines(hot)).toEqual(errorLines(plain));
      expect(errorLines(hot)).toHaveLength(failure.constructor === Error ? 1 : 0);
      expect(hot.expressCalls).toEqual([]);
    }
  });

  it('GET /:code: redirect, unknown, expired, unknown syntax, a failing lookup', async () => {
    const seed = (node: FakeNode): void => {
      node.seed({ code: 'abc', url: 'https://example.com/target?q=1', createdAt: 0 });
      node.seed({ code: 'old', url: 'https://example.com/', createdAt: 0, expiresAt: 1000 });
      node.seed({
        code: 'soon',
        url: 'https://example.com/',
        createdAt: 0,
        expiresAt: Date.now() + 3_600_000,
      });
    };
    const { hot, answers } = await expectSameAnswers(
      [
        ['/abc', {}],
        ['/soon', {}],
        ['/nope', {}],
        ['/old', {}],
      ],
      {},
      seed,
    );
    expect(answers.map((a) => a.status)).toEqual([302, 302, 404, 410]);
    expect(answers[0]!.headers.location).toBe('https://example.com/target?q=1');
    expect(hot.expressCalls).toEqual([]);
    // Both sides counted the two redirects as visits.
    expect(hot.node.recordedVisits.map((v) => v.code)).toEqual(['abc', 'soon']);

    const permanent = await expectSameAnswers(
      [
        ['/abc', {}],
        ['/soon', {}],
      ],
      { redirectStatus: 301 },
      seed,
    );
    expect(permanent.answers.map((a) => [a.status, a.headers['cache-control']])).toEqual([
      [301, 'public, max-age=86400'],
      [301, 'private, max-age=0'],
    ]);

    const broken = await expectSameAnswers(
      [['/abc', {}]],
      {},
      (node) => void (node.fail.lookup = new Error('lmdb gone')),
    );
    expect(broken.answers[0]!.status).toBe(500);
  });

  it('GET /:code with a query: forwarded with --forward-query, dropped without, on the fast path', async () => {
    const seed = (node: FakeNode): void =>
      node.seed({ code: 'abc', url: 'https://example.com/target?q=1#f', createdAt: 0 });
    const requests: Array<[string, RequestInit]> = [
      ['/abc?utm_source=x&utm_medium=a%20b', {}],
      ['/abc?', {}],
      ['/abc?x="<é>"', {}],
      ['/nope?utm_source=x', {}],
    ];
    const forwarded = await expectSameAnswers(requests, { forwardQuery: true }, seed);
    expect(forwarded.answers.map((a) => a.headers.location)).toEqual([
      'https://example.com/target?q=1&utm_source=x&utm_medium=a%20b#f',
      'https://example.com/target?q=1#f',
      'https://example.com/target?q=1&x=%22%3C%C3%A9%3E%22#f',
      undefined,
    ]);
    expect(forwarded.hot.expressCalls).toEqual([]);
    const dropped = await expectSameAnswers(requests.slice(0, 1), {}, seed);
    expect(dropped.answers[0]!.headers.location).toBe('https://example.com/target?q=1#f');
    expect(dropped.hot.expressCalls).toEqual([]);
  });

  it('access lines and metrics are the same on both paths', async () => {
    const { hot, plain } = await expectSameAnswers(
      [
        ['/shorten', postJson('{"url":"https://example.com/a"}')],
        ['/shorten', postJson('{"url":"nope"}')],
        ['/abc', {}],
        ['/nope', {}],
      ],
      {},
      (node) => node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 }),
    );
    const access = (s: Side) =>
      s.logs
        .filter((l) => l.res !== undefined)
        .map((l) => [
          l.level,
          l.msg,
          (l.req as { method: string }).method,
          (l.req as { url: string }).url,
          (l.res as { statusCode: number }).statusCode,
          typeof l.responseTime,
        ]);
    expect(access(hot)).toEqual(access(plain));
    expect(access(hot)).toEqual([
      [20, 'request completed', 'POST', '/shorten', 201, 'number'],
      [30, 'request completed', 'POST', '/shorten', 400, 'number'],
      [20, 'request completed', 'GET', '/abc', 302, 'number'],
      [30, 'request completed', 'GET', '/nope', 404, 'number'],
    ]);
    const counts = async (s: Side) =>
      (await s.registry.getSingleMetric('http_requests_total')!.get()).values.map((v) => [v.labels, v.value]);
    expect(await counts(hot)).toEqual(await counts(plain));
    expect(await counts(hot)).toHaveLength(4);
    expect(hot.expressCalls).toEqual([]);
  });
});

describe('every other shape goes to Express', () => {
  it.each<[string, string, RequestInit]>([
    [
      'a form post',
      '/shorten',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'url=https%3A%2F%2Fexample.com%2F',
      },
    ],
    [
      'a text/plain post',
      '/shorten',
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'https://example.com/' },
    ],
    ['a browser form post', '/shorten', postJson('{"url":"https://example.com/"}', { accept: 'text/html' })],
    [
      'a cross-origin post',
      '/shorten',
      postJson('{"url":"https://example.com/"}', { origin: 'http://127.0.0.1:8082' }),
    ],
    [
      'a compressed body',
      '/shorten',
      postJson('{"url":"https://example.com/"}', { 'content-encoding': 'gzip' }),
    ],
    [
      'another charset',
      '/shorten',
      postJson('{"url":"https://example.com/"}', { 'content-type': 'application/json; charset=latin1' }),
    ],
    ['an empty body', '/shorten', postJson('')],
    [
      'a body over the limit',
      '/shorten',
      postJson(JSON.stringify({ url: 'https://example.com/' + 'a'.repeat(20_000) })),
    ],
    ['a consistency parameter', '/abc?consistency=linearizable', {}],
    ['a consistency parameter after another', '/abc?utm_source=x&consistency=local', {}],
    ['X-Consistency', '/abc', { headers: { 'x-consistency': 'local' } }],
    ['HEAD', '/abc', { method: 'HEAD' }],
    ['percent-encoding', '/%61bc', {}],
    ['a reserved word', '/healthz', {}],
    ['two segments', '/api/urls/abc', {}],
    ['another method', '/abc', { method: 'PUT' }],
  ])('%s', async (_what, path, init) => {
    const { hot } = await expectSameAnswers([[path, init]], {}, (node) =>
      node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 }),
    );
    expect(hot.expressCalls).toHaveLength(1);
  });

  it('a chunked body', async () => {
    const hot = await side(true, {}, () => undefined);
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"url":"https://example.com/chunked"}'));
        controller.close();
      },
    });
    const res = await fetch(hot.baseUrl + '/shorten', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(201);
    expect(hot.expressCalls).toEqual(['POST /shorten']);
  });
});

describe('parseStrictJson', () => {
  it('takes an object or an array, and refuses any other top-level value', () => {
    expect(parseStrictJson(Buffer.from(' {"a":1}'))).toEqual({ a: 1 });
    expect(parseStrictJson(Buffer.from('[1]'))).toEqual([1]);
    for (const text of ['1', '"s"', 'true', 'null', '', ' ', '{', '{"a":1}x']) {
      expect(() => parseStrictJson(Buffer.from(text)), text).toThrow(/not valid JSON/);
    }
  });
});
