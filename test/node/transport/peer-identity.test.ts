// The node-UUID check on peer streams: a node whose data dir was replaced comes back under its
// old id with a new UUID, and nothing it sends may reach the core (it forgot its votes and log).
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../src/raft/types.js';
import { identityProblem } from '../../../src/node/transport/peer-identity.js';
import { appMessage, TransportPool, waitFor } from './helpers.js';

const pool = new TransportPool();
afterEach(() => pool.stopAll());

const RECORDED = '6f1c0d3e-8a4b-4c2d-9e7f-1a2b3c4d5e6f';
const REPLACED = '0b7e2a9c-5d3f-4e1a-8c6b-9f8e7d6c5b4a';
const META = { index: 42, term: 3, confState: { voters: [1, 2], learners: [] } };

/** Node 2 knows node 1's UUID as RECORDED; node 1 presents `presented`. */
async function senderPresenting(presented: string | undefined) {
  const atB: Message[] = [];
  let snapshots = 0;
  const b = await pool.start({
    nodeId: 2,
    onMessages: (ms) => atB.push(...ms),
    memberUuid: (id) => (id === 1 ? RECORDED : undefined),
    snapshotConsumer: () => async (s) => {
      for await (const _ of s.data);
      snapshots++;
    },
  });
  const a = await pool.start({ nodeId: 1, nodeUuid: presented });
  a.transport.setPeer(2, b.address);
  return { a, b, atB, snapshots: () => snapshots };
}

async function* someBytes(): AsyncGenerator<Buffer> {
  yield Buffer.alloc(1000);
}

describe('node UUID on peer streams', () => {
  it('delivers the messages of a sender that presents the UUID its member record holds', async () => {
    const { a, b, atB, snapshots } = await senderPresenting(RECORDED);
    a.transport.send([appMessage(1, 2, 0), appMessage(1, 2, 1)]);
    await waitFor(() => atB.length === 2, 'both messages');
    await a.transport.sendSnapshot({ to: 2, term: 3, meta: META, source: someBytes() });
    expect(snapshots()).toBe(1);
    expect(b.transport.stats.refusedIdentity).toBe(0);
  });

  it('refuses and counts a sender running on other data, and never delivers what it sends', async () => {
    const { a, b, atB, snapshots } = await senderPresenting(REPLACED);
    a.transport.send([appMessage(1, 2, 0)]);
    await waitFor(() => b.transport.stats.refusedIdentity > 0, 'the stream to be refused');
    // The sender reconnects (after a backoff, dropping what it had meanwhile): refused again.
    await waitFor(() => {
      a.transport.send([appMessage(1, 2, 1)]);
      return b.transport.stats.refusedIdentity >= 2;
    }, 'a reconnected stream to be refused too');
    expect(atB).toEqual([]);
    await expect(
      a.transport.sendSnapshot({ to: 2, term: 3, meta: META, source: someBytes() }),
    ).rejects.toThrow(/PERMISSION_DENIED.*data dir was lost or replaced/);
    expect(snapshots()).toBe(0);
  });

  it('refuses a sender that presents no UUID where the membership records one', async () => {
    const { a, b, atB } = await senderPresenting(undefined);
    a.transport.send([appMessage(1, 2, 0)]);
    await waitFor(() => b.transport.stats.refusedIdentity > 0, 'the stream to be refused');
    expect(atB).toEqual([]);
  });
});

describe('identityProblem', () => {
  const lookup = (id: number) => (id === 1 ? RECORDED : undefined);

  it('accepts the recorded UUID, and members with none recorded (joining, or older data)', () => {
    expect(identityProblem(1, RECORDED, lookup)).toBeUndefined();
    expect(identityProblem(3, REPLACED, lookup)).toBeUndefined();
    expect(identityProblem(3, undefined, undefined)).toBeUndefined();
  });

  it('names what to do about a replaced data dir', () => {
    expect(identityProblem(1, REPLACED, lookup)).toMatch(/remove member 1 and join the node again/);
  });

  it.each([0, 2 ** 32])('refuses sender id %s, which is no node id', (from) => {
    expect(identityProblem(from, RECORDED, lookup)).toMatch(/not a node id/);
  });
});
