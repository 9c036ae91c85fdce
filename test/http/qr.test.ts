// GET /api/urls/:code/qr: the image holds the short URL (the PNG is decoded back with jsQR), the
// options change what they say, and a dead link gets its 404/410 instead of a picture.
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, PUBLIC_URL, startApp, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startApp();
  h.node.seed({ code: 'qr1', url: 'https://example.com/printed', createdAt: 0 });
  h.node.seed({ code: 'old', url: 'https://example.com/old', createdAt: 0, expiresAt: 1 });
});
afterEach(async () => {
  await h.close();
});

const get = (path: string, init?: RequestInit) => fetch(h.baseUrl + path, init);

// jsqr is CommonJS whose types declare an ES default export: under Node's ESM rules the function
// is the module itself and also its `default`.
const jsQR = jsqr.default;

async function decodePng(res: Response): Promise<{ text: string | undefined; width: number }> {
  const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return { text: found?.data, width: png.width };
}

describe('GET /api/urls/:code/qr', () => {
  it('PNG: decodes to the short URL', async () => {
    const res = await get('/api/urls/qr1/qr?format=png');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect((await decodePng(res)).text).toBe(`${PUBLIC_URL}/qr1`);
  });

  it('size and level are applied and the code still decodes', async () => {
    const res = await get('/api/urls/qr1/qr?format=png&size=300&level=h&margin=1');
    expect(res.status).toBe(200);
    const { text, width } = await decodePng(res);
    expect(width).toBe(300);
    expect(text).toBe(`${PUBLIC_URL}/qr1`);
  });

  it('SVG by default: an SVG document whose modules change with the code', async () => {
    const res = await get('/api/urls/qr1/qr');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const svg = await res.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="0 0 \d+ \d+"/);
    h.node.seed({ code: 'qr2', url: 'https://example.com/other', createdAt: 0 });
    const other = await (await get('/api/urls/qr2/qr')).text();
    expect(other).not.toBe(svg);
    const sized = await (await get('/api/urls/qr1/qr?format=svg&size=200')).text();
    expect(sized).toMatch(/width="200"/);
  });

  it('HEAD: the headers without a body', async () => {
    const res = await get('/api/urls/qr1/qr?format=png', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(await res.text()).toBe('');
  });

  it('unknown code → 404, expired → 410, bad syntax → 404', async () => {
    expect((await json(await get('/api/urls/nope/qr'))).error).toBe('not_found');
    const expired = await get('/api/urls/old/qr');
    expect(expired.status).toBe(410);
    expect((await json(expired)).error).toBe('expired');
    expect((await get('/api/urls/b%40d/qr')).status).toBe(404);
  });

  it.each(['format=gif', 'size=10', 'size=5000', 'size=12px', 'margin=17', 'margin=-1', 'level=X'])(
    'bad option %s → 400 invalid_qr_option',
    async (query) => {
      const res = await get(`/api/urls/qr1/qr?${query}`);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe('invalid_qr_option');
    },
  );

  it('other methods → 405', async () => {
    const res = await get('/api/urls/qr1/qr', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});
