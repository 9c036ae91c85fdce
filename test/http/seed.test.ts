// POST / — the Go shortener's contract: the raw body is the long URL, whatever the Content-Type,
// and the answer is {"url": <short>, "redirectsTo": <long>}. Underneath it is POST /shorten.
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/domain/errors.js';
import { json, PUBLIC_URL, appsClosedAfterEach } from './harness.js';

const app = appsClosedAfterEach();

function postRoot(base: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + '/', { method: 'POST', body, headers });
}

describe('POST / (the seed contract)', () => {
  it('raw body without a Content-Type (a vegeta target) → 201 {url, redirectsTo}', async () => {
    const h = await app();
    // fetch adds text/plain to a string body; a Blob without a type sends no Content-Type at all.
    const res = await fetch(h.baseUrl + '/', { method: 'POST', body: new Blob(['https://Example.com/a']) });
    expect(res.status).toBe(201);
    const body = await json(res);
    const [code] = [...h.node.byCode.keys()];
    if (code === undefined) throw new Error('nothing was created');
    expect(body).toEqual({ url: `${PUBLIC_URL}/${code}`, redirectsTo: 'https://example.com/a' });
    expect(h.node.byCode.get(code)?.url).toBe('https://example.com/a');
  });

  it("curl -d's form Content-Type is not parsed as a form: the body is the URL", async () => {
    const h = await app();
    const res = await postRoot(h.baseUrl, 'https://example.com/q?a=1&b=2\n', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(201);
    expect((await json(res)).redirectsTo).toBe('https://example.com/q?a=1&b=2');
  });

  it('the same URL again → 200 with the same short URL (as /shorten)', async () => {
    const h = await app();
    const first = await json(await postRoot(h.baseUrl, 'https://example.com/same'));
    const again = await postRoot(h.baseUrl, 'https://example.com/same');
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual(first);
  });

  it('no body → 400 missing_url; a bad URL → 400 invalid_url; nothing is proposed', async () => {
    const h = await app();
    const empty = await fetch(h.baseUrl + '/', { method: 'POST' });
    expect(empty.status).toBe(400);
    expect((await json(empty)).error).toBe('missing_url');
    const blank = await postRoot(h.baseUrl, '  \n');
    expect(blank.status).toBe(400);
    const bad = await postRoot(h.baseUrl, 'javascript:alert(1)');
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toBe('invalid_url');
    expect(h.node.createCalls).toEqual([]);
  });

  it('the write rules of /shorten: API key (401), body limit (413), follower (409 with leaderUrl)', async () => {
    const h = await app({ apiKey: 'k', maxBodyBytes: 100 });
    expect((await postRoot(h.baseUrl, 'https://example.com/')).status).toBe(401);
    const auth = { 'x-api-key': 'k' };
    expect((await postRoot(h.baseUrl, 'https://example.com/' + 'x'.repeat(200), auth)).status).toBe(413);
    h.node.fail.create = new NotLeaderError(2, 'http://127.0.0.1:8082');
    const refused = await postRoot(h.baseUrl, 'https://example.com/', auth);
    expect(refused.status).toBe(409);
    expect(await json(refused)).toMatchObject({ error: 'not_leader', leaderUrl: 'http://127.0.0.1:8082' });
  });

  it('an Idempotency-Key replays the first answer', async () => {
    const h = await app();
    const key = { 'idempotency-key': 'seed-1' };
    const first = await postRoot(h.baseUrl, 'https://example.com/i', key);
    const again = await postRoot(h.baseUrl, 'https://example.com/i', key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await json(again)).toEqual(await json(first));
  });

  it('with --forward-writes a follower passes it to the leader and returns its answer', async () => {
    const leader = await app();
    const follower = await app({
      forwardWrites: { nodeId: 3, leader: () => ({ id: 1, url: leader.baseUrl }), timeoutMs: 2_000 },
    });
    follower.node.fail.create = new NotLeaderError(1, leader.baseUrl);
    const res = await postRoot(follower.baseUrl, 'https://example.com/fwd', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(201);
    expect((await json(res)).redirectsTo).toBe('https://example.com/fwd');
    expect(leader.node.createCalls).toHaveLength(1);
    expect(follower.node.createCalls).toEqual([]);
  });

  it('with --forward-writes a follower passes POST /api/urls/bulk (over the usual body limit) on too', async () => {
    const leader = await app();
    const follower = await app({
      forwardWrites: { nodeId: 3, leader: () => ({ id: 1, url: leader.baseUrl }), timeoutMs: 2_000 },
    });
    const urls = Array.from({ length: 300 }, (_, i) => `https://example.com/forwarded-bulk/${i}`);
    const res = await fetch(follower.baseUrl + '/api/urls/bulk', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ urls }),
    });
    expect(res.status).toBe(200);
    const { results } = (await json(res)) as { results: Array<{ status: number }> };
    expect(results.filter((r) => r.status === 201)).toHaveLength(urls.length);
    expect(leader.node.byCode.size).toBe(urls.length);
    expect(follower.node.createCalls).toEqual([]);
  });

  it('other methods of / are a 405 that names POST', async () => {
    const h = await app();
    const res = await fetch(h.baseUrl + '/', { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
  });
});
