// The outbound half of InstallSnapshot: one client-streaming call on a connection of its own,
// fed from an async source of bytes re-cut into chunks of a fixed size, pausing whenever gRPC
// pushes back, so the sender holds at most a chunk or two of a snapshot in memory.

import * as grpc from '@grpc/grpc-js';
import type { TlsMaterial } from '../../common/tls.js';
import type { SnapshotMeta } from '../../raft/types.js';
import { tokenMetadata } from './auth.js';
import { withNodeUuid } from './peer-identity.js';
import { CLIENT_CHANNEL_OPTIONS } from './grpc-options.js';
import { raftService, type ProtoInstallSnapshotAck, type ProtoSnapshotChunk } from './raft-proto.js';

export interface SnapshotSendRequest {
  address: string;
  nodeId: number;
  clusterId: string;
  to: number;
  /** The leader's term when it started sending. */
  term: number;
  meta: SnapshotMeta;
  /** The snapshot's bytes, in order. */
  source: AsyncIterable<Uint8Array>;
  chunkBytes: number;
  authToken?: string;
  /** This node's UUID, presented to the receiver (peer-identity.ts). */
  nodeUuid?: string;
  tls?: TlsMaterial;
  /** Abort to give up (the node stops, or is no longer leader). */
  signal?: AbortSignal;
  /** Fails the call when no chunk could be written for this long (a stalled receiver). */
  stallTimeoutMs: number;
}

/** Resolves with the bytes sent once the receiver has verified and stored the whole snapshot. */
export async function sendSnapshot(req: SnapshotSendRequest): Promise<number> {
  const method = raftService().InstallSnapshot;
  const credentials = req.tls
    ? grpc.credentials.createSsl(req.tls.ca, req.tls.key, req.tls.cert)
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(req.address, credentials, CLIENT_CHANNEL_OPTIONS);
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const answered = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const call = client.makeClientStreamRequest<ProtoSnapshotChunk, ProtoInstallSnapshotAck>(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    withNodeUuid(tokenMetadata(req.authToken), req.nodeUuid),
    {},
    (error) =>
      error ? settle.reject(new Error(`${grpc.status[error.code]}: ${error.details}`)) : settle.resolve(),
  );
  // Failures also arrive through the status callback; this keeps an 'error' event from throwing.
  call.on('error', () => {});
  const onAbort = () => call.cancel();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  answered.catch(() => {}); // observed below; never an unhandled rejection meanwhile

  let offset = 0;
  let first = true;
  const write = async (data: Buffer): Promise<void> => {
    const chunk: ProtoSnapshotChunk = {
      clusterId: req.clusterId,
      from: req.nodeId,
      to: req.to,
      offset,
      data,
      term: first ? req.term : 0,
      meta: first ? req.meta : null,
    };
    first = false;
    offset += data.length;
    if (call.write(chunk)) return;
    await waitForDrain(call, answered, req.stallTimeoutMs);
  };

  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for await (const piece of req.source) {
      if (req.signal?.aborted) throw new Error('snapshot transfer aborted');
      pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      pendingBytes += piece.byteLength;
      while (pendingBytes >= req.chunkBytes) {
        const all = Buffer.concat(pending, pendingBytes);
        await write(all.subarray(0, req.chunkBytes));
        pending = [all.subarray(req.chunkBytes)];
        pendingBytes -= req.chunkBytes;
      }
    }
    if (pendingBytes > 0) await write(Buffer.concat(pending, pendingBytes));
    call.end();
    await answered;
    return offset;
  } catch (err) {
    call.cancel();
    throw err;
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}

function waitForDrain(
  call: grpc.ClientWritableStream<ProtoSnapshotChunk>,
  answered: Promise<void>,
  stallTimeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      call.off('drain', onDrain);
      reject(new Error(`snapshot receiver took no data for ${stallTimeoutMs} ms`));
    }, stallTimeoutMs);
    const onDrain = () => {
      clearTimeout(timer);
      resolve();
    };
    call.once('drain', onDrain);
    // The call may end (refused, cancelled) while we wait: then no drain ever comes.
    answered.then(
      () => {
        clearTimeout(timer);
        call.off('drain', onDrain);
        reject(new Error('receiver answered before the snapshot was complete'));
      },
      (err: Error) => {
        clearTimeout(timer);
        call.off('drain', onDrain);
        reject(err);
      },
    );
  });
}
