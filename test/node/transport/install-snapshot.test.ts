// InstallSnapshot over real gRPC: bytes arrive whole and in order in small chunks, a slow consumer
// holds the sender back instead of piling the snapshot up in memory, strangers are refused, and a
// transfer that is too large or goes idle is ended (and counted), freeing the node for the next.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingSnapshot } from '../../../src/node/transport/snapshot-receiver.js';
import { Registry } from 'prom-client';
import { TransportPool, waitFor } from './helpers.js';

const pool = new TransportPool();
afterEach(() => pool.stopAll());

const META = { index: 42, term: 3, confState: { voters: [1, 2], learners: [] } };

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

describe('InstallSnapshot', () => {
  it('streams a snapshot in small chunks, in order, meta and term on the side', async () => {
    let got:
      | { from: number; term: number; meta: IncomingSnapshot['meta']; bytes: Buffer; chunks: number }
      | undefined;
    const { address } = await pool.start({
      nodeId: 2,
      snapshotConsumer: () => async (s) => {
        const parts: Buffer[] = [];
        for await (const c of s.data) parts.push(c);
        got = { from: s.from, term: s.term, meta: s.meta, bytes: Buffer.concat(parts), chunks: parts.length };
      },
    });
    const { transport } = await pool.start({ nodeId: 1, snapshotChunkBytes: 1000 });
    transport.setPeer(2, address);
    const data = randomBytes(300_000);
    const sent = await transport.sendSnapshot({ to: 2, term: 9, meta: META, source: pieces(data, 4096) });
    expect(sent).toBe(data.length);
    expect(got?.bytes.equals(data)).toBe(true);
    expect(got?.chunks).toBe(300);
    expect(got).toMatchObject({ from: 1, term: 9, meta: META });
  });

  it('holds the sender back while the receiver is slow (bounded memory)', async () => {
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    const { address } = await pool.start({
      nodeId: 2,
      snapshotConsumer: () => async (s) => {
        for await (const c of s.data) {
          consumed += c.length;
          await new Promise((r) => setTimeout(r, 1)); // a slow disk
        }
      },
    });
    const { transport } = await pool.start({ nodeId: 1, snapshotChunkBytes: 16 * 1024 });
    transport.setPeer(2, address);
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 1_000; i++) {
        maxAhead = Math.max(maxAhead, produced - consumed);
        produced += 16 * 1024;
        yield Buffer.alloc(16 * 1024, i & 0xff);
      }
    }
    await transport.sendSnapshot({ to: 2, term: 1, meta: META, source: source() });
    expect(consumed).toBe(16 * 1024 * 1_000);
    // 16 MiB went through; gRPC and socket buffers hold a few MiB at most, never the whole.
    expect(maxAhead).toBeLessThan(8 * 1024 * 1024);
  });

  it('refuses a sender from another cluster and reports the failure', async () => {
    let called = false;
    const { address } = await pool.start({
      nodeId: 2,
      clusterId: 'other-cluster',
      snapshotConsumer: () => async () => {
        called = true;
      },
    });
    const { transport } = await pool.start({ nodeId: 1 });
    transport.setPeer(2, address);
    await expect(
      transport.sendSnapshot({ to: 2, term: 1, meta: META, source: pieces(Buffer.alloc(10_000), 1000) }),
    ).rejects.toThrow(/cluster id mismatch/);
    expect(called).toBe(false);
  });

  it('reports a consumer that rejects the snapshot', async () => {
    const { address } = await pool.start({
      nodeId: 2,
      snapshotConsumer: () => async (s) => {
        for await (const _ of s.data) throw new Error('checksum mismatch at byte 0');
      },
    });
    const { transport } = await pool.start({ nodeId: 1 });
    transport.setPeer(2, address);
    await expect(
      transport.sendSnapshot({ to: 2, term: 1, meta: META, source: pieces(Buffer.alloc(10_000), 1000) }),
    ).rejects.toThrow(/checksum mismatch/);
  });

  it('refuses a sender that is not a member, and a meta without voters or with ids off the wire', async () => {
    let called = false;
    const registry = new Registry();
    const { address } = await pool.start({
      nodeId: 2,
      peers: { isMember: (id) => id === 1, leaderId: () => 1 },
      metricsRegistry: registry,
      snapshotConsumer: () => async () => {
        called = true;
      },
    });
    const stranger = await pool.start({ nodeId: 7 });
    stranger.transport.setPeer(2, address);
    const data = () => pieces(Buffer.alloc(10_000), 1000);
    await expect(
      stranger.transport.sendSnapshot({ to: 2, term: 1, meta: META, source: data() }),
    ).rejects.toThrow(/node 7 is not a member/);
    const member = await pool.start({ nodeId: 1 });
    member.transport.setPeer(2, address);
    for (const confState of [
      { voters: [], learners: [1] },
      { voters: [1, 0], learners: [] },
    ]) {
      await expect(
        member.transport.sendSnapshot({ to: 2, term: 1, meta: { ...META, confState }, source: data() }),
      ).rejects.toThrow(/valid snapshot meta/);
    }
    expect(called).toBe(false);
    expect(await refusals(registry)).toEqual({ not_member: 1, bad_meta: 2 });
  });

  it('refuses a snapshot larger than the configured cap, and the consumer sees it fail', async () => {
    let received = 0;
    let failure = '';
    const registry = new Registry();
    const { address } = await pool.start({
      nodeId: 2,
      metricsRegistry: registry,
      snapshotLimits: { maxBytes: 50_000 },
      snapshotConsumer: () => async (s) => {
        try {
          for await (const c of s.data) received += c.length;
        } catch (err) {
          failure = (err as Error).message;
          throw err;
        }
      },
    });
    const { transport } = await pool.start({ nodeId: 1, snapshotChunkBytes: 10_000 });
    transport.setPeer(2, address);
    await expect(
      transport.sendSnapshot({ to: 2, term: 1, meta: META, source: pieces(Buffer.alloc(100_000), 10_000) }),
    ).rejects.toThrow(/larger than 50000 bytes/);
    expect(failure).toMatch(/larger than 50000 bytes/);
    expect(received).toBeLessThanOrEqual(50_000);
    expect(await refusals(registry)).toEqual({ too_large: 1 });
  });

  it('abandons a transfer that goes idle, which frees the receive slot for the next one', async () => {
    // The node takes one snapshot at a time (as the runtime does): a sender that stalls after its
    // first chunk would otherwise hold the slot, and the follower could never catch up again.
    let busy = false;
    const completed: number[] = [];
    const failures: string[] = [];
    const registry = new Registry();
    const { address } = await pool.start({
      nodeId: 2,
      metricsRegistry: registry,
      snapshotLimits: { idleTimeoutMs: 300 },
      snapshotConsumer: () => async (s) => {
        if (busy) throw new Error('a snapshot is already being received');
        busy = true;
        let bytes = 0;
        try {
          for await (const c of s.data) bytes += c.length;
          completed.push(bytes);
        } catch (err) {
          failures.push((err as Error).message);
          throw err;
        } finally {
          busy = false;
        }
      },
    });
    const { transport } = await pool.start({ nodeId: 1, snapshotChunkBytes: 1000 });
    transport.setPeer(2, address);
    const stall = new AbortController();
    async function* stalled(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(1000);
      await new Promise((resolve) => stall.signal.addEventListener('abort', resolve, { once: true }));
    }
    const first = transport.sendSnapshot({
      to: 2,
      term: 1,
      meta: META,
      source: stalled(),
      signal: stall.signal,
    });
    first.catch(() => {});
    await waitFor(() => failures.length === 1, 'the idle transfer to be abandoned');
    expect(failures[0]).toMatch(/no snapshot chunk for 300 ms/);
    expect(busy).toBe(false);

    await transport.sendSnapshot({ to: 2, term: 1, meta: META, source: pieces(Buffer.alloc(5_000), 1000) });
    expect(completed).toEqual([5_000]);
    stall.abort();
    await expect(first).rejects.toThrow();
    expect(await refusals(registry)).toEqual({ idle_timeout: 1 });
  });
});

/** raft_snapshots_refused_total by reason. */
async function refusals(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('raft_snapshots_refused_total')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.reason), v.value]));
}
