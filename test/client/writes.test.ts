// The client's writes against fake nodes: following 409 not-leader (and remembering the leader),
// telling alias_taken apart, retrying with the same Idempotency-Key after a timeout, a refused
// connection or a 503, bounded attempts, and deletes.
import { afterEach, describe, expect, it } from 'vitest';
import {
  AliasTakenError,
  ApiError,
  NetworkError,
  NotLeaderError,
  ShortenerClient,
  type ShortenerClientOptions,
} from '../../src/client/index.js';
import { created, deadNodeUrl, json, startFakeNode, type FakeNode } from './fake-server.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function node(handler: Parameters<typeof startFakeNode>[0]): Promise<FakeNode> {
  const n = await startFakeNode(handler);
  open.push(n);
  return n;
}

function client(options: ShortenerClientOptions): ShortenerClient {
  // No waiting in tests: the jitter draws 0, so only a Retry-After floor delays a retry.
  const c = new ShortenerClient({ random: () => 0, ...options });
  open.push(c);
  return c;
}

const notLeader = (leaderUrl: string) => ({
  error: 'not_leader',
  message: 'this node is not the leader; send writes to node 1',
  leaderId: 1,
  leaderUrl,
});

describe('following the leader', () => {
  it('follows a 409 to its leaderUrl, counts the hop, and sends later writes straight there', async () => {
    const leader = await node((_req, res, i) => json(res, 201, created(`c${i}`)));
    const follower = await node((_req, res) => json(res, 409, notLeader(leader.url)));
    const c = client({ nodes: [follower.url, leader.url] });

    const first = await c.create('https://example.com/a');
    expect(first).toMatchObject({ code: 'c0', created: true, hops: 1, attempts: 1, node: leader.url });
    expect(first.exchanges.map((e) => [e.node, e.status])).toEqual([
      [follower.url, 409],
      [leader.url, 201],
    ]);
    expect(c.leaderUrl).toBe(leader.url);

    const second = await c.create('https://example.com/b');
    expect(second).toMatchObject({ code: 'c1', hops: 0 });
    expect(follower.received).toHaveLength(1);
    // The body and key reached the leader unchanged.
    expect(JSON.parse(leader.received[0].body)).toEqual({ url: 'https://example.com/a' });
    expect(leader.received[0].headers['idempotency-key']).toBe(
      follower.received[0].headers['idempotency-key'],
    );
  });

  it('alias_taken is a 409 too, but not a redirect: no hop, an AliasTakenError', async () => {
    const leader = await node((_req, res) =>
      json(res, 409, { error: 'alias_taken', message: 'the alias "promo" is already taken', alias: 'promo' }),
    );
    const c = client({ nodes: [leader.url] });
    const err = await c.create('https://example.com/', { alias: 'promo' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AliasTakenError);
    expect(err).toMatchObject({
      status: 409,
      errorCode: 'alias_taken',
      alias: 'promo',
      hops: 0,
      attempts: 1,
    });
    expect(leader.received).toHaveLength(1);
    expect(JSON.parse(leader.received[0].body)).toEqual({ url: 'https://example.com/', alias: 'promo' });
  });

  it('gives up after maxLeaderHops when 409s point in a circle: NotLeaderError', async () => {
    const nodes: FakeNode[] = [];
    for (let k = 0; k < 2; k++)
      nodes.push(await node((_req, res) => json(res, 409, notLeader(nodes[1 - k].url))));
    const c = client({ nodes: nodes.map((n) => n.url), maxLeaderHops: 3, retry: false });
    const err = await c.create('https://example.com/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect(err).toMatchObject({ hops: 3, attempts: 1 });
    expect(nodes[0].received.length + nodes[1].received.length).toBe(4);
  });
});

describe('retries', () => {
  it('after a timeout, retries with the SAME Idempotency-Key and returns the replayed answer', async () => {
    const leader = await node((req, res, i) => {
      if (i === 0) return; // the first attempt never gets an answer
      json(res, 201, created('k1'), { 'idempotent-replayed': 'true' });
    });
    const c = client({ nodes: [leader.url], timeoutMs: 200 });
    const r = await c.create('https://example.com/slow', { ttlSeconds: 60 });
    expect(r).toMatchObject({ code: 'k1', replayed: true, attempts: 2 });
    const keys = leader.received.map((q) => q.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(r.idempotencyKey).toBe(keys[0]);
    expect(leader.received[1].body).toBe(leader.received[0].body);
  });

  it('a caller-chosen key is sent on every attempt', async () => {
    const leader = await node((_req, res, i) =>
      i < 2
        ? json(res, 503, { error: 'no_leader', message: 'no leader is known' })
        : json(res, 201, created('z')),
    );
    const c = client({ nodes: [leader.url] });
    await c.create('https://example.com/', { idempotencyKey: 'order-42' });
    expect(leader.received.map((q) => q.headers['idempotency-key'])).toEqual([
      'order-42',
      'order-42',
      'order-42',
    ]);
  });

  it('a refused connection moves to the next node, which redirects to the leader', async () => {
    const dead = await deadNodeUrl();
    const leader = await node((_req, res) => json(res, 201, created('x')));
    const follower = await node((_req, res) => json(res, 409, notLeader(leader.url)));
    const c = client({ nodes: [dead, follower.url, leader.url] });
    const r = await c.create('https://example.com/');
    expect(r).toMatchObject({ code: 'x', attempts: 2, hops: 1, node: leader.url });
    expect(r.exchanges.map((e) => e.status)).toEqual([0, 409, 201]);
  });

  it('503 honours Retry-After as the least wait; attempts are bounded', async () => {
    const leader = await node((_req, res) =>
      json(res, 503, { error: 'no_leader', message: 'no leader is known' }, { 'retry-after': '0' }),
    );
    const c = client({ nodes: [leader.url], retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const err = await c.create('https://example.com/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 503, errorCode: 'no_leader', attempts: 3 });
    expect(leader.received).toHaveLength(3);
  });

  it('retry: false sends one attempt and no Idempotency-Key', async () => {
    const leader = await node(() => undefined); // never answers
    const c = client({ nodes: [leader.url], timeoutMs: 100, retry: false });
    const err = await c.create('https://example.com/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).toMatchObject({ kind: 'timeout', attempts: 1 });
    expect(leader.received).toHaveLength(1);
    expect(leader.received[0].headers['idempotency-key']).toBeUndefined();
  });

  it('400s are not retried', async () => {
    const leader = await node((_req, res) => json(res, 400, { error: 'invalid_url', message: 'bad' }));
    const c = client({ nodes: [leader.url] });
    await expect(c.create('ftp://x')).rejects.toMatchObject({ status: 400, errorCode: 'invalid_url' });
    expect(leader.received).toHaveLength(1);
  });

  it('findLeader is asked when a node is gone, and its answer is a hop, not a retry', async () => {
    const dead = await deadNodeUrl();
    const leader = await node((_req, res) => json(res, 201, created('f')));
    const asked: string[] = [];
    const c = client({
      nodes: [dead, leader.url],
      retry: false,
      findLeader: async (failed) => {
        asked.push(failed);
        return leader.url;
      },
    });
    const r = await c.create('https://example.com/');
    expect(asked).toEqual([dead]);
    expect(r).toMatchObject({ hops: 1, attempts: 1, node: leader.url });
  });
});

describe('sending', () => {
  it('sends the options as JSON and the API key as a Bearer token', async () => {
    const leader = await node((_req, res) =>
      json(res, 201, { ...created('e'), expiresAt: '2030-01-01T00:00:00.000Z' }),
    );
    const c = client({ nodes: [leader.url], apiKey: 's3cret' });
    const r = await c.create('https://example.com/', { expiresAt: new Date('2030-01-01T00:00:00Z') });
    expect(r.expiresAt).toBe('2030-01-01T00:00:00.000Z');
    const q = leader.received[0];
    expect(q).toMatchObject({ method: 'POST', path: '/shorten' });
    expect(q.headers).toMatchObject({
      authorization: 'Bearer s3cret',
      'content-type': 'application/json',
      accept: 'application/json',
    });
    expect(JSON.parse(q.body)).toEqual({
      url: 'https://example.com/',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
  });
});

describe('delete', () => {
  it('follows the leader; 204 → done; an unknown code → 404 ApiError', async () => {
    const leader = await node((req, res) => {
      if (req.path === '/api/urls/gone') return json(res, 404, { error: 'not_found', message: 'no' });
      res.writeHead(204).end();
    });
    const follower = await node((_req, res) => json(res, 409, notLeader(leader.url)));
    const c = client({ nodes: [follower.url] });
    expect(await c.delete('abc')).toMatchObject({ hops: 1, node: leader.url });
    expect(leader.received[0]).toMatchObject({ method: 'DELETE', path: '/api/urls/abc' });
    await expect(c.delete('gone')).rejects.toMatchObject({ status: 404, errorCode: 'not_found' });
  });

  it('a 404 after a timed-out attempt is the delete having worked', async () => {
    const leader = await node((_req, res, i) => {
      if (i === 0) return; // applied, but the answer is lost
      json(res, 404, { error: 'not_found', message: 'no short URL has this code' });
    });
    const c = client({ nodes: [leader.url], timeoutMs: 150 });
    expect(await c.delete('abc')).toMatchObject({ attempts: 2 });
  });
});
