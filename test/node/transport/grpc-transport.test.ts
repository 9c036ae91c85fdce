import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EntryType, type Message } from '../../../src/raft/types.js';
import { appMessage, TransportPool, waitFor } from './helpers.js';

const pool = new TransportPool();
afterEach(() => pool.stopAll());

function seqOf(m: Message): number {
  return m.index;
}

/** Node 1 with node 2 as its peer; what node 2 receives lands in `atB`. */
async function oneToTwo(senderOptions: Omit<Parameters<TransportPool['start']>[0], 'nodeId'> = {}) {
  const atB: Message[] = [];
  const a = await pool.start({ nodeId: 1, ...senderOptions });
  const b = await pool.start({ nodeId: 2, onMessages: (ms) => atB.push(...ms) });
  a.transport.setPeer(2, b.address);
  return { a, b, atB };
}

describe('GrpcTransport on loopback', () => {
  it('exchanges 1000 messages both ways with contents intact and per-peer order kept', async () => {
    const atA: Message[] = [];
    const atB: Message[] = [];
    const a = await pool.start({ nodeId: 1, onMessages: (ms) => atA.push(...ms) });
    const b = await pool.start({ nodeId: 2, onMessages: (ms) => atB.push(...ms) });
    a.transport.setPeer(2, b.address);
    b.transport.setPeer(1, a.address);

    // Batches of varying size (1..7 messages) interleaved in both directions.
    const total = 1000;
    for (let seq = 0; seq < total;) {
      const size = Math.min(1 + (seq % 7), total - seq);
      const toB = Array.from({ length: size }, (_, i) => appMessage(1, 2, seq + i));
      const toA = Array.from({ length: size }, (_, i) => appMessage(2, 1, seq + i));
      a.transport.send(toB);
      b.transport.send(toA);
      seq += size;
    }
    await waitFor(() => atA.length === total && atB.length === total, '1000 messages each way');

    const expected = Array.from({ length: total }, (_, seq) => seq);
    expect(atB.map(seqOf)).toEqual(expected);
    expect(atA.map(seqOf)).toEqual(expected);
    for (const [received, from, to] of [
      [atB, 1, 2],
      [atA, 2, 1],
    ] as const) {
      for (const m of received) {
        const sent = appMessage(from, to, m.index);
        expect({ ...m, entries: [], context: [] }).toEqual({ ...sent, entries: [], context: [] });
        expect(m.entries).toHaveLength(1);
        expect(Array.from(m.entries[0].data)).toEqual(Array.from(sent.entries[0].data));
        expect(m.entries[0].type).toBe(EntryType.Normal);
      }
    }
    expect(a.transport.stats).toMatchObject({ sent: total, received: total, dropped: 0, refused: 0 });
    expect(b.transport.stats).toMatchObject({ sent: total, received: total, dropped: 0, refused: 0 });
  });

  it('splits one send() by recipient and drops messages for unknown peers', async () => {
    const atB: Message[][] = [];
    const atC: Message[][] = [];
    const a = await pool.start({ nodeId: 1 });
    const b = await pool.start({ nodeId: 2, onMessages: (ms) => atB.push(ms) });
    const c = await pool.start({ nodeId: 3, onMessages: (ms) => atC.push(ms) });
    a.transport.setPeer(2, b.address);
    a.transport.setPeer(3, c.address);

    a.transport.send([appMessage(1, 2, 0), appMessage(1, 3, 0), appMessage(1, 9, 0), appMessage(1, 2, 1)]);
    await waitFor(() => atB.length === 1 && atC.length === 1, 'one batch at each peer');

    expect(atB[0].map(seqOf)).toEqual([0, 1]); // one batch, in order
    expect(atC[0].map(seqOf)).toEqual([0]);
    expect(a.transport.stats).toMatchObject({ sent: 3, dropped: 1 });
  });

  it('carries a batch larger than 1 MiB', async () => {
    const { a, atB } = await oneToTwo();
    const data = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) & 0xff);
    const big: Message = {
      ...appMessage(1, 2, 0),
      entries: [{ term: 7, index: 1, type: EntryType.Normal, data }],
    };

    a.transport.send([big]);
    await waitFor(() => atB.length === 1, 'the 3 MiB message');

    expect(Buffer.from(atB[0].entries[0].data).equals(Buffer.from(data))).toBe(true);
  });

  it('refuses a batch from another cluster: nothing delivered, refused counted, sender told', async () => {
    const unreachable: number[] = [];
    const { a, b, atB } = await oneToTwo({
      clusterId: 'other',
      onPeerUnreachable: (id) => unreachable.push(id),
    });

    a.transport.send([appMessage(1, 2, 0), appMessage(1, 2, 1)]);
    await waitFor(() => b.transport.stats.refused === 2 && unreachable.length > 0, 'refusal');

    expect(atB).toEqual([]);
    expect(b.transport.stats.received).toBe(0);
    expect(unreachable[0]).toBe(2);
  });

  it('refuses messages addressed to another node but delivers the rest of the batch', async () => {
    const { a, b, atB } = await oneToTwo();
    a.transport.setPeer(5, b.address); // a stale address book: node 5's address now belongs to node 2

    a.transport.send([appMessage(1, 5, 0)]);
    a.transport.send([appMessage(1, 2, 1)]);
    await waitFor(() => atB.length === 1 && b.transport.stats.refused === 1, 'one delivered, one refused');

    expect(atB.map(seqOf)).toEqual([1]);
  });

  it('requires the cluster token when one is configured', async () => {
    const atB: Message[] = [];
    const unreachable: number[] = [];
    const b = await pool.start({ nodeId: 2, authToken: 'secret', onMessages: (ms) => atB.push(...ms) });
    const wrong = await pool.start({
      nodeId: 1,
      authToken: 'guess',
      onPeerUnreachable: (id) => unreachable.push(id),
    });
    const none = await pool.start({ nodeId: 1, onPeerUnreachable: (id) => unreachable.push(id) });
    const right = await pool.start({ nodeId: 3, authToken: 'secret' });
    for (const sender of [wrong, none, right]) sender.transport.setPeer(2, b.address);

    wrong.transport.send([appMessage(1, 2, 0)]);
    none.transport.send([appMessage(1, 2, 1)]);
    await waitFor(() => unreachable.length >= 2, 'both unauthenticated senders to see the refusal');
    right.transport.send([appMessage(3, 2, 2)]);
    await waitFor(() => atB.length === 1, 'the authenticated message');

    expect(atB.map(seqOf)).toEqual([2]);
  });

  it('drops, without throwing or growing, while a peer is down, and reconnects when it is back', async () => {
    // Learn a free port, then free it: the peer is "down" at a known address.
    const probe = await pool.start({ nodeId: 2 });
    await probe.transport.stop();
    const unreachable: number[] = [];
    const a = await pool.start({
      nodeId: 1,
      maxQueuedMessagesPerPeer: 64,
      onPeerUnreachable: (id) => unreachable.push(id),
    });
    a.transport.setPeer(2, probe.address);

    const sentWhileDown = 50_000;
    for (let seq = 0; seq < sentWhileDown; seq += 10) {
      expect(() =>
        a.transport.send(Array.from({ length: 10 }, (_, i) => appMessage(1, 2, seq + i))),
      ).not.toThrow();
      expect(a.transport.queuedMessages(2)).toBeLessThanOrEqual(64);
    }
    await waitFor(() => unreachable.length > 0, 'the peer to be reported unreachable');
    // Of 50 000 messages at most a few batches reached gRPC before the failure; the rest were dropped.
    expect(a.transport.stats.dropped).toBeGreaterThan(sentWhileDown - 1000);
    expect(a.transport.stats.dropped + a.transport.stats.sent).toBe(sentWhileDown);
    expect(unreachable.every((id) => id === 2)).toBe(true);

    // The peer comes up on the same address: traffic resumes without any call from the runtime.
    const atB: Message[] = [];
    await pool.start({ nodeId: 2, listenAddr: probe.address, onMessages: (ms) => atB.push(...ms) });
    let seq = sentWhileDown;
    await waitFor(() => {
      a.transport.send([appMessage(1, 2, seq++)]); // like Raft's heartbeats, keep trying
      return atB.length > 0;
    }, 'messages to flow after the peer came back');
    expect(atB[0].index).toBeGreaterThanOrEqual(sentWhileDown);
  });

  it('bounds the backlog for a peer that accepts TCP but never answers, then drops it', async () => {
    // A listener that accepts connections and never speaks HTTP/2: the gRPC connection never
    // becomes ready, so writes pile up in front of it.
    const sockets = new Set<Socket>();
    const blackhole: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blackhole.address() as { port: number }).port;
      const unreachable: number[] = [];
      const a = await pool.start({
        nodeId: 1,
        maxQueuedMessagesPerPeer: 100,
        connectTimeoutMs: 300,
        onPeerUnreachable: (id) => unreachable.push(id),
      });
      a.transport.setPeer(2, `127.0.0.1:${port}`);

      for (let seq = 0; seq < 5000; seq += 10) {
        a.transport.send(Array.from({ length: 10 }, (_, i) => appMessage(1, 2, seq + i)));
      }
      expect(a.transport.queuedMessages(2)).toBeGreaterThan(0); // backpressure did engage
      expect(a.transport.queuedMessages(2)).toBeLessThanOrEqual(100);
      expect(a.transport.stats.dropped).toBeGreaterThan(4000);
      // What gRPC itself holds is small too (its stream buffer, ~16 batches): no hidden retry buffer.
      expect(a.transport.stats.sent).toBeLessThan(500);

      await waitFor(() => unreachable.length > 0, 'the connect timeout to fail the stream');
      expect(a.transport.queuedMessages(2)).toBe(0); // the stale backlog is gone, not replayed later
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });

  it('setPeer with the same address keeps the stream; removePeer stops sending', async () => {
    const { a, b, atB } = await oneToTwo();
    a.transport.send([appMessage(1, 2, 0)]);
    a.transport.setPeer(2, b.address);
    a.transport.send([appMessage(1, 2, 1)]);
    await waitFor(() => atB.length === 2, 'both messages');

    a.transport.removePeer(2);
    a.transport.send([appMessage(1, 2, 2)]);
    expect(a.transport.stats).toMatchObject({ sent: 2, dropped: 1 });
  });

  it('removePeer still delivers what was sent just before it (a removed member learns of it)', async () => {
    const { a, atB } = await oneToTwo();
    a.transport.send([appMessage(1, 2, 0)]);
    await waitFor(() => atB.length === 1, 'the stream is up');
    // Same turn of the event loop: the runtime sends the commit, then applies the removal.
    a.transport.send([appMessage(1, 2, 1), appMessage(1, 2, 2)]);
    a.transport.removePeer(2);
    await waitFor(() => atB.length === 3, 'the messages sent before removePeer');
    expect(atB.map(seqOf)).toEqual([0, 1, 2]);
  });
});
