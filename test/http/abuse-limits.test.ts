// Abuse limits of the write API: http(s) only, the host blocklist (a host and its subdomains,
// 403 host_blocked), the per-client write rate limit (429 rate_limited with Retry-After; buckets
// evicted when idle), and 413 on every route that parses a body. Every refusal is the API's JSON
// error shape and proposes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpAppOptions } from '../../src/http/app.js';
import { hostBlocklist, normalizeBlockedHosts } from '../../src/http/host-blocklist.js';
import { addressKey, TokenBuckets } from '../../src/http/rate-limit.js';
import { json, startApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function app(options: Partial<Omit<HttpAppOptions, 'node' | 'logger'>> = {}): Promise<Harness> {
  h = await startApp(options);
  return h;
}

function shorten(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(h!.baseUrl + '/shorten', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

describe('schemes', () => {
  it.each([
    'ftp://example.com/f',
    'javascript:alert(1)',
    'data:text/html,hi',
    'file:///etc/passwd',
    'mailto:a@b.c',
  ])('%s → 400 invalid_url', async (url) => {
    await app();
    const res = await shorten({ url });
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ error: 'invalid_url', message: 'url must use http or https' });
    expect(h!.node.createCalls).toEqual([]);
  });
});

describe("the cluster's own URLs", () => {
  // The harness's public base is http://short.example:8081/; the fake node's one member is
  // http://127.0.0.1:8081.
  it.each([
    'http://short.example:8081/abc1234',
    'http://SHORT.example.:8081/abc1234',
    'http://short.example:8081/',
    'http://127.0.0.1:8081/abc1234',
    'http://127.0.0.1:8081/cluster/status?x=1',
  ])('%s → 400 invalid_url (a redirect loop), proposing nothing', async (url) => {
    await app();
    const res = await shorten({ url });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toBe('invalid_url');
    expect(body.message).toMatch(/redirect in a loop/);
    expect(h!.node.createCalls).toEqual([]);
  });

  it('a link under the short-URL base is refused too', async () => {
    await app({ shortUrlBase: 'https://sho.rt' });
    const res = await shorten({ url: 'https://sho.rt/abc1234' });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe('invalid_url');
    expect(h!.node.createCalls).toEqual([]);
  });

  it("every member's URL is refused, as the node's status lists them", async () => {
    await app();
    h!.node.members = [
      ...h!.node.members,
      { id: 2, httpUrl: 'http://10.0.0.2:8082', raftAddr: '10.0.0.2:9082', voter: true },
    ];
    expect((await shorten({ url: 'http://10.0.0.2:8082/x' })).status).toBe(400);
  });

  it.each([
    'https://short.example:8081/abc', // another scheme
    'http://short.example:8082/abc', // another port
    'http://short.example/abc',
    'http://127.0.0.1:8083/abc',
    'http://example.com/http://short.example:8081/abc',
  ])('%s is another site → 201', async (url) => {
    await app();
    expect((await shorten({ url })).status).toBe(201);
  });
});

describe('blocked hosts', () => {
  const blockedHosts = ['evil.org', 'BAD.example.', '*.spam.test', '192.0.2.7', '2001:db8::1'];

  it.each([
    ['https://evil.org/x', 'evil.org'],
    ['https://www.evil.org/x', 'evil.org'],
    ['https://a.b.EVIL.org./x', 'evil.org'],
    ['http://good.com@evil.org/', 'evil.org'],
    ['https://bad.example/', 'bad.example'],
    ['https://spam.test/', 'spam.test'],
    ['https://x.spam.test:8443/', 'spam.test'],
    ['http://192.0.2.7/', '192.0.2.7'],
    ['http://3221225991/', '192.0.2.7'], // the same address as one number
    ['http://[2001:db8:0::1]/', '[2001:db8::1]'],
  ])('%s → 403 host_blocked (%s)', async (url, host) => {
    await app({ blockedHosts });
    const res = await shorten({ url });
    expect(res.status).toBe(403);
    expect(await json(res)).toEqual({ error: 'host_blocked', message: expect.stringContaining(host), host });
    expect(h!.node.createCalls).toEqual([]);
  });

  it.each([
    'https://notevil.org/',
    'https://evil.org.example.com/',
    'http://10.192.0.2.7.nip.io/',
    'http://192.0.2.8/',
  ])('%s is not blocked', async (url) => {
    await app({ blockedHosts });
    expect((await shorten({ url })).status).toBe(201);
  });

  it('applies to aliases, form bodies and text bodies alike', async () => {
    await app({ blockedHosts });
    expect((await shorten({ url: 'https://evil.org/', alias: 'my-alias' })).status).toBe(403);
    const form = await fetch(h!.baseUrl + '/shorten', {
      method: 'POST',
      body: 'url=https%3A%2F%2Fwww.evil.org%2F',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(403);
    const text = await fetch(h!.baseUrl + '/shorten', {
      method: 'POST',
      body: 'https://evil.org/',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(403);
    expect(h!.node.createCalls).toEqual([]);
  });

  it('normalizes entries and refuses ones that are not hosts', () => {
    expect(
      normalizeBlockedHosts([
        ' Evil.ORG ',
        '.x.test',
        '',
        'evil.org',
        'xn--bcher-kva.example',
        'bücher.example',
      ]),
    ).toEqual(['evil.org', 'x.test', 'xn--bcher-kva.example']);
    for (const bad of ['evil.org/path', 'user@evil.org', 'evil.org:80', 'a b']) {
      expect(() => normalizeBlockedHosts([bad]), bad).toThrow(TypeError);
    }
    expect(hostBlocklist([])('https://evil.org/')).toBeUndefined();
    expect(hostBlocklist(['bücher.example'])('https://www.BÜCHER.example/')).toBe('xn--bcher-kva.example');
  });
});

describe('write rate limit', () => {
  it('is off by default', async () => {
    await app();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => shorten({ url: `https://example.com/${i}` })),
    );
    expect(answers.every((r) => r.status === 201)).toBe(true);
  });

  it('over the burst → 429 rate_limited with Retry-After, for POST /shorten and DELETE alike', async () => {
    await app({ writeRateLimit: { perSecond: 0.5, burst: 2 } });
    expect((await shorten({ url: 'https://example.com/1' })).status).toBe(201);
    expect((await shorten({ url: 'https://example.com/2' })).status).toBe(201);
    const refused = await shorten({ url: 'https://example.com/3' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await json(refused)).toEqual({
      error: 'rate_limited',
      message: expect.stringContaining('retry in 2 s'),
      retryAfterSeconds: 2,
    });
    const del = await fetch(h!.baseUrl + '/api/urls/abcdefg', { method: 'DELETE' });
    expect(del.status).toBe(429);
    expect(h!.node.createCalls).toHaveLength(2);
    expect(h!.node.deleteCalls).toEqual([]);
    // Reads are never limited.
    expect((await fetch(h!.baseUrl + '/api/urls/abcdefg')).status).toBe(404);
  });

  it('a body is not parsed for a refused write (the limit comes first), and a 413 still costs a token', async () => {
    await app({ writeRateLimit: { perSecond: 1, burst: 1 } });
    const big = await shorten({ url: 'https://example.com/' + 'a'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect((await shorten({ url: 'https://example.com/' + 'a'.repeat(20_000) })).status).toBe(429);
  });

  it('with an API key: a request without the key gets 401 and spends no token', async () => {
    await app({ apiKey: 'k3y', writeRateLimit: { perSecond: 1, burst: 1 } });
    for (let i = 0; i < 3; i++) expect((await shorten({ url: 'https://example.com/x' })).status).toBe(401);
    expect((await shorten({ url: 'https://example.com/x' }, { 'x-api-key': 'k3y' })).status).toBe(201);
    expect((await shorten({ url: 'https://example.com/y' }, { 'x-api-key': 'k3y' })).status).toBe(429);
    // The same key sent another way is the same client.
    expect((await shorten({ url: 'https://example.com/y' }, { authorization: 'Bearer k3y' })).status).toBe(
      429,
    );
  });

  it('does not apply to cluster endpoints', async () => {
    await app({ writeRateLimit: { perSecond: 1, burst: 1 } });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(h!.baseUrl + '/cluster/join', {
        method: 'POST',
        body: JSON.stringify({
          id: 10 + i,
          httpUrl: `http://127.0.0.1:${9000 + i}`,
          raftAddr: '127.0.0.1:9999',
        }),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
    }
  });
});

describe('TokenBuckets', () => {
  function buckets(perSecond: number, burst: number, maxBuckets = 100) {
    const clock = { now: 0 };
    return { clock, b: new TokenBuckets({ perSecond, burst }, maxBuckets, () => clock.now) };
  }

  it('allows a burst, then perSecond on average, and says how long to wait', () => {
    const { clock, b } = buckets(2, 3);
    expect([1, 2, 3].map(() => b.take('ip').ok)).toEqual([true, true, true]);
    expect(b.take('ip')).toEqual({ ok: false, retryAfterSeconds: 1 });
    clock.now = 499;
    expect(b.take('ip').ok).toBe(false);
    clock.now = 500;
    expect(b.take('ip').ok).toBe(true);
    expect(b.take('other').ok).toBe(true); // clients are independent
  });

  it('defaults the burst to the rate rounded up, at least 1', () => {
    expect(new TokenBuckets({ perSecond: 2.5 }).burst).toBe(3);
    expect(new TokenBuckets({ perSecond: 0.2 }).burst).toBe(1);
    expect(() => new TokenBuckets({ perSecond: 0 })).toThrow(RangeError);
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });

  it('forgets buckets idle long enough to be full again, so memory does not grow with clients seen', () => {
    const { clock, b } = buckets(10, 5); // full again after 500 ms
    for (let i = 0; i < 50; i++) b.take(`client-${i}`);
    expect(b.size).toBe(50);
    clock.now = 800;
    b.take('recent');
    clock.now = 1_100; // the 50 are 1.1 s idle, "recent" 0.3 s
    b.take('new');
    expect(b.size).toBe(2);
    clock.now = 1_150;
    expect(b.take('recent').ok).toBe(true);
  });

  it('holds at most maxBuckets, dropping the least recently used first', () => {
    const { clock, b } = buckets(1, 1, 3);
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      b.take(key);
      clock.now += 1;
    }
    expect(b.size).toBe(3);
    // "e" is remembered (refused), "a" was dropped (a fresh, full bucket).
    expect(b.take('e').ok).toBe(false);
    expect(b.take('a').ok).toBe(true);
  });
});

describe('client keys', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s → %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});

describe('body limits', () => {
  it('POST /cluster/join over the limit → 413 JSON', async () => {
    await app();
    const res = await fetch(h!.baseUrl + '/cluster/join', {
      method: 'POST',
      body: JSON.stringify({ id: 9, httpUrl: 'http://127.0.0.1:1', raftAddr: 'x'.repeat(20_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(await json(res)).toEqual({
      error: 'payload_too_large',
      message: expect.stringContaining('16384'),
    });
  });
});
