// InstallSnapshot over real gRPC: bytes arrive whole and in order in small chunks, a slow consumer
// holds the sender back instead of piling the snapshot up in memory, and strangers are refused.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingSnapshot } from '../../../src/node/transport/snapshot-receiver.js';
import { TransportPool } from './helpers.js';

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
});
