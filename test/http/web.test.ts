// The web page over HTTP (the browser itself is in test/browser/): GET / is the page, a browser's
// form post to /shorten gets a page (a follower's: a 307 to the leader), API clients keep their
// JSON, values echoed into pages are escaped, and CORS is open to the cluster's members only.
import { afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/domain/errors.js';
import { json, startApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const formPost = (body: string, accept = BROWSER_ACCEPT) => ({
  method: 'POST',
  body,
  headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
  redirect: 'manual' as const,
});

describe('GET /', () => {
  it('is the page: a form posting to /shorten, with a strict Content-Security-Policy', async () => {
    h = await startApp();
    const res = await fetch(h.baseUrl + '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-/);
    const page = await res.text();
    expect(page).toContain('<form id="shorten-form" method="post" action="/shorten">');
    expect(page).toContain('name="url"');
    expect(page).toContain('name="alias"');
    expect(page).not.toContain('id="api-key"');
  });

  it('shows an API key field (never a form field) when the node needs one', async () => {
    h = await startApp({ apiKey: 'k' });
    const page = await (await fetch(h.baseUrl + '/')).text();
    expect(page).toContain('<input id="api-key" type="password" autocomplete="off">');
  });

  it('other methods → 405 JSON', async () => {
    h = await startApp();
    const res = await fetch(h.baseUrl + '/', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(await json(res)).toMatchObject({ error: 'method_not_allowed' });
  });
});

describe('a browser form post to /shorten', () => {
  it('gets the page with the short URL', async () => {
    h = await startApp();
    const res = await fetch(
      h.baseUrl + '/shorten',
      formPost('url=https%3A%2F%2Fexample.com%2Fa&alias=my-link'),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const page = await res.text();
    expect(page).toContain('value="http://short.example:8081/my-link"');
    expect(page).toContain('href="https://example.com/a"');
    expect(page).not.toMatch(/<section id="result"[^>]*hidden/);
  });

  it('an error is a readable sentence on the page, with the form filled in again (escaped)', async () => {
    h = await startApp();
    h.node.seed({ code: 'taken', url: 'https://example.com/', createdAt: 0, alias: true });
    const res = await fetch(
      h.baseUrl + '/shorten',
      formPost(`url=${encodeURIComponent('https://example.com/"><script>x</script>')}&alias=taken`),
    );
    expect(res.status).toBe(409);
    const page = await res.text();
    expect(page).toContain('<p id="error" role="alert">The alias &#34;taken&#34; is already taken.</p>');
    expect(page).toContain('value="https://example.com/&#34;&#62;&#60;script&#62;x&#60;/script&#62;"');
    expect(page).not.toContain('"><script>x');
  });

  it('on a follower: 307 to the leader’s /shorten, so the browser posts the form there', async () => {
    h = await startApp();
    h.node.fail.create = new NotLeaderError(2, 'http://127.0.0.1:8082/');
    const res = await fetch(h.baseUrl + '/shorten', formPost('url=https%3A%2F%2Fexample.com%2F'));
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('http://127.0.0.1:8082/shorten');
  });

  it('API clients keep their JSON: */*, application/json, or JSON preferred over HTML', async () => {
    h = await startApp();
    for (const accept of ['*/*', 'application/json', 'application/json, text/html;q=0.5']) {
      const res = await fetch(
        h.baseUrl + '/shorten',
        formPost(`url=https%3A%2F%2Fexample.com%2F${accept.length}`, accept),
      );
      expect(res.status, accept).toBe(201);
      expect(await json(res)).toMatchObject({ code: expect.any(String) });
    }
    h.node.fail.create = new NotLeaderError(2, 'http://127.0.0.1:8082');
    const res = await fetch(h.baseUrl + '/shorten', formPost('url=https%3A%2F%2Fexample.com%2F', '*/*'));
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ error: 'not_leader', leaderUrl: 'http://127.0.0.1:8082' });
  });
});

describe('CORS on /shorten', () => {
  // The FakeNode's only member is http://127.0.0.1:8081.
  const member = 'http://127.0.0.1:8081';

  it('a member’s page may post here and read the answer', async () => {
    h = await startApp();
    const preflight = await fetch(h.baseUrl + '/shorten', {
      method: 'OPTIONS',
      headers: {
        origin: member,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(member);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');

    const res = await fetch(h.baseUrl + '/shorten', {
      method: 'POST',
      body: JSON.stringify({ url: 'https://example.com/' }),
      headers: { origin: member, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe(member);
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('any other origin gets no CORS headers, and its preflight a 405', async () => {
    h = await startApp();
    const origin = 'https://evil.example';
    const preflight = await fetch(h.baseUrl + '/shorten', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(405);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const res = await fetch(h.baseUrl + '/shorten', {
      method: 'POST',
      body: 'url=https%3A%2F%2Fexample.com%2F',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
