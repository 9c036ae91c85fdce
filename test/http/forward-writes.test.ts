// --forward-writes on a follower: the leader's answer comes back as it is, with the same
// idempotency and error semantics; the hop's own failures are told apart. Two apps on real ports:
// the "follower" (whose node would answer 409) and the "leader".
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FORWARDED_HEADER } from '../../src/http/forward-writes.js';
import { NotLeaderError } from '../../src/domain/errors.js';
import { json, startApp, type Harness } from './harness.js';

const started: Harness[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.close()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function leaderApp(): Promise<Harness> {
  const h = await startApp();
  started.push(h);
  return h;
}

/** A follower whose own node refuses writes with 409, forwarding to `leader()`. */
async function followerOf(leader: () => { id: number; url: string } | undefined): Promise<Harness> {
  const h = await startApp({ forwardWrites: { nodeId: 3, leader, timeoutMs: 2_000 } });
  h.node.fail.create = new NotLeaderError(1, 'http://unused.invalid');
  h.node.fail.delete = new NotLeaderError(1, 'http://unused.invalid');
  started.push(h);
  return h;
}

function post(base: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + '/shorten', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** A server that records what it was sent and answers with `answer`. */
async function recorder(answer: { status: number; body: object }): Promise<{
  url: string;
  seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }>;
}> {
  const seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'application/json', 'x-from': 'recorder' });
      res.end(JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('forward-writes', () => {
  it("a follower returns the leader's 201; the write was made on the leader only", async () => {
    const leader = await leaderApp();
    const follower = await followerOf(() => ({ id: 1, url: leader.baseUrl }));
    const res = await post(follower.baseUrl, { url: 'https://example.com/f1' });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(leader.node.byCode.get(String(body.code))?.url).toBe('https://example.com/f1');
    expect(follower.node.createCalls).toEqual([]);
  });

  it('keeps idempotency: a retry replays the first answer, another request with the key is a 422', async () => {
    const leader = await leaderApp();
    const follower = await followerOf(() => ({ id: 1, url: leader.baseUrl }));
    const key = { 'idempotency-key': 'k-forward-1' };
    const first = await post(follower.baseUrl, { url: 'https://example.com/i' }, key);
    const again = await post(follower.baseUrl, { url: 'https://example.com/i' }, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await json(again)).code).toBe((await json(first)).code);
    const reused = await post(follower.baseUrl, { url: 'https://example.com/other' }, key);
    expect(reused.status).toBe(422);
    expect((await json(reused)).error).toBe('idempotency_key_reused');
  });

  it("relays the leader's errors as they are (400 with the same body)", async () => {
    const leader = await leaderApp();
    const follower = await followerOf(() => ({ id: 1, url: leader.baseUrl }));
    const direct = await post(leader.baseUrl, { url: 'javascript:alert(1)' });
    const forwarded = await post(follower.baseUrl, { url: 'javascript:alert(1)' });
    expect(forwarded.status).toBe(400);
    expect(await json(forwarded)).toEqual(await json(direct));
  });

  it('forwards DELETE /api/urls/:code', async () => {
    const leader = await leaderApp();
    leader.node.seed({ code: 'gone1', url: 'https://example.com/g', createdAt: 1 });
    const follower = await followerOf(() => ({ id: 1, url: leader.baseUrl }));
    const res = await fetch(follower.baseUrl + '/api/urls/gone1', { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(leader.node.byCode.has('gone1')).toBe(false);
  });

  it("sends the body and the client's headers, the client's address in X-Forwarded-For, and a marker", async () => {
    const rec = await recorder({ status: 201, body: { code: 'abc' } });
    const follower = await followerOf(() => ({ id: 1, url: rec.url }));
    const res = await post(
      follower.baseUrl,
      { url: 'https://example.com/h' },
      { 'idempotency-key': 'k-h', 'x-forwarded-for': '203.0.113.9', 'x-cluster-token': 'forged' },
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('x-from')).toBe('recorder');
    expect(rec.seen).toHaveLength(1);
    const [seen] = rec.seen;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/shorten');
    expect(JSON.parse(seen.body)).toEqual({ url: 'https://example.com/h' });
    expect(seen.headers['idempotency-key']).toBe('k-h');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['x-forwarded-for']).toMatch(/^203\.0\.113\.9, (::ffff:)?127\.0\.0\.1$/);
    expect(seen.headers[FORWARDED_HEADER]).toBe('3');
    // The client's own token is never passed on; this follower has none to add.
    expect(seen.headers['x-cluster-token']).toBeUndefined();
  });

  it('follows one 409 not_leader to the leader it names', async () => {
    const leader = await leaderApp();
    const stale = await recorder({
      status: 409,
      body: { error: 'not_leader', message: 'moved', leaderId: 2, leaderUrl: leader.baseUrl },
    });
    const follower = await followerOf(() => ({ id: 1, url: stale.url }));
    const res = await post(follower.baseUrl, { url: 'https://example.com/moved' });
    expect(res.status).toBe(201);
    expect(stale.seen).toHaveLength(1);
    expect(leader.node.createCalls).toHaveLength(1);
  });

  it('a leader that cannot be reached: 503 leader_unreachable with Retry-After', async () => {
    const gone = await recorder({ status: 200, body: {} });
    servers[0].close();
    await once(servers[0], 'close');
    const follower = await followerOf(() => ({ id: 1, url: gone.url }));
    const res = await post(follower.baseUrl, { url: 'https://example.com/u' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await json(res)).error).toBe('leader_unreachable');
  });

  it('a write that arrives forwarded already is answered here (no second hop)', async () => {
    const rec = await recorder({ status: 201, body: {} });
    const follower = await followerOf(() => ({ id: 1, url: rec.url }));
    const res = await post(follower.baseUrl, { url: 'https://example.com/x' }, { [FORWARDED_HEADER]: '2' });
    expect(res.status).toBe(409);
    expect((await json(res)).error).toBe('not_leader');
    expect(rec.seen).toEqual([]);
  });

  it('reads stay local, and the leader itself (leader() undefined) answers writes itself', async () => {
    const rec = await recorder({ status: 201, body: {} });
    let leads = false;
    const node = await followerOf(() => (leads ? undefined : { id: 1, url: rec.url }));
    node.node.seed({ code: 'here1', url: 'https://example.com/here', createdAt: 1 });
    const read = await fetch(node.baseUrl + '/here1', { redirect: 'manual' });
    expect(read.status).toBe(302);
    leads = true;
    node.node.fail.create = undefined;
    expect((await post(node.baseUrl, { url: 'https://example.com/self' })).status).toBe(201);
    expect(rec.seen).toEqual([]);
  });

  it('a body over the limit is refused with 413 before anything is sent', async () => {
    const rec = await recorder({ status: 201, body: {} });
    const follower = await followerOf(() => ({ id: 1, url: rec.url }));
    const res = await post(follower.baseUrl, { url: 'https://example.com/' + 'a'.repeat(20_000) });
    expect(res.status).toBe(413);
    expect((await json(res)).error).toBe('payload_too_large');
    expect(rec.seen).toEqual([]);
  });
});
