// The HTTP side of visit statistics: which answers count as a visit (redirects served, GET and
// HEAD, not 404/410), the `visits` field of GET /api/urls/:code, and POST /cluster/visits, the
// internal route a follower sends its batches to (cluster token, validation, body limit, 409 off
// the leader). The batching and apply rules are tested in test/visits and test/shortener.
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpAppOptions } from '../../src/http/app.js';
import { NotLeaderError } from '../../src/domain/errors.js';
import { json, startApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function app(options: Partial<Omit<HttpAppOptions, 'node' | 'logger'>> = {}): Promise<Harness> {
  h = await startApp(options);
  h.node.seed({ code: 'Ab3xYz9', url: 'https://example.com/a', createdAt: 1_700_000_000_000 });
  h.node.seed({ code: 'gone001', url: 'https://example.com/g', createdAt: 5, expiresAt: 10 });
  return h;
}

const get = (path: string, init: RequestInit = {}) =>
  fetch(h!.baseUrl + path, { redirect: 'manual', ...init });

const batch = {
  origin: 2,
  session: 12345,
  seq: 3,
  visits: [
    ['Ab3xYz9', 1_700_000_000_000, 20_413, 4],
    ['alias_1', 17, 20_412, 1],
  ],
};

function postBatch(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(h!.baseUrl + '/cluster/visits', {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

describe('counting redirects', () => {
  it('counts every redirect served, GET and HEAD, with the record it went to', async () => {
    await app();
    expect((await get('/Ab3xYz9')).status).toBe(302);
    expect((await get('/Ab3xYz9', { method: 'HEAD' })).status).toBe(302);
    expect((await get('/Ab3xYz9?consistency=linearizable')).status).toBe(302);
    expect(h!.node.recordedVisits).toEqual(
      Array.from({ length: 3 }, () => ({ code: 'Ab3xYz9', createdAt: 1_700_000_000_000 })),
    );
  });

  it('does not count what is not a redirect: unknown (404), expired (410), metadata reads', async () => {
    await app();
    expect((await get('/nope123')).status).toBe(404);
    expect((await get('/gone001')).status).toBe(410);
    expect((await get('/api/urls/Ab3xYz9')).status).toBe(200);
    expect(h!.node.recordedVisits).toEqual([]);
  });
});

describe('GET /api/urls/:code', () => {
  it('shows the statistics as visits: {total, byDay}', async () => {
    await app();
    h!.node.visitSummaries.set('Ab3xYz9', { total: 7, byDay: { '2026-11-20': 3, '2026-11-21': 4 } });
    const body = await json(await get('/api/urls/Ab3xYz9'));
    expect(body).toMatchObject({
      code: 'Ab3xYz9',
      visits: { total: 7, byDay: { '2026-11-20': 3, '2026-11-21': 4 } },
    });
  });

  it('a code never visited shows zero', async () => {
    await app();
    expect((await json(await get('/api/urls/Ab3xYz9'))).visits).toEqual({ total: 0, byDay: {} });
  });
});

describe('POST /cluster/visits', () => {
  it('hands a valid batch to the node as one command and answers what it counted', async () => {
    await app();
    const res = await postBatch(batch);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ applied: true, counted: 5 });
    expect(h!.node.visitBatches).toEqual([
      {
        type: 'visits',
        origin: 2,
        session: 12345,
        seq: 3,
        visits: [
          { code: 'Ab3xYz9', createdAt: 1_700_000_000_000, day: 20_413, count: 4 },
          { code: 'alias_1', createdAt: 17, day: 20_412, count: 1 },
        ],
      },
    ]);
  });

  it('off the leader → 409 not_leader, so the sender retries the same batch on the leader', async () => {
    await app();
    h!.node.fail.visitBatch = new NotLeaderError(3, 'http://127.0.0.1:8083');
    const res = await postBatch(batch);
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ error: 'not_leader', leaderId: 3 });
  });

  it.each<[string, unknown]>([
    ['no origin', { ...batch, origin: undefined }],
    ['origin 0', { ...batch, origin: 0 }],
    ['a string seq', { ...batch, seq: '3' }],
    ['seq 0', { ...batch, seq: 0 }],
    ['no visits', { ...batch, visits: [] }],
    ['a count of 0', { ...batch, visits: [['Ab3xYz9', 1, 20_000, 0]] }],
    ['a code that cannot exist', { ...batch, visits: [['a/b', 1, 20_000, 1]] }],
    ['a day no Date can show', { ...batch, visits: [['Ab3xYz9', 1, 100_000_001, 1]] }],
    ['an object instead of a tuple', { ...batch, visits: [{ code: 'Ab3xYz9' }] }],
    ['too many counts', { ...batch, visits: Array.from({ length: 5001 }, () => ['Ab3xYz9', 1, 1, 1]) }],
    ['an array body', [batch]],
  ])('refuses %s with 400 and proposes nothing', async (_name, body) => {
    await app();
    const res = await postBatch(body);
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ error: 'invalid_request', message: expect.any(String) });
    expect(h!.node.visitBatches).toEqual([]);
  });

  it('a body over 1 MiB → 413 JSON', async () => {
    await app();
    const res = await postBatch({ ...batch, padding: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(413);
    expect(await json(res)).toEqual({ error: 'payload_too_large', message: expect.any(String) });
  });

  it('with a cluster token: refused without it (401), accepted with it', async () => {
    await app({ clusterToken: 'tok3n' });
    const refused = await postBatch(batch);
    expect(refused.status).toBe(401);
    expect((await json(refused)).error).toBe('unauthorized');
    expect((await postBatch(batch, { 'x-cluster-token': 'wrong' })).status).toBe(401);
    expect((await postBatch(batch, { 'x-cluster-token': 'tok3n' })).status).toBe(200);
    expect(h!.node.visitBatches).toHaveLength(1);
  });

  it('other methods → 405', async () => {
    await app();
    const res = await get('/cluster/visits');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});
