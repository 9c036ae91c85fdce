// --short-url-base: shortUrl, the web page and the OpenAPI servers name the service's public
// address; leaderUrl (a node's own address) is untouched.
import { afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/domain/errors.js';
import { normalizeBaseUrl, ownBaseUrls } from '../../src/http/short-url.js';
import { json, PUBLIC_URL, startApp, type Harness } from './harness.js';

const BASE = 'https://sho.rt';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('short-URL base', () => {
  it('POST /shorten and GET /api/urls/:code build shortUrl from the public base', async () => {
    h = await startApp({ shortUrlBase: BASE + '/' });
    const res = await fetch(h.baseUrl + '/shorten', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com/a' }),
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.shortUrl).toBe(`${BASE}/${String(body.code)}`);
    const meta = await json(await fetch(`${h.baseUrl}/api/urls/${String(body.code)}`));
    expect(meta.shortUrl).toBe(`${BASE}/${String(body.code)}`);
  });

  it("a browser's form post gets a page showing the public short URL", async () => {
    h = await startApp({ shortUrlBase: BASE });
    const res = await fetch(h.baseUrl + '/shorten', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'url=' + encodeURIComponent('https://example.com/page'),
    });
    expect(res.status).toBe(201);
    const html = await res.text();
    expect(html).toMatch(new RegExp(`value="${BASE}/[0-9A-Za-z_-]+"`));
    expect(html).not.toContain(PUBLIC_URL);
  });

  it('OpenAPI lists the public base first, then this node', async () => {
    h = await startApp({ shortUrlBase: BASE });
    const doc = await json(await fetch(h.baseUrl + '/openapi.json'));
    expect(doc.servers).toEqual([
      { url: BASE, description: expect.stringContaining('service') },
      { url: PUBLIC_URL, description: 'This node' },
    ]);
  });

  it("a follower's 409 still names the leader's own URL, not the public base", async () => {
    h = await startApp({ shortUrlBase: BASE });
    h.node.fail.create = new NotLeaderError(2, 'http://10.0.0.2:8080');
    const res = await fetch(h.baseUrl + '/shorten', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com/b' }),
    });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ leaderId: 2, leaderUrl: 'http://10.0.0.2:8080' });
  });

  it('refuses a base that is not an http(s) URL or carries a query', () => {
    expect(() => normalizeBaseUrl('sho.rt:80', '--short-url-base')).toThrow(/--short-url-base must be/);
    expect(() => normalizeBaseUrl('ftp://sho.rt')).toThrow(TypeError);
    expect(() => normalizeBaseUrl('https://sho.rt/?a=1')).toThrow(/query/);
    expect(normalizeBaseUrl('https://sho.rt/s/')).toBe('https://sho.rt/s');
  });

  it("ownBaseUrls lists the cluster's own bases once each, normalized", () => {
    expect(ownBaseUrls({ shortUrlBase: 'https://sho.rt/', publicUrl: 'http://10.0.0.1:8080' })).toEqual([
      'https://sho.rt',
      'http://10.0.0.1:8080',
    ]);
    expect(ownBaseUrls({ publicUrl: 'http://10.0.0.1:8080/' })).toEqual(['http://10.0.0.1:8080']);
  });
});
