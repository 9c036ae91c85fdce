import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, PUBLIC_URL, startApp, type Harness } from './harness.js';

let h: Harness;
const record = {
  code: 'Ab3_x-Z',
  url: 'https://example.com/some/page?q=1',
  createdAt: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
};
beforeEach(async () => {
  h = await startApp();
  h.node.seed(record);
});
afterEach(async () => {
  await h.close();
});

const get = (path: string, init: RequestInit = {}) =>
  fetch(h.baseUrl + path, { redirect: 'manual', ...init });

describe('GET /:code', () => {
  it('→ 302 with Location set to the long URL', async () => {
    const res = await get('/Ab3_x-Z');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(record.url);
    expect(await res.text()).toBe('');
  });

  it('HEAD → 302 with Location and no body', async () => {
    const res = await get('/Ab3_x-Z', { method: 'HEAD' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(record.url);
    expect(await res.text()).toBe('');
  });

  it('a round trip: POST /shorten, then GET the code', async () => {
    const created = await fetch(h.baseUrl + '/shorten', {
      method: 'POST',
      body: 'https://example.org/x',
      headers: { 'content-type': 'text/plain' },
    });
    const { code } = (await created.json()) as { code: string };
    const res = await get('/' + code);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://example.org/x');
  });

  it('an unknown code → 404 JSON', async () => {
    const res = await get('/Zz9');
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  it('codes are case-sensitive', async () => {
    expect((await get('/ab3_x-z')).status).toBe(404);
  });

  it.each(['/a.b', '/' + 'a'.repeat(65), '/%E2%9C%93', '/a%20b', '/a%2Fb'])(
    'invalid code syntax %s → 404 without a lookup',
    async (path) => {
      h.node.fail.lookup = new Error('lookup must not be called');
      const res = await get(path);
      expect(res.status).toBe(404);
      expect((await json(res)).error).toBe('not_found');
    },
  );

  it('a 64-character code is still looked up', async () => {
    h.node.seed({ code: 'c'.repeat(64), url: 'https://example.com/long-code', createdAt: 0 });
    expect((await get('/' + 'c'.repeat(64))).status).toBe(302);
  });

  it('malformed percent-encoding → 400 JSON, not an HTML page', async () => {
    const res = await get('/%E0%A4%A');
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe('bad_request');
  });

  it('a lookup that throws → 500 JSON', async () => {
    h.node.fail.lookup = new Error('disk on fire');
    const res = await get('/Ab3_x-Z');
    expect(res.status).toBe(500);
    expect(await json(res)).toEqual({ error: 'internal', message: 'internal server error' });
  });

  it('POST /:code → 405 with Allow', async () => {
    const res = await get('/Ab3_x-Z', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('reserved paths are routes, never codes', () => {
  beforeEach(() => {
    // Even if the store somehow held these codes, the routes must win.
    for (const code of ['healthz', 'readyz', 'cluster', 'shorten', 'api', 'metrics', 'Healthz']) {
      h.node.seed({ code, url: `https://evil.example/${code}`, createdAt: 0 });
    }
  });

  it('GET /healthz is the health check', async () => {
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok' });
  });

  it('GET /readyz is the readiness check', async () => {
    const res = await get('/readyz');
    expect(res.status).toBe(200);
  });

  it('GET /cluster/status is the status', async () => {
    const res = await get('/cluster/status');
    expect(res.status).toBe(200);
    expect((await json(res)).role).toBe('leader');
  });

  it.each(['/cluster', '/api', '/metrics', '/Cluster'])(
    'GET %s (a reserved word with no GET route) → 404, not a redirect',
    async (path) => {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('location')).toBeNull();
    },
  );

  it('fixed routes match in any case, like isReservedCode: GET /Healthz is the health check', async () => {
    const res = await get('/Healthz');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok' });
  });

  it('GET /shorten → 405, not a redirect', async () => {
    expect((await get('/shorten')).status).toBe(405);
  });
});

describe('GET /api/urls/:code', () => {
  it('→ the record with shortUrl and an ISO createdAt', async () => {
    const res = await get('/api/urls/Ab3_x-Z');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      code: 'Ab3_x-Z',
      url: record.url,
      shortUrl: `${PUBLIC_URL}/Ab3_x-Z`,
      createdAt: '2024-01-02T03:04:05.006Z',
      visits: { total: 0, byDay: {} },
    });
  });

  it.each(['/api/urls/nope', '/api/urls/a.b'])('%s → 404 JSON', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect((await json(res)).error).toBe('not_found');
  });
});
