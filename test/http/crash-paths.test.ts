// A stored value the HTTP layer cannot send (a Location with characters no header may carry, a
// createdAt no Date can show) answers a JSON 500 on every path that reads it, and the server goes
// on answering. The stores' own checks keep such values out; this is the last line if one gets in
// (an old snapshot, a bug): an exception thrown while answering must never end the process.
import { afterEach, describe, expect, it } from 'vitest';
import { json, startApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const UNSENDABLE_URLS = [
  ['a line break', 'https://example.com/a\r\nSet-Cookie: x=1'],
  ['a control character', 'https://example.com/a\u0001b'],
  ['a character outside Latin-1', 'https://example.com/\u20ac'],
];

describe('stored values that cannot be sent', () => {
  it.each(UNSENDABLE_URLS)(
    'a URL with %s: 500 JSON on the hot GET, the Express GET and HEAD; the node stays up',
    async (_name, url) => {
      h = await startApp();
      h.node.seed({ code: 'bad0001', url, createdAt: Date.now() });
      h.node.seed({ code: 'good001', url: 'https://example.com/fine', createdAt: Date.now() });
      for (const path of ['/bad0001', '/bad0001?consistency=local']) {
        const res = await fetch(h.baseUrl + path, { redirect: 'manual' });
        expect(res.status, path).toBe(500);
        expect(res.headers.get('location'), path).toBeNull();
        expect(await json(res)).toEqual({ error: 'internal', message: 'internal server error' });
      }
      const head = await fetch(h.baseUrl + '/bad0001', { method: 'HEAD', redirect: 'manual' });
      expect(head.status).toBe(500);
      // Logged with its stack, as every unexpected error is.
      expect(h.logs.some((l) => l.msg === 'request failed with an unexpected error')).toBe(true);
      // The same server still serves the next request.
      const good = await fetch(h.baseUrl + '/good001', { redirect: 'manual' });
      expect(good.status).toBe(302);
      expect(good.headers.get('location')).toBe('https://example.com/fine');
    },
  );

  it('a createdAt no Date can show: the metadata answers 500 JSON, the redirect still works', async () => {
    h = await startApp();
    h.node.seed({ code: 'odd0001', url: 'https://example.com/odd', createdAt: 1e20 });
    const meta = await fetch(h.baseUrl + '/api/urls/odd0001');
    expect(meta.status).toBe(500);
    expect((await json(meta)).error).toBe('internal');
    const res = await fetch(h.baseUrl + '/odd0001', { redirect: 'manual' });
    expect(res.status).toBe(302);
  });
});
