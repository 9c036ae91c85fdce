// GET /openapi.json against the app itself: every route and method Express has registered is
// documented and every documented operation is registered; the document is well formed; real
// answers conform to it; and the README's API table lists the same operations.
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpAppOptions } from '../../src/http/app.js';
import { NotLeaderError } from '../../src/domain/errors.js';
import { HTTP_METHODS, openApiDocument, type OpenApiDocument } from '../../src/http/openapi.js';
import { checkAnswer, resolvePointer } from './openapi-check.js';
import { FakeNode } from './fake-node.js';
import { PUBLIC_URL, startApp, type Harness } from './harness.js';

/** Every option that adds routes, so the walk sees all of them. */
function fullApp(): Express {
  const visits = {
    recordVisit: () => undefined,
    visitsOf: () => ({ total: 0, byDay: {} }),
    acceptVisitBatch: async () => ({ applied: true, counted: 0 }),
  } as unknown as HttpAppOptions['visits'];
  return createHttpApp({
    node: new FakeNode(),
    logger: pino({ level: 'silent' }),
    publicUrl: PUBLIC_URL,
    metricsRegistry: new Registry(),
    visits,
  }).express;
}

interface Layer {
  route?: { path: string; stack: Array<{ method?: string }> };
}

/** "GET /api/urls/{code}" for every method a route registered (not its .all() 405 handler). */
function registeredOperations(app: Express): Set<string> {
  const ops = new Set<string>();
  for (const layer of (app as unknown as { router: { stack: Layer[] } }).router.stack) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
    for (const handler of layer.route.stack) {
      if (handler.method !== undefined) ops.add(`${handler.method.toUpperCase()} ${path}`);
    }
  }
  return ops;
}

function documentedOperations(doc: OpenApiDocument): Set<string> {
  const ops = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS)
      if (item[method] !== undefined) ops.add(`${method.toUpperCase()} ${path}`);
  }
  return ops;
}

const doc = openApiDocument(PUBLIC_URL);

describe('the document covers the app', () => {
  it('every registered route and method is documented', () => {
    const missing = [...registeredOperations(fullApp())].filter((op) => !documentedOperations(doc).has(op));
    expect(missing, 'routes missing from src/http/openapi-paths.ts').toEqual([]);
  });

  it('every documented operation is registered (HEAD is served by a GET route)', () => {
    const registered = registeredOperations(fullApp());
    const phantom = [...documentedOperations(doc)].filter(
      (op) => !registered.has(op) && !(op.startsWith('HEAD ') && registered.has(op.replace(/^HEAD/, 'GET'))),
    );
    expect(phantom).toEqual([]);
  });

  it('the README API table lists exactly the documented operations', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## HTTP API'));
    const table = section.slice(0, section.search(/\n\n(?!\|)/));
    const listed = new Set<string>();
    for (const row of table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))) {
      const firstCell = row.split(' | ')[0];
      for (const m of firstCell.matchAll(/`(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\/[^`\s?]*)[^`]*`/g)) {
        listed.add(`${m[1]} ${m[2].replace(/:(\w+)/g, '{$1}')}`);
      }
    }
    expect([...listed].sort()).toEqual([...documentedOperations(doc)].sort());
  });
});

describe('the document is well formed', () => {
  it('is OpenAPI 3.1 with this node as its server', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: PUBLIC_URL, description: 'This node' }]);
  });

  it('every $ref resolves', () => {
    const refs: string[] = [];
    JSON.stringify(doc, (key, value: unknown) => {
      if (key === '$ref') refs.push(value as string);
      return value;
    });
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter((r) => resolvePointer(doc, r) === undefined)).toEqual([]);
  });

  it('operationIds are unique; every operation has responses; path parameters are declared', () => {
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      const shared = (item.parameters ?? []) as Array<{ name: string; in: string }>;
      for (const method of HTTP_METHODS) {
        const op = item[method] as
          | { operationId: string; responses: object; parameters?: Array<{ name: string; in: string }> }
          | undefined;
        if (!op) continue;
        ids.push(op.operationId);
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
        const declared = [...shared, ...(op.parameters ?? [])]
          .filter((p) => p.in === 'path')
          .map((p) => p.name);
        const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect(declared.sort(), `${method} ${path}`).toEqual(inPath.sort());
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('writes name the API key, cluster endpoints the cluster token, both optional', () => {
    const op = (path: string, method: string) => doc.paths[path][method] as { security: object[] };
    expect(op('/shorten', 'post').security).toEqual([{ apiKeyBearer: [] }, { apiKeyHeader: [] }, {}]);
    expect(op('/api/urls/{code}', 'delete').security).toEqual(op('/shorten', 'post').security);
    expect(op('/cluster/join', 'post').security).toContainEqual({ clusterTokenHeader: [] });
    expect(Object.keys((doc.components as { securitySchemes: object }).securitySchemes).sort()).toEqual([
      'apiKeyBearer',
      'apiKeyHeader',
      'clusterTokenBearer',
      'clusterTokenHeader',
    ]);
  });
});

describe('real answers conform to the document', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  let served: OpenApiDocument;
  beforeAll(async () => {
    const app = await startApp();
    served = (await (await fetch(`${app.baseUrl}/openapi.json`)).json()) as OpenApiDocument;
    await app.close();
  });

  /** Sends the request and checks its answer against the operation at `template`. */
  async function conforms(
    template: string,
    init: { method?: string; path?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<number> {
    const method = init.method ?? 'GET';
    const res = await fetch(h!.baseUrl + (init.path ?? template), {
      method,
      body: init.body,
      headers: init.headers,
      redirect: 'manual',
    });
    const answer = { status: res.status, headers: res.headers, text: await res.text() };
    expect(checkAnswer(served, method, template, answer)).toEqual([]);
    return res.status;
  }
  const jsonBody = (body: unknown) => ({
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

  it('GET /openapi.json serves the document', () => {
    expect(served).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('POST /shorten: 201, 200, 400, 409 alias_taken, 409 not_leader, 503, 415, and the page for a form post', async () => {
    h = await startApp();
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/a', ttlSeconds: 60 }))).toBe(201);
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/b' }))).toBe(201);
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/b' }))).toBe(200);
    expect(await conforms('/shorten', jsonBody({ url: 'ftp://example.com/' }))).toBe(400);
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/c', alias: 'promo' }))).toBe(201);
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/d', alias: 'promo' }))).toBe(409);
    expect(
      await conforms('/shorten', {
        method: 'POST',
        body: '<x/>',
        headers: { 'content-type': 'application/xml' },
      }),
    ).toBe(415);
    expect(
      await conforms('/shorten', {
        method: 'POST',
        body: 'url=https%3A%2F%2Fexample.com%2Fform',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      }),
    ).toBe(201);
    h.node.fail.create = new NotLeaderError(2, 'http://127.0.0.1:8082');
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/e' }))).toBe(409);
    h.node.fail.create = new NotLeaderError(0, null);
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/e' }))).toBe(503);
  });

  it('POST / (the seed contract): 201, 200, 400, 409 not_leader', async () => {
    h = await startApp();
    const raw = (body: string) => ({ method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect(await conforms('/', raw('https://example.com/seed'))).toBe(201);
    expect(await conforms('/', raw('https://example.com/seed'))).toBe(200);
    expect(await conforms('/', raw('not a url'))).toBe(400);
    h.node.fail.create = new NotLeaderError(2, 'http://127.0.0.1:8082');
    expect(await conforms('/', raw('https://example.com/other'))).toBe(409);
  });

  it('GET /api/urls/{code}/qr: 200 SVG and PNG, 400, 404, 410', async () => {
    h = await startApp();
    h.node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 });
    h.node.seed({ code: 'old', url: 'https://example.com/old', createdAt: 0, expiresAt: 1 });
    const qr = '/api/urls/{code}/qr';
    expect(await conforms(qr, { path: '/api/urls/abc/qr' })).toBe(200);
    expect(await conforms(qr, { path: '/api/urls/abc/qr?format=png' })).toBe(200);
    expect(await conforms(qr, { path: '/api/urls/abc/qr?size=1' })).toBe(400);
    expect(await conforms(qr, { path: '/api/urls/nope/qr' })).toBe(404);
    expect(await conforms(qr, { path: '/api/urls/old/qr' })).toBe(410);
  });

  it('POST /api/urls/bulk: 200 with results, 400 invalid_bulk', async () => {
    h = await startApp();
    const bulk = '/api/urls/bulk';
    expect(
      await conforms(
        bulk,
        jsonBody({
          urls: [
            'https://example.com/b1',
            { url: 'ftp://x/' },
            { url: 'https://example.com/b2', ttlSeconds: 5 },
          ],
        }),
      ),
    ).toBe(200);
    expect(await conforms(bulk, jsonBody({ urls: [] }))).toBe(400);
  });

  it('GET /api/export: 200 JSON lines and CSV, 400', async () => {
    h = await startApp();
    h.node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 });
    expect(await conforms('/api/export')).toBe(200);
    expect(await conforms('/api/export', { path: '/api/export?format=csv' })).toBe(200);
    expect(await conforms('/api/export', { path: '/api/export?format=xml' })).toBe(400);
  });

  it('POST /api/import: 200 report, 400, 415', async () => {
    h = await startApp();
    const lines = (body: string, type: string) => ({
      method: 'POST',
      body,
      headers: { 'content-type': type },
    });
    expect(
      await conforms(
        '/api/import',
        lines('{"code":"abc","url":"https://example.com/"}\n{bad', 'application/x-ndjson'),
      ),
    ).toBe(200);
    expect(await conforms('/api/import', lines('code\r\nabc\r\n', 'text/csv'))).toBe(400);
    expect(await conforms('/api/import', lines('<x/>', 'application/xml'))).toBe(415);
  });

  it('POST /shorten without the API key: 401', async () => {
    h = await startApp({ apiKey: 'k' });
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/' }))).toBe(401);
  });

  it('abuse limits: 403 host_blocked, 429 rate_limited, 413', async () => {
    h = await startApp({ blockedHosts: ['evil.org'], writeRateLimit: { perSecond: 0.001, burst: 2 } });
    expect(await conforms('/shorten', jsonBody({ url: 'https://www.evil.org/' }))).toBe(403);
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/' + 'x'.repeat(20_000) }))).toBe(
      413,
    );
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/' }))).toBe(429);
  });

  it('visits: the record shows them; POST /cluster/visits takes a batch', async () => {
    const visits = {
      recordVisit: () => undefined,
      visitsOf: () => ({ total: 3, byDay: { '2026-11-21': 3 } }),
      acceptVisitBatch: async () => ({ applied: true, counted: 3 }),
    } as unknown as HttpAppOptions['visits'];
    h = await startApp({ visits });
    h.node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 });
    expect(await conforms('/api/urls/{code}', { path: '/api/urls/abc' })).toBe(200);
    const batch = { origin: 2, session: 7, seq: 1, visits: [['abc', 0, 20413, 3]] };
    expect(await conforms('/cluster/visits', jsonBody(batch))).toBe(200);
    expect(await conforms('/cluster/visits', jsonBody({ origin: 0 }))).toBe(400);
  });

  it('GET|HEAD /{code} and GET|DELETE /api/urls/{code}', async () => {
    h = await startApp();
    h.node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 });
    h.node.seed({ code: 'old', url: 'https://example.com/old', createdAt: 0, expiresAt: 1 });
    expect(await conforms('/{code}', { path: '/abc' })).toBe(302);
    expect(await conforms('/{code}', { path: '/abc', method: 'HEAD' })).toBe(302);
    expect(await conforms('/{code}', { path: '/nope' })).toBe(404);
    expect(await conforms('/{code}', { path: '/old' })).toBe(410);
    expect(await conforms('/{code}', { path: '/abc?consistency=strong' })).toBe(400);
    expect(await conforms('/api/urls/{code}', { path: '/api/urls/abc' })).toBe(200);
    expect(await conforms('/api/urls/{code}', { path: '/api/urls/old' })).toBe(410);
    expect(await conforms('/api/urls/{code}', { path: '/api/urls/abc', method: 'DELETE' })).toBe(204);
    expect(await conforms('/api/urls/{code}', { path: '/api/urls/abc', method: 'DELETE' })).toBe(404);
  });

  it('PATCH /api/urls/{code}: 200, 400, 404, 410, 409 not_leader; tags and maxVisits on create', async () => {
    h = await startApp();
    h.node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 });
    h.node.seed({ code: 'old', url: 'https://example.com/old', createdAt: 0, expiresAt: 1 });
    const patch = (code: string, body: unknown) => ({
      path: `/api/urls/${code}`,
      method: 'PATCH',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    const tagged = { url: 'https://example.com/t', tags: ['News', 'q1'], maxVisits: 5 };
    expect(await conforms('/shorten', jsonBody(tagged))).toBe(201);
    expect(await conforms('/shorten', jsonBody({ url: 'https://example.com/t', tags: ['a b'] }))).toBe(400);
    const edit = { url: 'https://example.org/new', tags: ['x'], ttlSeconds: 60, maxVisits: 10 };
    expect(await conforms('/api/urls/{code}', patch('abc', edit))).toBe(200);
    expect(
      await conforms('/api/urls/{code}', patch('abc', { expiresAt: null, maxVisits: null, tags: [] })),
    ).toBe(200);
    expect(await conforms('/api/urls/{code}', patch('abc', {}))).toBe(400);
    expect(await conforms('/api/urls/{code}', patch('abc', { code: 'other' }))).toBe(400);
    expect(await conforms('/api/urls/{code}', patch('abc', { maxVisits: 0 }))).toBe(400);
    expect(await conforms('/api/urls/{code}', patch('nope', { tags: ['x'] }))).toBe(404);
    expect(await conforms('/api/urls/{code}', patch('old', { tags: ['x'] }))).toBe(410);
    h.node.seed({ code: 'lim', url: 'https://example.com/lim', createdAt: 0, maxVisits: 1 });
    expect(await conforms('/{code}', { path: '/lim' })).toBe(302);
    expect(await conforms('/{code}', { path: '/lim' })).toBe(410);
    h.node.fail.update = new NotLeaderError(2, 'http://127.0.0.1:8082');
    expect(await conforms('/api/urls/{code}', patch('abc', { tags: ['x'] }))).toBe(409);
  });

  it('GET /api/urls: pages with a cursor, filters, 400 for a bad cursor or limit', async () => {
    h = await startApp();
    h.node.seed({ code: 'a1', url: 'https://example.com/a', createdAt: 1, tags: ['t'] });
    h.node.seed({ code: 'b2', url: 'https://example.com/b', createdAt: 2 });
    const first = await fetch(`${h.baseUrl}/api/urls?limit=1`);
    const body = (await first.json()) as { items: Array<{ code: string }>; nextCursor: string | null };
    expect(body.items.map((i) => i.code)).toEqual(['b2']);
    expect(body.nextCursor).toEqual(expect.any(String));
    expect(await conforms('/api/urls', { path: '/api/urls?limit=1' })).toBe(200);
    expect(await conforms('/api/urls', { path: `/api/urls?cursor=${body.nextCursor}&tag=T&q=exa` })).toBe(
      200,
    );
    expect(await conforms('/api/urls', { path: '/api/urls?cursor=not*base64' })).toBe(400);
    expect(await conforms('/api/urls', { path: '/api/urls?cursor=AA' })).toBe(400);
    expect(await conforms('/api/urls', { path: '/api/urls?limit=0' })).toBe(400);
    expect(await conforms('/api/urls', { path: '/api/urls?limit=1001' })).toBe(400);
    expect(await conforms('/api/urls', { path: '/api/urls?tag=a%20b' })).toBe(400);
    const rest = await fetch(`${h.baseUrl}/api/urls?cursor=${body.nextCursor}`);
    expect(((await rest.json()) as { items: Array<{ code: string }> }).items.map((i) => i.code)).toEqual([
      'a1',
    ]);
    await h.close();
    h = await startApp({ apiKey: 'k' });
    expect(await conforms('/api/urls')).toBe(401);
    expect(await conforms('/api/urls', { headers: { 'x-api-key': 'k' } })).toBe(200);
  });

  it('cluster, health, web page and preflight', async () => {
    h = await startApp();
    expect(await conforms('/cluster/status')).toBe(200);
    expect(await conforms('/cluster/join', jsonBody({ id: 0 }))).toBe(400);
    expect(
      await conforms(
        '/cluster/join',
        jsonBody({ id: 2, httpUrl: 'http://127.0.0.1:8082', raftAddr: '127.0.0.1:9082' }),
      ),
    ).toBe(200);
    expect(await conforms('/cluster/members/{id}', { path: '/cluster/members/2', method: 'DELETE' })).toBe(
      200,
    );
    expect(await conforms('/healthz')).toBe(200);
    expect(await conforms('/readyz')).toBe(200);
    h.node.ready = false;
    expect(await conforms('/readyz')).toBe(503);
    expect(await conforms('/')).toBe(200);
    const preflight = {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:8081', 'access-control-request-method': 'POST' },
    };
    expect(await conforms('/shorten', preflight)).toBe(204);
    expect(await conforms('/shorten', { ...preflight, headers: { origin: 'https://evil.example' } })).toBe(
      405,
    );
  });
});
