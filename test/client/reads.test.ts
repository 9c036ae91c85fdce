// The client's reads against fake nodes: spread round robin, redirects never followed, 404/410 as
// answers, failover when a node is gone, consistency, stats.
import { afterEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  NetworkError,
  ShortenerClient,
  type ShortenerClientOptions,
} from '../../src/client/index.js';
import { deadNodeUrl, json, startFakeNode, type FakeNode } from './fake-server.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function redirector(target = 'https://example.com/long'): Promise<FakeNode> {
  const n = await startFakeNode((_req, res) => {
    res.writeHead(302, { location: target, 'cache-control': 'private, max-age=0' }).end();
  });
  open.push(n);
  return n;
}

function client(options: ShortenerClientOptions): ShortenerClient {
  const c = new ShortenerClient(options);
  open.push(c);
  return c;
}

describe('resolve', () => {
  it('spreads reads round robin over the nodes', async () => {
    const nodes = [await redirector(), await redirector(), await redirector()];
    const c = client({ nodes: nodes.map((n) => n.url) });
    const answered: string[] = [];
    for (let i = 0; i < 9; i++) answered.push((await c.resolve('abc')).node);
    expect(answered).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2].map((k) => nodes[k].url));
    for (const n of nodes) expect(n.received.map((q) => q.path)).toEqual(['/abc', '/abc', '/abc']);
  });

  it('readNodes narrows where reads go', async () => {
    const [a, b] = [await redirector(), await redirector()];
    const c = client({ nodes: [a.url, b.url], readNodes: [b.url] });
    await c.resolve('x');
    await c.resolve('y');
    expect(a.received).toHaveLength(0);
    expect(b.received).toHaveLength(2);
  });

  it('never follows the redirect: returns its status, Location and Cache-Control', async () => {
    const trap = await startFakeNode((_req, res) => json(res, 200, {}));
    open.push(trap);
    const n = await redirector(`${trap.url}/followed`);
    const r = await client({ nodes: [n.url] }).resolve('abc');
    expect(r).toMatchObject({
      found: true,
      status: 302,
      location: `${trap.url}/followed`,
      cacheControl: 'private, max-age=0',
    });
    expect(trap.received).toHaveLength(0);
  });

  it('404 and 410 are answers, with the error body', async () => {
    const n = await startFakeNode((req, res) =>
      req.path === '/old'
        ? json(res, 410, {
            error: 'expired',
            message: 'this short URL has expired',
            expiresAt: '2020-01-01T00:00:00.000Z',
          })
        : json(res, 404, { error: 'not_found', message: 'no short URL has this code' }),
    );
    open.push(n);
    const c = client({ nodes: [n.url] });
    expect(await c.resolve('nope')).toMatchObject({ found: false, status: 404, error: 'not_found' });
    expect(await c.resolve('old')).toMatchObject({
      found: false,
      status: 410,
      error: 'expired',
      expiresAt: '2020-01-01T00:00:00.000Z',
    });
  });

  it('linearizable reads ask for it in the query string', async () => {
    const n = await redirector();
    await client({ nodes: [n.url] }).resolve('a-b_c', { consistency: 'linearizable' });
    expect(n.received[0].path).toBe('/a-b_c?consistency=linearizable');
  });

  it('a node that is gone is skipped at once; readFailover bounds how many others are tried', async () => {
    const dead1 = await deadNodeUrl();
    const dead2 = await deadNodeUrl();
    const live = await redirector();
    const r = await client({ nodes: [dead1, dead2, live.url] }).resolve('abc');
    expect(r).toMatchObject({ found: true, node: live.url, attempts: 3 });

    const err = await client({ nodes: [dead1, dead2, live.url], readFailover: 1 })
      .resolve('abc')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).toMatchObject({ kind: 'connection', attempts: 2 });
  });

  it('a timeout is not failed over: the caller’s time is spent', async () => {
    const slow = await startFakeNode(() => undefined);
    open.push(slow);
    const live = await redirector();
    const err = await client({ nodes: [slow.url, live.url], timeoutMs: 100 })
      .resolve('abc')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout', attempts: 1 });
    expect(live.received).toHaveLength(0);
  });
});

describe('stats', () => {
  it('returns the record, visits when the node counts them', async () => {
    const n = await startFakeNode((_req, res) =>
      json(res, 200, {
        code: 'abc',
        url: 'https://example.com/',
        shortUrl: 'http://s/abc',
        createdAt: '2026-01-01T00:00:00.000Z',
        alias: true,
        visits: { total: 7, byDay: { '2026-01-01': 7 } },
      }),
    );
    open.push(n);
    const s = await client({ nodes: [n.url] }).stats('abc');
    expect(s).toMatchObject({
      code: 'abc',
      alias: true,
      visits: { total: 7, byDay: { '2026-01-01': 7 } },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(n.received[0]).toMatchObject({ method: 'GET', path: '/api/urls/abc' });
  });

  it('404 throws an ApiError with the machine code', async () => {
    const n = await startFakeNode((_req, res) => json(res, 404, { error: 'not_found', message: 'no' }));
    open.push(n);
    const err = await client({ nodes: [n.url] })
      .stats('x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, errorCode: 'not_found' });
  });
});
