// The ceiling server must do the same HTTP work as the service, or the comparison means nothing.
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startBareServer } from '../../loadtest/bare-server-app.js';
import { Cleanup } from './stub.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function post(url: string, body: string) {
  const res = await request(`${url}/shorten`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, string> };
}

describe('bare Express ceiling server', () => {
  it('shortens (201, then 200 for the same URL), redirects with 302 and 404s unknown codes', async () => {
    const s = cleanup.add(await startBareServer());
    const first = await post(s.url, JSON.stringify({ url: 'https://example.com/a' }));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      url: 'https://example.com/a',
      shortUrl: `${s.url}/${first.body.code}`,
    });
    const again = await post(s.url, JSON.stringify({ url: 'https://example.com/a' }));
    expect(again).toEqual({ status: 200, body: first.body });

    const hit = await request(`${s.url}/${first.body.code}`);
    await hit.body.dump();
    expect(hit.statusCode).toBe(302);
    expect(hit.headers.location).toBe('https://example.com/a');
    const miss = await request(`${s.url}/nope`);
    expect(miss.statusCode).toBe(404);
    expect(await miss.body.json()).toHaveProperty('message');
  });

  it('rejects invalid input with 400 {message}', async () => {
    const s = cleanup.add(await startBareServer());
    for (const body of [
      '{"url":"ftp://x"}',
      '{"url":"not a url"}',
      '{}',
      '{bad json',
      // Over the service's 8 KiB limit (the bare server validates exactly as the service does).
      JSON.stringify({ url: `https://e.com/${'a'.repeat(8200)}` }),
    ]) {
      const r = await post(s.url, body);
      expect(r.status, body).toBe(400);
      expect(r.body.message, body).toBeTruthy();
    }
  });

  it('answers /cluster/status as a one-node leader, so the load tool can target it', async () => {
    const s = cleanup.add(await startBareServer());
    const res = await request(`${s.url}/cluster/status`);
    expect(await res.body.json()).toMatchObject({ role: 'leader', leaderUrl: s.url });
  });
});
