// POST /api/urls/bulk: every item is a POST /shorten of its own and gets its own answer, in order;
// only a bad list, the write guard or a follower refuse the whole request (and create nothing).
import { describe, expect, it } from 'vitest';
import { BULK_MAX_ITEMS } from '../../src/http/routes/bulk.js';
import { NotLeaderError } from '../../src/domain/errors.js';
import { json, PUBLIC_URL, appsClosedAfterEach, becomeFollower, type Harness } from './harness.js';

const app = appsClosedAfterEach();

function bulk(h: Harness, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(h.baseUrl + '/api/urls/bulk', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

type Result = Record<string, unknown> & { index: number; status: number };
async function results(res: Response): Promise<Result[]> {
  expect(res.status).toBe(200);
  return (await json(res)).results as Result[];
}

describe('POST /api/urls/bulk', () => {
  it('answers each item on its own, in order: created, deduplicated, refused, alias taken', async () => {
    const h = await app();
    const out = await results(
      await bulk(h, {
        urls: [
          'https://example.com/1',
          { url: 'https://example.com/2', alias: 'two' },
          'javascript:alert(1)',
          { url: 'https://example.com/3', alias: 'two' },
          { url: 'https://example.com/4', ttlSeconds: 60 },
          42,
          { url: 'https://example.com/5', alias: 'x' },
        ],
      }),
    );
    expect(out.map((r) => [r.index, r.status, r.error ?? r.code])).toEqual([
      [0, 201, out[0]!.code],
      [1, 201, 'two'],
      [2, 400, 'invalid_url'],
      [3, 409, 'alias_taken'],
      [4, 201, out[4]!.code],
      [5, 400, 'missing_url'],
      [6, 400, 'invalid_alias'],
    ]);
    expect(out[0]).toEqual({
      index: 0,
      status: 201,
      code: expect.any(String),
      shortUrl: `${PUBLIC_URL}/${out[0]!.code}`,
      url: 'https://example.com/1',
    });
    expect(out[4]!.expiresAt).toEqual(expect.any(String));
    expect(h.node.byCode.get('two')?.url).toBe('https://example.com/2');
    // The same URL again (bare array form): the existing code, 200.
    const again = await results(await bulk(h, ['https://example.com/1']));
    expect(again).toEqual([{ ...out[0], status: 200 }]);
  });

  it('a per-item idempotencyKey replays that item', async () => {
    const h = await app();
    const item = { url: 'https://example.com/k', ttlSeconds: 600, idempotencyKey: 'bulk-k-1' };
    const [first] = await results(await bulk(h, [item]));
    const [again] = await results(await bulk(h, [item]));
    expect(first!.status).toBe(201);
    expect(again).toEqual(first);
    const [reused] = await results(await bulk(h, [{ ...item, url: 'https://example.com/other' }]));
    expect(reused).toMatchObject({ status: 422, error: 'idempotency_key_reused' });
    // Proposed three times, applied once.
    expect(h.node.byCode.size).toBe(1);
  });

  it('many items are all created, each with its own code', async () => {
    const h = await app();
    const urls = Array.from({ length: BULK_MAX_ITEMS }, (_, i) => `https://example.com/many/${i}`);
    const out = await results(await bulk(h, { urls }));
    expect(out.map((r) => r.index)).toEqual(urls.map((_, i) => i));
    expect(out.every((r) => r.status === 201)).toBe(true);
    expect(new Set(out.map((r) => r.code)).size).toBe(urls.length);
    expect(out.map((r) => h.node.byCode.get(String(r.code))?.url)).toEqual(urls);
  });

  it.each<[string, unknown]>([
    ['not a list', { url: 'https://example.com/' }],
    ['an empty list', { urls: [] }],
    ['too many items', Array.from({ length: BULK_MAX_ITEMS + 1 }, () => 'https://example.com/')],
  ])('%s → 400 invalid_bulk, nothing created', async (_what, body) => {
    const h = await app();
    const res = await bulk(h, body);
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe('invalid_bulk');
    expect(h.node.createCalls).toEqual([]);
  });

  it('the write guard and a follower refuse the whole request', async () => {
    const h = await app({ apiKey: 'k' });
    expect((await bulk(h, ['https://example.com/'])).status).toBe(401);
    becomeFollower(h.node, 2, 'http://127.0.0.1:8082');
    const res = await bulk(h, ['https://example.com/'], { 'x-api-key': 'k' });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ error: 'not_leader', leaderUrl: 'http://127.0.0.1:8082' });
    expect(h.node.createCalls).toEqual([]);
  });

  it('a failure of the node mid-way is that item’s answer', async () => {
    const h = await app();
    h.node.fail.create = new NotLeaderError(0, null);
    const [r] = await results(await bulk(h, ['https://example.com/']));
    expect(r).toMatchObject({ index: 0, status: 503, error: 'no_leader' });
  });

  it('GET /api/urls/bulk is still the record of a code "bulk" (an alias)', async () => {
    const h = await app();
    h.node.seed({ code: 'bulk', url: 'https://example.com/b', createdAt: 0 });
    const res = await fetch(h.baseUrl + '/api/urls/bulk');
    expect(res.status).toBe(200);
    expect((await json(res)).url).toBe('https://example.com/b');
  });
});
