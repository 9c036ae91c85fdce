// A peer that sends garbage over a real gRPC connection (grpc-js and raft.proto, as a buggy or
// hostile node would) to a running follower: the follower stays up, counts every refused message
// by reason on /metrics, keeps its term, and the cluster goes on serving writes and reads there.
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  raftService,
  type ProtoMessage,
  type ProtoMessageBatch,
} from '../../src/node/transport/raft-proto.js';
import { encodeMessage } from '../../src/node/transport/codec.js';
import { withNodeUuid } from '../../src/node/transport/peer-identity.js';
import { emptyMessage, EntryType, MessageType, type Entry } from '../../src/raft/types.js';
import {
  isAlive,
  parseMetrics,
  request,
  resolveCode,
  shorten,
  useSharedCluster,
  waitFor,
  type ClusterStatus,
} from './helpers.js';

const tc = useSharedCluster('peer-garbage');

const RaftClient = grpc.makeGenericClientConstructor(raftService(), 'Raft');

/** Sends `batches` on one Send stream and waits for the stream to end (either way). */
function sendBatches(address: string, nodeUuid: string, batches: ProtoMessageBatch[]): Promise<void> {
  const client = new RaftClient(address, grpc.credentials.createInsecure());
  return new Promise<void>((resolve) => {
    const call = (
      client as unknown as {
        Send: (md: grpc.Metadata, cb: () => void) => grpc.ClientWritableStream<ProtoMessageBatch>;
      }
    ).Send(withNodeUuid(new grpc.Metadata(), nodeUuid), () => {
      client.close();
      resolve();
    });
    for (const b of batches) call.write(b);
    call.end();
  });
}

/** Bytes that are not a MessageBatch at all, on the same method. */
function sendRawBytes(address: string, bytes: Buffer): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest<Buffer, Buffer>(
      '/raft.v1.Raft/Send',
      (b) => b,
      (b) => b,
      new grpc.Metadata(),
      (err) => {
        client.close();
        resolve(err);
      },
    );
    call.write(bytes);
    call.end();
  });
}

function message(over: Partial<ProtoMessage>): ProtoMessage {
  return { ...encodeMessage(emptyMessage(MessageType.Heartbeat, 0, 0, 0)), ...over };
}

async function refusals(url: string): Promise<Record<string, number>> {
  const res = await request(`${url}/metrics`);
  const out: Record<string, number> = {};
  for (const s of parseMetrics(res.text)) {
    if (s.name === 'raft_messages_refused_total') out[s.labels.reason ?? ''] = s.value;
  }
  return out;
}

describe('a peer sending garbage', () => {
  it('is refused message by message; the node stays up and the cluster keeps working', async () => {
    const st = await tc.cluster.waitUntilConverged(30_000);
    const leaderId = st.leaderId;
    const [target, other] = tc.cluster.nodes.filter((n) => n.spec.id !== leaderId);
    const before = (await target!.status()) as ClusterStatus;
    const targetId = target!.spec.id;
    const pid = target!.pid!;
    const spoofed = other!.spec.id; // a current member, so the batch-level checks pass
    const base = { from: spoofed, to: targetId };

    /** An AppendEntries at the current term after the commit index, carrying one entry. */
    const append = (entry: Pick<Entry, 'index' | 'type'> & { data?: Buffer }) =>
      message({
        ...base,
        type: MessageType.App,
        term: before.term,
        logTerm: before.term,
        index: before.commitIndex,
        entries: [{ term: before.term, data: Buffer.alloc(0), ...entry }],
      });
    const garbage: Array<[reason: string, m: ProtoMessage]> = [
      // uint64 beyond 2^53: would become the follower's term, rounded, and disrupt every election.
      ['unsafe_number', message({ ...base, type: MessageType.App, term: 2 ** 64 - 1 })],
      // A snapshot notice on the message stream: the core would ask to install a snapshot this
      // node never received, and the runtime would stop the node.
      [
        'snapshot_on_stream',
        message({
          ...base,
          type: MessageType.Snapshot,
          term: before.term,
          snapshot: { index: 1_000_000, term: before.term, confState: { voters: [spoofed], learners: [] } },
        }),
      ],
      // Entries with a gap, at the current term: the core would throw halfway through its step.
      ['entries_not_consecutive', append({ index: before.commitIndex + 5, type: EntryType.Normal })],
      // A membership change whose bytes cannot be decoded: applying it would stop the node.
      [
        'bad_conf_change',
        append({ index: before.commitIndex + 1, type: EntryType.ConfChange, data: Buffer.from([7]) }),
      ],
      // Leadership transfer asked by a node that is not the leader.
      ['timeout_now_not_from_leader', message({ ...base, type: MessageType.TimeoutNow, term: before.term })],
      ['unknown_type', message({ ...base, type: 77 })],
      ['misaddressed', message({ ...base, to: 12345 })],
    ];
    // Refusals before the attack (a joining node drops traffic until it has learned its peers).
    const baseline = await refusals(target!.url);
    const raftAddr = `${target!.spec.host}:${target!.spec.raftPort}`;
    // The spoofed member's own node UUID: the stream passes the identity check, so every
    // message meets the message checks.
    const spoofedUuid =
      (before.members.find((m) => m.id === spoofed) as { nodeUuid?: string } | undefined)?.nodeUuid ?? '';
    await sendBatches(raftAddr, spoofedUuid, [
      ...garbage.map(([, m]) => ({ clusterId: st.clusterId, from: spoofed, messages: [m] })),
      // Not a member: refused as a whole.
      { clusterId: st.clusterId, from: 99, messages: [message({ from: 99, to: targetId, term: 2 ** 40 })] },
    ]);
    // Not protobuf at all: grpc-js fails the call; nothing reaches the node's code.
    const rawError = await sendRawBytes(raftAddr, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x08]));
    expect(rawError).not.toBeNull();

    const expected = Object.fromEntries([...garbage.map(([reason]) => [reason, 1]), ['not_member', 1]]);
    const added = (r: Record<string, number>) =>
      Object.fromEntries(Object.keys(expected).map((k) => [k, (r[k] ?? 0) - (baseline[k] ?? 0)]));
    const counted = await waitFor(
      'every refusal to be counted on /metrics',
      async () => {
        const delta = added(await refusals(target!.url));
        return Object.values(delta).every((n) => n >= 1) ? delta : undefined;
      },
      15_000,
    );
    expect(counted).toEqual(expected);

    // Still up, at a sane term, and the cluster still replicates to it and serves from it.
    expect(isAlive(pid)).toBe(true);
    const leader = tc.node(leaderId);
    const created = await shorten(leader.url, 'https://example.com/after-garbage');
    expect(created.status).toBe(201);
    const code = created.body.code as string;
    const served = await waitFor(
      'the new code to be served by the attacked follower',
      async () => {
        const r = await resolveCode(target!.url, code);
        return r.status === 302 ? r : undefined;
      },
      15_000,
    );
    expect(served.location).toBe('https://example.com/after-garbage');
    const after = (await target!.status()) as ClusterStatus;
    expect(after.term).toBeLessThan(before.term + 10);
    expect(after.leaderId).toBe(leaderId);
    expect(isAlive(pid)).toBe(true);
  });
});
