// The HTTP contract of the features that go through the replicated state machine: aliases,
// expiry (410), delete, idempotency keys, and the redirect status / HEAD / Cache-Control.
// FakeNode follows apply's rules; replication itself is tested in test/cluster/features.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpAppOptions } from '../../src/http/app.js';
import { NotLeaderError } from '../../src/domain/errors.js';
import { json, PUBLIC_URL, startApp, type Harness } from './harness.js';
import { pino } from 'pino';
import { FakeNode } from './fake-node.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function app(options: Partial<Omit<HttpAppOptions, 'node' | 'logger'>> = {}): Promise<Harness> {
  h = await startApp(options);
  return h;
}

function post(value: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(h!.baseUrl + '/shorten', {
    method: 'POST',
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const get = (path: string, init: RequestInit = {}) =>
  fetch(h!.baseUrl + path, { redirect: 'manual', ...init });

describe('custom aliases', () => {
  it('creates the alias (201) and resolves it, case-sensitively', async () => {
    await app();
    const res = await post({ url: 'https://example.com/a', alias: 'Spring-Sale_2025' });
    expect(res.status).toBe(201);
    expect(await json(res)).toEqual({
      code: 'Spring-Sale_2025',
      shortUrl: `${PUBLIC_URL}/Spring-Sale_2025`,
      url: 'https://example.com/a',
    });
    expect(h!.node.createCalls[0]).toMatchObject({ alias: 'Spring-Sale_2025' });
    expect((await get('/Spring-Sale_2025')).status).toBe(302);
    expect((await get('/spring-sale_2025')).status).toBe(404);
    const meta = await json(await get('/api/urls/Spring-Sale_2025'));
    expect(meta).toMatchObject({ code: 'Spring-Sale_2025', alias: true });
  });

  it('a taken alias → 409 alias_taken, which carries no leader fields (unlike not_leader)', async () => {
    await app();
    expect((await post({ url: 'https://example.com/a', alias: 'promo' })).status).toBe(201);
    const res = await post({ url: 'https://example.com/b', alias: 'promo' });
    expect(res.status).toBe(409);
    const body = await json(res);
    expect(body).toEqual({ error: 'alias_taken', message: expect.stringContaining('promo'), alias: 'promo' });
    expect(body).not.toHaveProperty('leaderId');
    expect(body).not.toHaveProperty('leaderUrl');
    // The original is untouched.
    expect((await get('/promo')).headers.get('location')).toBe('https://example.com/a');
  });

  it('a plain request for a URL never returns an alias of it', async () => {
    await app();
    await post({ url: 'https://example.com/a', alias: 'promo' });
    const plain = await post({ url: 'https://example.com/a' });
    expect(plain.status).toBe(201);
    expect((await json(plain)).code).toMatch(/^[0-9A-Za-z]{7}$/);
  });

  it('accepts the alias as a form field too; an empty one means none', async () => {
    await app();
    const res = await fetch(h!.baseUrl + '/shorten', {
      method: 'POST',
      body: 'url=https%3A%2F%2Fexample.com%2Ff&alias=form_alias&ttlSeconds=',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(201);
    expect((await json(res)).code).toBe('form_alias');
    const none = await fetch(h!.baseUrl + '/shorten', {
      method: 'POST',
      body: 'url=https%3A%2F%2Fexample.com%2Fg&alias=',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(none.status).toBe(201);
    expect((await json(none)).code).toMatch(/^[0-9A-Za-z]{7}$/);
  });

  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(65)],
    ['a slash', 'a/b'],
    ['a dot', 'a.b.c'],
    ['non-ASCII', 'caf\u00e9'],
    ['a number', 12345],
    ['a reserved word', 'healthz'],
    ['a reserved word in another case', 'API'],
  ])('refuses an alias with %s → 400 invalid_alias, proposing nothing', async (_name, alias) => {
    await app();
    const res = await post({ url: 'https://example.com/a', alias });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe('invalid_alias');
    expect(h!.node.createCalls).toHaveLength(0);
  });
});

describe('expiry', () => {
  it('ttlSeconds: the leader fixes expiresAt = its now + ttl before proposing', async () => {
    await app();
    const before = Date.now();
    const res = await post({ url: 'https://example.com/t', ttlSeconds: 3600 });
    const after = Date.now();
    expect(res.status).toBe(201);
    const body = await json(res);
    const call = h!.node.createCalls[0]!;
    expect(call.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(call.expiresAt).toBeLessThanOrEqual(after + 3_600_000);
    expect(body.expiresAt).toBe(new Date(call.expiresAt!).toISOString());
  });

  it('expiresAt as ISO 8601 or epoch ms gives the same instant; an expiring create never dedups', async () => {
    await app();
    const at = Date.now() + 86_400_000;
    const iso = await json(
      await post({ url: 'https://example.com/x', expiresAt: new Date(at).toISOString() }),
    );
    const ms = await json(await post({ url: 'https://example.com/x', expiresAt: at }));
    expect(h!.node.createCalls.map((c) => c.expiresAt)).toEqual([at, at]);
    expect(iso.code).not.toBe(ms.code);
    // A plain create of the same URL gets its own, non-expiring code.
    const plain = await json(await post({ url: 'https://example.com/x' }));
    expect(plain).not.toHaveProperty('expiresAt');
    expect([iso.code, ms.code]).not.toContain(plain.code);
  });

  it.each([
    ['a past expiresAt', { expiresAt: '2001-01-01T00:00:00Z' }],
    ['an unparsable expiresAt', { expiresAt: 'tomorrow' }],
    ['an expiresAt on a day that does not exist', { expiresAt: '2030-02-30' }],
    ['an expiresAt date-time without a zone', { expiresAt: '2030-01-31T12:00:00' }],
    ['an expiresAt in a non-ISO form', { expiresAt: 'Thu, 31 Jan 2030 12:00:00 GMT' }],
    ['ttlSeconds 0', { ttlSeconds: 0 }],
    ['a fractional ttlSeconds', { ttlSeconds: 1.5 }],
    ['ttlSeconds as words', { ttlSeconds: 'ten' }],
    ['ttlSeconds beyond ten years', { ttlSeconds: 10 * 366 * 86_400 }],
    ['both ttlSeconds and expiresAt', { ttlSeconds: 60, expiresAt: Date.now() + 60_000 }],
  ])('refuses %s → 400 invalid_expiry', async (_name, extra) => {
    await app();
    const res = await post({ url: 'https://example.com/a', ...extra });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe('invalid_expiry');
    expect(h!.node.createCalls).toHaveLength(0);
  });

  it('an expired code answers 410 Gone JSON on GET, HEAD and /api/urls (compared with the node clock)', async () => {
    await app();
    const expiresAt = Date.now() - 1000;
    h!.node.seed({
      code: 'old0001',
      url: 'https://example.com/old',
      createdAt: expiresAt - 60_000,
      expiresAt,
    });
    const res = await get('/old0001');
    expect(res.status).toBe(410);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('location')).toBeNull();
    expect(await json(res)).toEqual({
      error: 'expired',
      message: expect.any(String),
      expiresAt: new Date(expiresAt).toISOString(),
    });
    const head = await get('/old0001', { method: 'HEAD' });
    expect(head.status).toBe(410);
    expect(await head.text()).toBe('');
    expect((await get('/api/urls/old0001')).status).toBe(410);
  });

  it('a code that has not expired yet redirects and shows its expiresAt', async () => {
    await app();
    const expiresAt = Date.now() + 60_000;
    h!.node.seed({ code: 'new0001', url: 'https://example.com/new', createdAt: Date.now(), expiresAt });
    expect((await get('/new0001')).status).toBe(302);
    expect(await json(await get('/api/urls/new0001'))).toMatchObject({
      expiresAt: new Date(expiresAt).toISOString(),
    });
  });
});

describe('DELETE /api/urls/:code', () => {
  it('→ 204, after which the code is unknown (404); again → 404', async () => {
    await app();
    h!.node.seed({ code: 'del0001', url: 'https://example.com/d', createdAt: 1 });
    const res = await get('/api/urls/del0001', { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(h!.node.deleteCalls).toEqual(['del0001']);
    expect((await get('/del0001')).status).toBe(404);
    expect((await get('/api/urls/del0001')).status).toBe(404);
    const again = await get('/api/urls/del0001', { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect((await json(again)).error).toBe('not_found');
  });

  it('a code that cannot exist → 404 without a proposal', async () => {
    await app();
    const res = await get('/api/urls/' + encodeURIComponent('no.such/code'), { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(h!.node.deleteCalls).toEqual([]);
  });

  it('on a follower → 409 not_leader with the leader to retry at', async () => {
    await app();
    h!.node.fail.delete = new NotLeaderError(2, 'http://127.0.0.1:8082');
    const res = await get('/api/urls/abc1234', { method: 'DELETE' });
    expect(res.status).toBe(409);
    expect(await json(res)).toEqual({
      error: 'not_leader',
      message: expect.any(String),
      leaderId: 2,
      leaderUrl: 'http://127.0.0.1:8082',
    });
  });

  it('needs the API key when one is set, like POST /shorten', async () => {
    await app({ apiKey: 's3cret' });
    h!.node.seed({ code: 'del0002', url: 'https://example.com/d', createdAt: 1 });
    const refused = await get('/api/urls/del0002', { method: 'DELETE' });
    expect(refused.status).toBe(401);
    expect(h!.node.deleteCalls).toEqual([]);
    const ok = await get('/api/urls/del0002', { method: 'DELETE', headers: { 'x-api-key': 's3cret' } });
    expect(ok.status).toBe(204);
  });

  it('other methods on /api/urls/:code → 405 listing PATCH and DELETE', async () => {
    await app();
    const res = await get('/api/urls/abc1234', { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, PATCH, DELETE');
  });
});

describe('Idempotency-Key', () => {
  it('a retry with the same key and body returns the first answer (status, body) and marks it replayed', async () => {
    await app();
    const first = await post(
      { url: 'https://example.com/i', ttlSeconds: 600 },
      { 'idempotency-key': 'key-1' },
    );
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = await json(first);
    const retry = await post(
      { url: 'https://example.com/i', ttlSeconds: 600 },
      { 'idempotency-key': 'key-1' },
    );
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await json(retry)).toEqual(firstBody);
    // Both proposals carried the key and the same fingerprint, though their instants differ.
    const [a, b] = h!.node.createCalls;
    expect(a!.idempotency).toEqual({
      key: 'key-1',
      fingerprint: expect.any(String),
      expiresAt: expect.any(Number),
    });
    expect(b!.idempotency?.fingerprint).toBe(a!.idempotency?.fingerprint);
    expect(a!.idempotency!.expiresAt - a!.createdAt).toBe(24 * 60 * 60_000);
    expect(h!.node.byCode.size).toBe(1);
  });

  it('the key lifetime follows idempotencyTtlMs', async () => {
    await app({ idempotencyTtlMs: 5_000 });
    await post({ url: 'https://example.com/i' }, { 'idempotency-key': 'k' });
    const call = h!.node.createCalls[0]!;
    expect(call.idempotency!.expiresAt - call.createdAt).toBe(5_000);
  });

  it('a replay of a dedup answer is a 200, as the first was', async () => {
    await app();
    await post({ url: 'https://example.com/same' });
    const first = await post({ url: 'https://example.com/same' }, { 'idempotency-key': 'k2' });
    const retry = await post({ url: 'https://example.com/same' }, { 'idempotency-key': 'k2' });
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it('the same key with a different body → 422 idempotency_key_reused', async () => {
    await app();
    await post({ url: 'https://example.com/one' }, { 'idempotency-key': 'k3' });
    for (const other of [
      { url: 'https://example.com/two' },
      { url: 'https://example.com/one', ttlSeconds: 60 },
      { url: 'https://example.com/one', alias: 'abc' },
    ]) {
      const res = await post(other, { 'idempotency-key': 'k3' });
      expect(res.status, JSON.stringify(other)).toBe(422);
      expect((await json(res)).error).toBe('idempotency_key_reused');
    }
  });

  it('a key that is empty or too long → 400 invalid_idempotency_key', async () => {
    await app();
    for (const key of [' ', 'k'.repeat(256)]) {
      const res = await post({ url: 'https://example.com/a' }, { 'idempotency-key': key });
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe('invalid_idempotency_key');
    }
    expect(h!.node.createCalls).toHaveLength(0);
  });
});

describe('redirect status, HEAD and Cache-Control', () => {
  const lasting = { code: 'last001', url: 'https://example.com/l', createdAt: 1 };
  const expiring = () => ({
    code: 'exp0001',
    url: 'https://example.com/e',
    createdAt: 1,
    expiresAt: Date.now() + 60_000,
  });

  it.each([
    [undefined, 302, 'private, max-age=0', 'private, max-age=0'],
    [302, 302, 'private, max-age=0', 'private, max-age=0'],
    [307, 307, 'private, max-age=0', 'private, max-age=0'],
    [301, 301, 'public, max-age=86400', 'private, max-age=0'],
    [308, 308, 'public, max-age=86400', 'private, max-age=0'],
  ] as const)(
    'redirectStatus %s → %s; Cache-Control %s, and %s for an expiring URL',
    async (configured, status, lastingCc, expiringCc) => {
      await app(configured === undefined ? {} : { redirectStatus: configured });
      h!.node.seed(lasting);
      h!.node.seed(expiring());
      for (const method of ['GET', 'HEAD']) {
        const res = await get('/last001', { method });
        expect(res.status).toBe(status);
        expect(res.headers.get('location')).toBe(lasting.url);
        expect(res.headers.get('cache-control')).toBe(lastingCc);
        expect(await res.text()).toBe('');
        const exp = await get('/exp0001', { method });
        expect(exp.status).toBe(status);
        expect(exp.headers.get('cache-control')).toBe(expiringCc);
      }
    },
  );

  it('the max-age of permanent redirects is configurable', async () => {
    await app({ redirectStatus: 308, permanentRedirectMaxAgeSeconds: 600 });
    h!.node.seed(lasting);
    expect((await get('/last001')).headers.get('cache-control')).toBe('public, max-age=600');
  });

  it('refuses any other status at startup', () => {
    const logger = pino({ level: 'silent' });
    expect(() =>
      createHttpApp({ node: new FakeNode(), logger, publicUrl: PUBLIC_URL, redirectStatus: 303 as never }),
    ).toThrow(/redirectStatus must be 301, 302, 307 or 308/);
  });
});
