// The inbound half of InstallSnapshot: checks who is sending (token, cluster, addressee) and
// that chunks come contiguous, then hands the bytes, as an async iterable that reads the gRPC
// stream only as fast as the consumer writes them to disk, to the node.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SnapshotMeta } from '../../raft/types.js';
import { isAuthorized } from './auth.js';
import { identityProblem, presentedUuid, type MemberUuidLookup } from './peer-identity.js';
import type { ProtoInstallSnapshotAck, ProtoSnapshotChunk } from './raft-proto.js';

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

export interface SnapshotReceiverOptions {
  nodeId: number;
  clusterId: string;
  authToken?: string;
  memberUuid?: MemberUuidLookup;
  logger: Logger;
  consumer: () => SnapshotConsumer | undefined;
}

export function snapshotHandler(
  options: SnapshotReceiverOptions,
): grpc.handleClientStreamingCall<ProtoSnapshotChunk, ProtoInstallSnapshotAck> {
  return (call, callback) => {
    void receive(options, call).then(
      () => callback(null, {}),
      (err: Error & { code?: grpc.status }) => {
        options.logger.warn({ err: err.message }, 'refused or failed snapshot transfer');
        callback({ code: err.code ?? grpc.status.ABORTED, details: err.message });
      },
    );
  };
}

function refusal(code: grpc.status, message: string): Error & { code: grpc.status } {
  return Object.assign(new Error(message), { code });
}

async function receive(
  options: SnapshotReceiverOptions,
  call: grpc.ServerReadableStream<ProtoSnapshotChunk, ProtoInstallSnapshotAck>,
): Promise<void> {
  if (!isAuthorized(call.metadata, options.authToken)) {
    throw refusal(grpc.status.UNAUTHENTICATED, 'bad cluster token');
  }
  const consume = options.consumer();
  if (!consume) throw refusal(grpc.status.UNAVAILABLE, 'node is not ready to receive snapshots');
  const chunks = call[Symbol.asyncIterator]() as AsyncIterator<ProtoSnapshotChunk>;
  const firstResult = await chunks.next();
  if (firstResult.done) throw refusal(grpc.status.INVALID_ARGUMENT, 'empty snapshot stream');
  const first = firstResult.value;
  if (first.clusterId !== options.clusterId) {
    throw refusal(
      grpc.status.FAILED_PRECONDITION,
      `cluster id mismatch: this node is in cluster ${options.clusterId}`,
    );
  }
  const problem = identityProblem(first.from, presentedUuid(call.metadata), options.memberUuid);
  if (problem !== undefined) throw refusal(grpc.status.PERMISSION_DENIED, problem);
  if (first.to !== options.nodeId)
    throw refusal(grpc.status.FAILED_PRECONDITION, `addressed to node ${first.to}`);
  if (!first.meta || first.offset !== 0) {
    throw refusal(grpc.status.INVALID_ARGUMENT, 'the first chunk must carry the snapshot meta at offset 0');
  }
  const meta: SnapshotMeta = {
    index: first.meta.index,
    term: first.meta.term,
    confState: {
      voters: [...(first.meta.confState?.voters ?? [])],
      learners: [...(first.meta.confState?.learners ?? [])],
    },
  };
  async function* data(): AsyncGenerator<Buffer> {
    let expected = first.data.length;
    yield Buffer.from(first.data);
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      const chunk = next.value;
      if (chunk.from !== first.from || chunk.offset !== expected) {
        throw refusal(grpc.status.INVALID_ARGUMENT, `chunk at offset ${chunk.offset}, expected ${expected}`);
      }
      expected += chunk.data.length;
      yield Buffer.from(chunk.data);
    }
  }
  await consume({ from: first.from, term: first.term, meta, data: data() });
}
