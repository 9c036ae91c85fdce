// Disks that fail or are slow, under a stream of writes, each node on its own fault filesystem:
// - an fsync that fails (EIO) stops that node at once (its copy can no longer be trusted: the
//   data the failed fsync held may be gone, and no later fsync brings it back), nothing that
//   depended on it is acknowledged, and after a power cut and a restart it is correct again;
// - fsync spikes of 100-500 ms on the leader or on a follower cause no election and lose nothing,
//   and /metrics shows them.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  describeOnFaultFs,
  expectAllPresent,
  useFaultCluster,
  waitForIdleDisks,
  type FaultCluster,
} from './fault-cluster.js';
import { parseMetrics, request, shorten, waitFor } from './helpers.js';
import { WriteLoad, type Ack } from './write-load.js';

describeOnFaultFs('failing and slow disks', () => {
  const cluster = useFaultCluster('disk-faults');
  const acks: Ack[] = [];

  for (const role of ['leader', 'follower'] as const) {
    it(`an fsync that fails on the ${role} stops it; it acknowledges nothing after, and comes back correct`, async () => {
      const c = cluster();
      const leaderId = (await c.cluster.waitUntilConverged(60_000)).id;
      const victim = role === 'leader' ? leaderId : [1, 2, 3].find((id) => id !== leaderId)!;
      const load = new WriteLoad({ nodes: () => c.cluster.nodes, clients: 4, label: `eio-${role}` });
      load.start();
      let failedAt = 0;
      try {
        try {
          await load.waitForAcks(40, 60_000);
          await c.fs(victim).setFaults({ fsyncError: 'EIO' });
          failedAt = Date.now();
          // It must hit the failure on its next durable write (writes keep coming) and exit.
          await waitForExit(c, victim, 30_000);
          expect(c.node(victim).lastExit?.code, 'exit code of a node whose disk failed').toBe(70);
          // The other two go on.
          await load.waitForAcks(40, 60_000);
        } finally {
          await load.stop();
        }
        expect(load.unexpected).toEqual([]);
        const injected = (await c.fs(victim).stats()).injectedErrors;
        expect(injected).toBeGreaterThan(0);
        // Whatever it acknowledged after the failure must not rely on its own copy: a power cut
        // now takes what the failed fsync held (and everything else it had not synced).
        if (role === 'leader') {
          const byVictim = load.acks.filter((a) => a.by === c.node(victim).url && a.at > failedAt + 1_000);
          expect(byVictim, 'acks from the failed leader well after its fsync failed').toEqual([]);
        }
      } finally {
        // Also when something above failed: the victim may still run on a failing disk.
        await c.restore([victim]);
      }
      await c.cluster.waitUntilConverged(60_000);
      acks.push(...load.acks);
      await expectAllPresent(c, acks);
    }, 240_000);
  }

  it('a full disk: writes get a clear error, reads go on, and writes resume when space returns', async () => {
    const c = cluster();
    const leader = c.node((await c.cluster.waitUntilConverged(60_000)).id);
    const load = new WriteLoad({ nodes: () => c.cluster.nodes, clients: 4, label: 'full' });
    load.start();
    try {
      await load.waitForAcks(30, 60_000);
    } finally {
      await load.stop();
    }
    acks.push(...load.acks);
    // The disks fill only once the URL stores have flushed what the load applied: an LMDB flush
    // that finds the disk full still stops its node (exit 70; the log replays on restart), which
    // is not what this test is about (the log, proposals and reads on a full disk).
    await waitForIdleDisks(c);
    // No file on any node may grow from now on.
    for (const id of [1, 2, 3]) await c.fs(id).setFaults({ spaceBytes: 0 });
    const run = Date.now().toString(36);
    let attempt = 0;
    const refusal = await waitFor(
      'a write refused because the disk is full',
      async () => {
        const res = await shorten(leader.url, `https://example.com/full/${run}/${attempt++}`, 10_000);
        return res.status === 503 && /disk is full/.test(String(res.body.message)) ? res : undefined;
      },
      60_000,
    );
    expect(refusal.body.error).toBe('unavailable');
    expect(leader.running, 'the leader keeps running on a full disk').toBe(true);
    // Reads are served on every node meanwhile.
    await expectAllPresent(c, acks);
    // Space returns: writes go on, with no restart. (With every disk full the followers could not
    // answer the leader, so it may have stepped down meanwhile: write to whoever leads now.)
    for (const id of [1, 2, 3]) await c.fs(id).setFaults({});
    const url = `https://example.com/full/${run}/after`;
    const resumed = await waitFor(
      'a write acknowledged after space returned',
      async () => {
        const now = await c.cluster.leaderStatus();
        if (!now) return undefined;
        const res = await shorten(c.node(now.id).url, url, 10_000);
        return res.status === 201 || res.status === 200 ? res.body.code : undefined;
      },
      60_000,
      200,
    );
    acks.push({ url, code: resumed as string, status: 201, at: Date.now(), by: 'leader' });
    for (const n of c.cluster.nodes) expect(n.running, `node ${n.spec.id} still runs`).toBe(true);
    // Nothing on disk was damaged: a power cut and a restart find every acknowledged write.
    await c.powerCut();
    for (const id of [1, 2, 3]) c.restart(id);
    await c.cluster.waitUntilConverged(60_000);
    await expectAllPresent(c, acks);
  }, 240_000);

  for (const role of ['leader', 'follower'] as const) {
    it(`fsync spikes of 100-500 ms on the ${role} cause no election and lose nothing; /metrics shows them`, async () => {
      const c = cluster();
      const before = await c.cluster.waitUntilConverged(60_000);
      const slow = role === 'leader' ? before.id : [1, 2, 3].find((id) => id !== before.id)!;
      const elections = await electionsStarted(c);
      const load = new WriteLoad({ nodes: () => c.cluster.nodes, clients: 4, label: `slow-${role}` });
      await c.fs(slow).setFaults({ fsyncDelay: { spikeMs: [100, 500], spikeProbability: 0.3 } });
      load.start();
      try {
        await waitFor(
          `node ${slow} to see 10 fsync spikes`,
          async () => ((await slowFsyncs(c, slow)) >= 10 ? true : undefined),
          120_000,
          200,
        );
        await load.waitForAcks(20, 60_000);
      } finally {
        await c.fs(slow).setFaults({});
        await load.stop();
      }
      expect(load.unexpected).toEqual([]);
      const after = await c.cluster.waitUntilConverged(60_000);
      expect({ leader: after.id, term: after.term }, 'leader and term after the slow fsyncs').toEqual({
        leader: before.id,
        term: before.term,
      });
      expect(await electionsStarted(c), 'elections started on any node').toBe(elections);
      acks.push(...load.acks);
      await expectAllPresent(c, acks);
    }, 240_000);
  }
});

/**
 * Waits for node `id` to exit; if it does not, says what its disk saw meanwhile (did it try a
 * durable write at all, and was it refused?) and where the process is stuck.
 */
async function waitForExit(c: FaultCluster, id: number, timeoutMs: number): Promise<void> {
  try {
    await waitFor(
      `node ${id} to stop after the failed fsync`,
      () => (c.node(id).running ? undefined : true),
      timeoutMs,
    );
  } catch (err) {
    const stats = await c
      .fs(id)
      .stats()
      .catch((e: unknown) => String(e));
    const pid = c.node(id).pid;
    let proc = 'unknown';
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ');
      proc = `state ${stat[2]}, wchan ${readFileSync(`/proc/${pid}/wchan`, 'utf8')}`;
    } catch {
      // Gone meanwhile, or not Linux.
    }
    throw new Error(
      `${(err as Error).message}; its filesystem: ${JSON.stringify(stats)}; process ${pid}: ${proc}`,
    );
  }
}

/** Durable writes on `id` that took longer than 100 ms, from its raft_fsync_latency_seconds histogram. */
async function slowFsyncs(c: FaultCluster, id: number): Promise<number> {
  const samples = parseMetrics((await request(`${c.node(id).url}/metrics`)).text);
  const bucket = (le: string) =>
    samples.find((s) => s.name === 'raft_fsync_latency_seconds_bucket' && s.labels.le === le)?.value ?? 0;
  return bucket('+Inf') - bucket('0.1');
}

async function electionsStarted(c: FaultCluster): Promise<number> {
  let total = 0;
  for (const n of c.cluster.nodes) {
    const samples = parseMetrics((await request(`${n.url}/metrics`)).text);
    total += samples.find((s) => s.name === 'raft_elections_started_total')?.value ?? 0;
  }
  return total;
}
