// The inbound half of the transport: the server-side handler of Raft.Send. It checks who is
// talking and what they say (validate-message.ts) before anything reaches the consensus core — a
// node of another cluster, a non-member or a malformed message must never step our core — and
// delivers each accepted batch in order.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Message } from '../../raft/types.js';
import { isAuthorized } from './auth.js';
import { identityProblem, presentedUuid, type MemberUuidLookup } from './peer-identity.js';
import { decodeMessage } from './codec.js';
import type { ProtoMessageBatch, ProtoSendAck } from './raft-proto.js';
import type { TransportStats } from './transport-stats.js';
import {
  validateBatch,
  validateMessage,
  type RefusalReason,
  type ValidationContext,
} from './validate-message.js';

export interface ReceiverOptions {
  validation: ValidationContext;
  authToken?: string;
  memberUuid?: MemberUuidLookup;
  /** Counts refused messages (e.g. on /metrics). */
  onRefused?: (reason: RefusalReason, messages: number) => void;
  onMessages: (messages: Message[]) => void;
  stats: TransportStats;
  logger: Logger;
}

/** Each refusal reason is logged once per sending node, not once per batch. */
const MAX_LOGGED_KEYS = 1024;

export class Receiver {
  /** Ends an open inbound stream; present for every stream still open. */
  private readonly openStreams = new Set<(status: Partial<grpc.StatusObject>) => void>();
  private readonly logged = new Set<string>();

  constructor(private readonly options: ReceiverOptions) {}

  /** The Raft.Send implementation to register with a grpc.Server. */
  readonly handleSend: grpc.handleClientStreamingCall<ProtoMessageBatch, ProtoSendAck> = (call, callback) => {
    let open = true;
    const end = (status?: Partial<grpc.StatusObject>): void => {
      if (!open) return;
      open = false;
      this.openStreams.delete(end);
      if (status === undefined) callback(null, {});
      else callback(status);
    };
    this.openStreams.add(end);
    call.on('cancelled', () => {
      open = false;
      this.openStreams.delete(end);
    });
    call.on('error', () => end());
    call.on('end', () => end());

    if (!isAuthorized(call.metadata, this.options.authToken)) {
      this.logOnce(`auth:${call.getPeer()}`, { peer: call.getPeer() }, 'refused stream: bad cluster token');
      return end({ code: grpc.status.UNAUTHENTICATED, details: 'bad cluster token' });
    }
    const presented = presentedUuid(call.metadata);
    call.on('data', (batch: ProtoMessageBatch) => {
      if (open && this.senderIsKnown(batch, presented, end)) this.onBatch(batch, end);
    });
  };

  /** Ends every inbound stream (peers see UNAVAILABLE and reconnect elsewhere or later). */
  endAll(details: string): void {
    for (const end of [...this.openStreams]) end({ code: grpc.status.UNAVAILABLE, details });
  }

  /** The sender runs on the data its member record names (peer-identity.ts); else ends the stream. */
  private senderIsKnown(
    batch: ProtoMessageBatch,
    presented: string | undefined,
    end: (status: Partial<grpc.StatusObject>) => void,
  ): boolean {
    // Another cluster's traffic is onBatch's to refuse, with the clearer reason.
    if (batch.clusterId !== this.options.validation.clusterId) return true;
    const problem = identityProblem(batch.from, presented, this.options.memberUuid);
    if (problem === undefined) return true;
    const { stats } = this.options;
    stats.refused += batch.messages.length;
    stats.refusedIdentity++;
    this.logOnce(
      `identity:${batch.from}:${presented}`,
      { from: batch.from, presented },
      `refused stream: ${problem}`,
    );
    end({ code: grpc.status.PERMISSION_DENIED, details: problem });
    return false;
  }

  private onBatch(batch: ProtoMessageBatch, end: (status: Partial<grpc.StatusObject>) => void): void {
    const { validation, logger } = this.options;
    const count = Array.isArray(batch.messages) ? batch.messages.length : 0;
    const batchRefusal = validateBatch(batch, validation);
    if (batchRefusal !== undefined) {
      this.refuse(batchRefusal, count, batch.from, batch.clusterId);
      // Everything else on a stream from another cluster is from that cluster too. A non-member
      // keeps its stream: a node that is joining is a member moments later.
      if (batchRefusal === 'wrong_cluster') {
        end({
          code: grpc.status.FAILED_PRECONDITION,
          details: `cluster id mismatch: this node is in cluster ${validation.clusterId}`,
        });
      }
      return;
    }

    const accepted: Message[] = [];
    for (const wire of batch.messages) {
      const refusal = validateMessage(wire, batch.from, validation);
      if (refusal !== undefined) this.refuse(refusal, 1, batch.from, batch.clusterId);
      else accepted.push(decodeMessage(wire));
    }
    if (accepted.length === 0) return;
    this.options.stats.received += accepted.length;
    try {
      this.options.onMessages(accepted);
    } catch (error) {
      // A bug in the runtime; keep the stream so one bad message does not cut off the peer.
      logger.error({ err: error, from: batch.from }, 'onMessages threw');
    }
  }

  private refuse(reason: RefusalReason, messages: number, from: unknown, theirClusterId: unknown): void {
    const { stats, validation } = this.options;
    stats.refused += messages;
    stats.refusals[reason] = (stats.refusals[reason] ?? 0) + messages;
    this.options.onRefused?.(reason, messages);
    this.logOnce(
      `${reason}:${String(from)}`,
      { reason, from, theirClusterId, ourClusterId: validation.clusterId, nodeId: validation.nodeId },
      'refused messages from a peer',
    );
  }

  private logOnce(key: string, fields: object, text: string): void {
    if (this.logged.has(key)) return;
    if (this.logged.size >= MAX_LOGGED_KEYS) this.logged.clear();
    this.logged.add(key);
    this.options.logger.warn(fields, text);
  }
}
