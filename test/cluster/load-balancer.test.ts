// The deployment users run: HAProxy (Debian's package) on loopback in front of a three-node
// cluster started with --short-url-base (the balancer's URL), --forward-writes and --trust-proxy
// (the balancer's address), from the same launcher `npm run lb` uses. Through the balancer:
// creates succeed whichever node takes them, shortUrl is public, a fresh link resolves at once on
// any node, redirects keep flowing while the leader is killed and while the quorum is lost, a
// rolling restart loses no acknowledged write, and the rate limiter sees each client's address.
//
// Clients are told apart by their source address: loopback is all of 127.0.0.0/8, so a client
// bound to 127.0.0.N reaches the balancer, which is the only trusted proxy (127.0.0.1).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findHaproxy, HaproxyProcess, lbNodeArgs } from '../../src/launcher/haproxy.js';
import { freePorts, HOST, printLogTails, startCluster, waitFor, type TestCluster } from './helpers.js';

const haproxy = findHaproxy();
// CI installs haproxy (.ci/run); a machine without it cannot run this file at all.
const describeLb = haproxy ? describe : describe.skip;

const RATE_BURST = 3;
let tc: TestCluster;
let lb: HaproxyProcess;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

let nextClient = 0;
/** A client with a source address of its own (127.1.x.y), so each has its own rate-limit bucket. */
function freshAddress(): string {
  nextClient++;
  return `127.1.${nextClient >> 8}.${nextClient & 255}`;
}

/** One request from source address `from` (node:http: undici's connector does not bind one). */
function call(
  url: string,
  init: { method?: 'GET' | 'POST'; body?: unknown; from?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: init.method ?? 'GET',
        localAddress: init.from ?? freshAddress(),
        headers: {
          ...(payload !== undefined && { 'content-type': 'application/json' }),
          ...init.headers,
        },
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: Record<string, unknown>;
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode!, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 15 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const create = (url: string, from?: string, key?: string) =>
  call(`${lb.url}/shorten`, {
    method: 'POST',
    body: { url },
    from,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });

/** Reads `codes` through the balancer in a loop until `until` resolves; returns every non-302. */
async function readWhile(codes: Map<string, string>, until: Promise<unknown>): Promise<string[]> {
  const bad: string[] = [];
  let done = false;
  void until.finally(() => (done = true));
  const all = [...codes];
  let reads = 0;
  for (let i = 0; !done || reads < all.length; i++) {
    const [code, url] = all[i % all.length]!;
    const res = await call(`${lb.url}/${code}`).catch((err: Error): Answer => ({
      status: 0,
      headers: {},
      body: { err: err.message },
    }));
    reads++;
    if (res.status !== 302 || res.headers.location !== url)
      bad.push(`${code}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await until;
  console.log(`read ${reads} redirects through the balancer meanwhile; ${bad.length} were not a 302`);
  return bad;
}

describeLb('behind HAProxy', () => {
  const codes = new Map<string, string>();

  beforeAll(async () => {
    const [lbPort] = await freePorts(1);
    const publicUrl = `http://${HOST}:${lbPort}`;
    tc = await startCluster('lb', 3, 45_000, [
      ...lbNodeArgs(publicUrl, ['127.0.0.1/32']),
      '--write-rate-limit',
      '0.001',
      '--write-rate-burst',
      String(RATE_BURST),
      // Readiness turns 503 this long before a stopping node closes its listener: a few health checks.
      '--shutdown-delay-ms',
      '800',
    ]);
    const lbDir = join(tc.dataRoot, 'lb');
    mkdirSync(lbDir, { recursive: true });
    lb = new HaproxyProcess(
      {
        host: HOST,
        port: lbPort!,
        backends: tc.cluster.nodes.map((n) => ({
          name: `node${n.spec.id}`,
          host: HOST,
          port: n.spec.httpPort,
        })),
        checkIntervalMs: 200,
      },
      lbDir,
    );
    await lb.start();
    // Every node in rotation before the first request (rise 2 checks).
    await waitFor(
      'the balancer to send requests to every node',
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++)
          seen.add(String((await call(`${lb.url}/readyz/redirects`)).headers['x-served-by']));
        return seen.size === 3 ? true : undefined;
      },
      30_000,
      200,
    );
  }, 90_000);

  afterAll(async () => {
    await lb?.stop();
    await tc?.destroy();
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => printLogTails(tc.dataRoot, 'load-balancer test failed'));
  });

  it('creates succeed through every node, shortUrl is public, and each link resolves at once', async () => {
    const servedBy = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const url = `https://example.com/lb/${i}`;
      const res = await create(url);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      servedBy.add(String(res.headers['x-served-by']));
      const code = String(res.body.code);
      expect(res.body.shortUrl).toBe(`${lb.url}/${code}`);
      codes.set(code, url);
      // The click right after the create goes to the next node in the rotation: never a 404.
      const click = await call(`${lb.url}/${code}`);
      expect(click.status, `${code} right after its create`).toBe(302);
      expect(click.headers.location).toBe(url);
    }
    // Round robin: followers took writes too, and forwarded them.
    expect([...servedBy].sort()).toEqual(['node1', 'node2', 'node3']);
  });

  it("a follower asked right after the leader's 201 never answers 404", async () => {
    const leader = await tc.cluster.waitForLeader(20_000);
    const followers = tc.cluster.nodes.filter((n) => n.spec.id !== leader.id);
    const stale: string[] = [];
    for (let i = 0; i < 50; i++) {
      const url = `https://example.com/fresh/${i}`;
      const res = await call(`${tc.node(leader.id).url}/shorten`, { method: 'POST', body: { url } });
      expect(res.status).toBe(201);
      const click = await call(`${followers[i % 2]!.url}/${String(res.body.code)}`);
      if (click.status !== 302) stale.push(`${String(res.body.code)}: ${click.status}`);
    }
    expect(stale).toEqual([]);
  }, 120_000);

  it("the rate limiter sees the client's address, not the balancer's", async () => {
    const greedy = freshAddress();
    const answers: number[] = [];
    for (let i = 0; i <= RATE_BURST; i++)
      answers.push((await create(`https://example.com/greedy/${i}`, greedy)).status);
    expect(answers).toEqual([...Array<number>(RATE_BURST).fill(201), 429]);
    // Another client, through the same balancer, is not limited by the first one's bucket.
    const other = await create('https://example.com/other-client', freshAddress());
    expect(other.status).toBe(201);
    codes.set(String(other.body.code), 'https://example.com/other-client');
  });

  it('redirects keep working while the leader is killed; writes work again once a new one leads', async () => {
    const leader = await tc.cluster.waitForLeader(20_000);
    const failover = (async () => {
      await tc.node(leader.id).kill();
      return tc.cluster.waitForLeader(30_000, [leader.id]);
    })();
    const bad = await readWhile(codes, failover);
    expect(bad).toEqual([]);
    const after = await waitFor(
      'a create through the balancer after the failover',
      async () => {
        const res = await create('https://example.com/after-failover');
        return res.status === 201 ? res : undefined;
      },
      20_000,
      100,
    );
    codes.set(String(after.body.code), 'https://example.com/after-failover');
    tc.restart(leader.id);
    await tc.cluster.waitUntilConverged(45_000);
  }, 180_000);

  it('redirects keep working while the quorum is lost; writes answer 503 and misses a bounded 404', async () => {
    const leader = await tc.cluster.waitForLeader(20_000);
    const survivor = tc.cluster.nodes.find((n) => n.spec.id !== leader.id)!;
    const others = tc.cluster.nodes.filter((n) => n !== survivor);
    await Promise.all(others.map((n) => n.kill()));
    // Restarted even when an assertion fails, so the next test finds a whole cluster.
    try {
      // The survivor gives up on its dead leader (an election timeout), then cannot win a vote.
      await waitFor(
        'the survivor to know no leader',
        async () => ((await survivor.status())?.leaderId === 0 ? true : undefined),
        20_000,
      );
      expect((await call(`${survivor.url}/readyz`)).status).toBe(503);
      expect((await call(`${survivor.url}/readyz/redirects`)).status).toBe(200);
      const bad = await readWhile(codes, new Promise((r) => setTimeout(r, 1_500)));
      expect(bad).toEqual([]);
      const started = performance.now();
      const miss = await call(`${lb.url}/NoSuchCode1`);
      expect(miss.status).toBe(404);
      // Bounded: no leader to ask, so the local answer comes without waiting out the check's timeout.
      expect(performance.now() - started).toBeLessThan(5_000);
      const write = await create('https://example.com/no-quorum');
      expect(write.status).toBe(503);
    } finally {
      for (const n of others) tc.restart(n.spec.id);
    }
    await tc.cluster.waitUntilConverged(45_000);
  }, 180_000);

  it('a rolling restart through the balancer loses no acknowledged write', async () => {
    const acked = new Map<string, string>();
    let stop = false;
    let attempts = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const url = `https://example.com/rolling/${i}`;
        const key = `rolling-${i}`;
        // One logical write: retried with its Idempotency-Key until it is acknowledged.
        for (;;) {
          attempts++;
          const res = await create(url, undefined, key).catch(() => undefined);
          if (res && (res.status === 201 || res.status === 200)) {
            acked.set(String(res.body.code), url);
            break;
          }
          if (stop) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        // A steady trickle, not a flood: the point is what happens to writes during restarts.
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await waitFor('first writes', () => (acked.size >= 5 ? true : undefined), 60_000);
    for (const n of [...tc.cluster.nodes]) {
      await n.stop(20_000);
      expect(n.lastExit?.code, `node ${n.spec.id} exit code`).toBe(0);
      tc.restart(n.spec.id);
      await tc.cluster.waitUntilConverged(45_000);
      const before = acked.size;
      await waitFor('writes after the restart', () => (acked.size >= before + 3 ? true : undefined), 60_000);
    }
    stop = true;
    await writer;
    expect(acked.size).toBeGreaterThan(15);
    const leader = await tc.cluster.waitUntilConverged(30_000);
    expect(leader.commitIndex).toBeGreaterThan(0);
    // Every acknowledged write, through the balancer and on every node itself.
    for (const [code, url] of acked) {
      const res = await call(`${lb.url}/${code}`);
      expect(res.status, code).toBe(302);
      expect(res.headers.location).toBe(url);
      for (const n of tc.cluster.nodes) {
        const local = await fetch(`${n.url}/${code}`, { redirect: 'manual' });
        expect(local.headers.get('location'), `${code} on node ${n.spec.id}`).toBe(url);
      }
    }
    console.log(`rolling restart through HAProxy: ${acked.size} writes acknowledged in ${attempts} attempts`);
  }, 300_000);
});
