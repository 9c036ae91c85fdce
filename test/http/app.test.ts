// Cross-cutting behaviour of the app: unknown routes, request logging, the reserved-word contract.
import { afterEach, describe, expect, it } from 'vitest';
import { isReservedCode } from '../../src/shortener/code-generator.js';
import { createHttpApp } from '../../src/http/app.js';
import { FakeNode } from './fake-node.js';
import { json, startApp, type Harness } from './harness.js';
import { pino } from 'pino';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/a/b'],
    ['GET', '/a/b/c'],
    ['POST', '/api/links'],
    ['DELETE', '/cluster/members'],
  ])('%s %s → 404 JSON', async (method, path) => {
    h = await startApp();
    const res = await fetch(h.baseUrl + path, { method });
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  it('no X-Powered-By header', async () => {
    h = await startApp();
    const res = await fetch(h.baseUrl + '/healthz');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});

describe('request logging', () => {
  it('logs successes at debug, client errors at info, server errors at error', async () => {
    h = await startApp();
    h.node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 });
    await fetch(h.baseUrl + '/abc', { redirect: 'manual' });
    await fetch(h.baseUrl + '/nope');
    h.node.fail.status = new Error('broken');
    await fetch(h.baseUrl + '/cluster/status');
    const access = h.logs.filter((l) => l.res !== undefined);
    expect(
      access.map((l) => [
        l.level,
        (l.req as { url: string }).url,
        (l.res as { statusCode: number }).statusCode,
      ]),
    ).toEqual([
      [20, '/abc', 302],
      [30, '/nope', 404],
      [50, '/cluster/status', 500],
    ]);
    // The access line carries no headers (cheap to build), and no stack: the error line has that.
    expect(Object.keys(access[0]!.req as object).sort()).toEqual(['id', 'method', 'url']);
    expect(access[2]!.err).toBeUndefined();
  });

  it('requestLogging: false writes no access lines but still logs unexpected errors', async () => {
    h = await startApp({ requestLogging: false });
    h.node.seed({ code: 'abc', url: 'https://example.com/', createdAt: 0 });
    await fetch(h.baseUrl + '/abc', { redirect: 'manual' });
    await fetch(h.baseUrl + '/nope');
    h.node.fail.status = new Error('broken');
    expect((await fetch(h.baseUrl + '/cluster/status')).status).toBe(500);
    expect(h.logs).toHaveLength(1);
    expect(h.logs[0]).toMatchObject({ level: 50, err: { message: 'broken' }, url: '/cluster/status' });
  });
});

describe('configuration', () => {
  it('every top-level path the app serves is a reserved code', () => {
    for (const segment of ['healthz', 'readyz', 'cluster', 'shorten', 'api']) {
      expect(isReservedCode(segment), segment).toBe(true);
    }
  });

  it('refuses a publicUrl that is not a URL', () => {
    expect(() =>
      createHttpApp({ node: new FakeNode(), logger: pino({ level: 'silent' }), publicUrl: 'localhost:8081' }),
    ).toThrow(/publicUrl/);
  });
});
