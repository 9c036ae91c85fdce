// A miss is looked up again after the node confirms it is not behind the leader (hits stay
// local); a balancer's readiness check (/readyz/redirects) is apart from /readyz (writes).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, startApp, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startApp();
});
afterEach(async () => {
  await h.close();
});

const late = { code: 'late01', url: 'https://example.com/late', createdAt: 1 };

describe('a miss is checked before its 404', () => {
  it('GET /:code (the hot path): found on the second look → 302', async () => {
    h.node.appearAfterMiss = late;
    const res = await fetch(h.baseUrl + '/late01', { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(late.url);
    expect(h.node.missLookups).toEqual(['late01']);
  });

  it('HEAD /:code and GET /api/urls/:code (Express) do the same', async () => {
    h.node.appearAfterMiss = late;
    expect((await fetch(h.baseUrl + '/late01', { method: 'HEAD', redirect: 'manual' })).status).toBe(302);
    h.node.byCode.delete('late01');
    const meta = await fetch(h.baseUrl + '/api/urls/late01');
    expect(meta.status).toBe(200);
    expect((await json(meta)).url).toBe(late.url);
    expect(h.node.missLookups).toEqual(['late01', 'late01']);
  });

  it('still unknown after the check → 404; a hit never asks', async () => {
    const miss = await fetch(h.baseUrl + '/nothere');
    expect(miss.status).toBe(404);
    expect((await json(miss)).error).toBe('not_found');
    h.node.seed({ code: 'hit001', url: 'https://example.com/hit', createdAt: 1 });
    expect((await fetch(h.baseUrl + '/hit001', { redirect: 'manual' })).status).toBe(302);
    expect(h.node.missLookups).toEqual(['nothere']);
  });

  it('a code that cannot exist (bad syntax, a reserved word) is a 404 without a check', async () => {
    expect((await fetch(h.baseUrl + '/bad%20code')).status).toBe(404);
    expect(h.node.missLookups).toEqual([]);
  });
});

describe('readiness', () => {
  it('/readyz/redirects stays 200 without a leader (election, lost quorum) while /readyz is 503', async () => {
    h.node.ready = false;
    expect((await fetch(h.baseUrl + '/readyz')).status).toBe(503);
    const res = await fetch(h.baseUrl + '/readyz/redirects');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ready' });
  });

  it('/readyz/redirects is 503 with Retry-After when the node cannot serve redirects', async () => {
    h.node.readyForRedirects = false;
    const res = await fetch(h.baseUrl + '/readyz/redirects');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await json(res)).toMatchObject({ status: 'not_ready', error: 'not_ready' });
  });

  it('POST /readyz/redirects → 405', async () => {
    expect((await fetch(h.baseUrl + '/readyz/redirects', { method: 'POST' })).status).toBe(405);
  });
});
