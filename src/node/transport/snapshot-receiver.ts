// The inbound half of InstallSnapshot: checks who is sending (token, cluster, addressee, a current
// member), the meta it announces, and that chunks come contiguous, within a total size and never
// idle for long; then hands the bytes, as an async iterable that reads the gRPC stream only as
// fast as the consumer writes them to disk, to the node. A transfer that breaks a limit is ended,
// which fails the consumer's iteration and so frees the node's one receive slot.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SnapshotMeta } from '../../raft/types.js';
import { isAuthorized } from './auth.js';
import { identityProblem, presentedUuid, type MemberUuidLookup } from './peer-identity.js';
import type { ProtoInstallSnapshotAck, ProtoSnapshotChunk } from './raft-proto.js';
import { isNodeId, type PeerDirectory } from './validate-message.js';

export interface IncomingSnapshot {
  from: number;
  /** The leader's term when it started sending. */
  term: number;
  meta: SnapshotMeta;
  /** The snapshot's bytes in order; iterate once. */
  data: AsyncIterable<Buffer>;
}

/** Resolves once the snapshot is verified and durably stored; rejects to refuse it. */
export type SnapshotConsumer = (snapshot: IncomingSnapshot) => Promise<void>;

export interface SnapshotLimits {
  /** A transfer larger than this is refused (the follower's disk is not the leader's to fill). */
  maxBytes: number;
  /** A transfer with no chunk for this long is abandoned. */
  idleTimeoutMs: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = {
  maxBytes: 4 * 1024 ** 3,
  // The sender gives up on a stalled transfer after the same time.
  idleTimeoutMs: 30_000,
};

/** Why a transfer was refused: the label of the snapshot refusal counter on /metrics. */
export type SnapshotRefusalReason =
  | 'unauthenticated'
  | 'not_ready'
  | 'empty'
  | 'wrong_cluster'
  | 'misaddressed'
  | 'not_member'
  | 'bad_meta'
  | 'out_of_order'
  | 'too_large'
  | 'idle_timeout'
  | 'bad_content'
  | 'not_accepted';

export interface SnapshotReceiverOptions {
  nodeId: number;
  clusterId: string;
  authToken?: string;
  memberUuid?: MemberUuidLookup;
  peers: PeerDirectory;
  limits: SnapshotLimits;
  onRefused?: (reason: SnapshotRefusalReason) => void;
  logger: Logger;
  consumer: () => SnapshotConsumer | undefined;
}

export function snapshotHandler(
  options: SnapshotReceiverOptions,
): grpc.handleClientStreamingCall<ProtoSnapshotChunk, ProtoInstallSnapshotAck> {
  return (call, callback) => {
    void receive(options, call).then(
      () => callback(null, {}),
      (err: Error & { code?: grpc.status; reason?: SnapshotRefusalReason }) => {
        // The consumer's own refusals: a damaged or inconsistent snapshot, or a node that is busy.
        const reason =
          err.reason ?? (err.name === 'SnapshotCorruptionError' ? 'bad_content' : 'not_accepted');
        options.onRefused?.(reason);
        options.logger.warn({ err: err.message, reason }, 'refused or failed snapshot transfer');
        callback({ code: err.code ?? grpc.status.ABORTED, details: err.message });
      },
    );
  };
}

function refusal(
  code: grpc.status,
  reason: SnapshotRefusalReason,
  message: string,
): Error & { code: grpc.status; reason: SnapshotRefusalReason } {
  return Object.assign(new Error(message), { code, reason });
}

function isIndex(n: unknown): boolean {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/** The first chunk's meta, checked: safe numbers, member ids in range, at least one voter. */
function checkedMeta(first: ProtoSnapshotChunk): SnapshotMeta | undefined {
  const meta = first.meta;
  if (!meta || first.offset !== 0 || !isIndex(meta.index) || !isIndex(meta.term) || !isIndex(first.term))
    return undefined;
  const voters = [...(meta.confState?.voters ?? [])];
  const learners = [...(meta.confState?.learners ?? [])];
  if (voters.length === 0 || ![...voters, ...learners].every(isNodeId)) return undefined;
  return { index: meta.index, term: meta.term, confState: { voters, learners } };
}

/** The next chunk, or a refusal once the sender has been silent for `ms`. */
async function nextWithin<T>(chunks: AsyncIterator<T>, ms: number): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(refusal(grpc.status.DEADLINE_EXCEEDED, 'idle_timeout', `no snapshot chunk for ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([chunks.next(), idle]);
  } finally {
    clearTimeout(timer);
  }
}

async function receive(
  options: SnapshotReceiverOptions,
  call: grpc.ServerReadableStream<ProtoSnapshotChunk, ProtoInstallSnapshotAck>,
): Promise<void> {
  if (!isAuthorized(call.metadata, options.authToken)) {
    throw refusal(grpc.status.UNAUTHENTICATED, 'unauthenticated', 'bad cluster token');
  }
  const consume = options.consumer();
  if (!consume) throw refusal(grpc.status.UNAVAILABLE, 'not_ready', 'node is not ready to receive snapshots');
  const { idleTimeoutMs, maxBytes } = options.limits;
  const chunks = call[Symbol.asyncIterator]() as AsyncIterator<ProtoSnapshotChunk>;
  const firstResult = await nextWithin(chunks, idleTimeoutMs);
  if (firstResult.done) throw refusal(grpc.status.INVALID_ARGUMENT, 'empty', 'empty snapshot stream');
  const first = firstResult.value;
  if (first.clusterId !== options.clusterId) {
    throw refusal(
      grpc.status.FAILED_PRECONDITION,
      'wrong_cluster',
      `cluster id mismatch: this node is in cluster ${options.clusterId}`,
    );
  }
  const problem = identityProblem(first.from, presentedUuid(call.metadata), options.memberUuid);
  if (problem !== undefined) throw refusal(grpc.status.PERMISSION_DENIED, 'not_member', problem);
  if (first.to !== options.nodeId)
    throw refusal(grpc.status.FAILED_PRECONDITION, 'misaddressed', `addressed to node ${first.to}`);
  if (first.from === options.nodeId || !isNodeId(first.from) || !options.peers.isMember(first.from)) {
    throw refusal(grpc.status.PERMISSION_DENIED, 'not_member', `node ${first.from} is not a member`);
  }
  const meta = checkedMeta(first);
  if (meta === undefined) {
    throw refusal(
      grpc.status.INVALID_ARGUMENT,
      'bad_meta',
      'the first chunk must carry a valid snapshot meta and term at offset 0',
    );
  }
  const tooLarge = () =>
    refusal(grpc.status.RESOURCE_EXHAUSTED, 'too_large', `snapshot larger than ${maxBytes} bytes`);
  if (first.data.length > maxBytes) throw tooLarge();
  async function* data(): AsyncGenerator<Buffer> {
    let expected = first.data.length;
    yield Buffer.from(first.data);
    for (;;) {
      const next = await nextWithin(chunks, idleTimeoutMs);
      if (next.done) return;
      const chunk = next.value;
      if (chunk.from !== first.from || chunk.offset !== expected) {
        throw refusal(
          grpc.status.INVALID_ARGUMENT,
          'out_of_order',
          `chunk at offset ${chunk.offset}, expected ${expected}`,
        );
      }
      expected += chunk.data.length;
      if (expected > maxBytes) throw tooLarge();
      yield Buffer.from(chunk.data);
    }
  }
  await consume({ from: first.from, term: first.term, meta, data: data() });
}
