// The outbound half of the transport for one peer: a lazily opened, long-lived client stream, a
// bounded queue for when gRPC pushes back, and reconnection with backoff when the stream breaks.
// Raft tolerates lost messages but not unbounded memory or stale replays, so whenever the stream
// is down we drop instead of queueing.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Message } from '../../raft/types.js';
import type { TlsMaterial } from '../../common/tls.js';
import { tokenMetadata } from './auth.js';
import { withNodeUuid } from './peer-identity.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { encodeBatch } from './codec.js';
import { CLIENT_CHANNEL_OPTIONS } from './grpc-options.js';
import { raftService, type ProtoMessageBatch, type ProtoSendAck } from './raft-proto.js';
import type { TransportStats } from './transport-stats.js';

export interface PeerSenderOptions {
  peerId: number;
  address: string;
  nodeId: number;
  clusterId: string;
  authToken?: string;
  /** This node's UUID, presented on every stream it opens (peer-identity.ts). */
  nodeUuid?: string;
  /** Mutual TLS with the peer (its certificate must be signed by tls.ca). */
  tls?: TlsMaterial;
  /** Bound on messages held while gRPC reports backpressure; beyond it new batches are dropped. */
  maxQueuedMessages: number;
  /** A stream whose connection is not up within this time counts as failed. */
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  stats: TransportStats;
  logger: Logger;
  onUnreachable: (peerId: number) => void;
}

interface Streaming {
  kind: 'streaming';
  client: grpc.Client;
  call: grpc.ClientWritableStream<ProtoMessageBatch>;
  openedAt: number;
  /** The connection reached READY at least once. */
  connected: boolean;
  /** The last write returned false; hold batches in `queue` until 'drain'. */
  blocked: boolean;
}

type State =
  | { kind: 'idle' } // no stream; the next send opens one
  | Streaming
  | { kind: 'backoff'; timer: NodeJS.Timeout } // the last stream failed; drop until the timer fires
  | { kind: 'closed' };

/** How long a flushing close() lets gRPC deliver what it holds before cutting the stream. */
const FLUSH_GRACE_MS = 1_000;

export class PeerSender {
  private state: State = { kind: 'idle' };
  private queue: Message[][] = [];
  private queued = 0;
  private readonly backoff: Backoff;
  /** So that a peer that stays down is logged as unreachable once, not at every retry. */
  private reportedUnreachable = false;

  constructor(private readonly options: PeerSenderOptions) {
    this.backoff = new Backoff(options.backoff);
  }

  get address(): string {
    return this.options.address;
  }

  /** Messages waiting in this sender's queue (not yet handed to gRPC). */
  get queuedMessages(): number {
    return this.queued;
  }

  send(batch: Message[]): void {
    if (this.state.kind === 'idle') this.state = this.open();
    const s = this.state;
    if (s.kind !== 'streaming') return this.drop(batch.length);
    if (s.blocked) return this.enqueue(batch);
    this.write(s, batch);
  }

  /**
   * Stops sending. With `flush`, what was already handed to gRPC still goes out: the stream is
   * half-closed and torn down only after a grace period. A removed member needs that: the
   * AppendEntries telling it of its removal is written just before its peer is removed.
   */
  close(options: { flush?: boolean } = {}): void {
    const s = this.state;
    this.state = { kind: 'closed' };
    if (s.kind === 'streaming') {
      if (options.flush) {
        s.call.end();
        setTimeout(() => this.teardown(s), FLUSH_GRACE_MS).unref();
      } else {
        this.teardown(s);
      }
    }
    if (s.kind === 'backoff') clearTimeout(s.timer);
    this.dropQueue();
  }

  private open(): Streaming {
    const { address, authToken, connectTimeoutMs } = this.options;
    const method = raftService().Send;
    const tls = this.options.tls;
    const credentials = tls
      ? grpc.credentials.createSsl(tls.ca, tls.key, tls.cert)
      : grpc.credentials.createInsecure();
    const client = new grpc.Client(address, credentials, CLIENT_CHANNEL_OPTIONS);
    const call = client.makeClientStreamRequest<ProtoMessageBatch, ProtoSendAck>(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      withNodeUuid(tokenMetadata(authToken), this.options.nodeUuid),
      {},
      (error) => this.onStreamEnded(s, error),
    );
    const s: Streaming = {
      kind: 'streaming',
      client,
      call,
      openedAt: Date.now(),
      connected: false,
      blocked: false,
    };
    call.on('drain', () => this.onDrain(s));
    // Failures arrive through the status callback; this listener only keeps a late write error
    // from becoming an unhandled 'error' event.
    call.on('error', (error: Error) => this.fail(s, error.message));
    // Writes made while connecting are buffered by gRPC; bound how long they can wait there.
    client.waitForReady(Date.now() + connectTimeoutMs, (error) => {
      if (this.state !== s) return;
      if (error !== undefined) return this.fail(s, `not connected within ${connectTimeoutMs} ms`);
      s.connected = true;
      if (this.reportedUnreachable) {
        this.reportedUnreachable = false;
        this.options.logger.info({ peerId: this.options.peerId, address }, 'peer reachable again');
      }
    });
    return s;
  }

  private write(s: Streaming, batch: Message[]): void {
    const { clusterId, nodeId, stats } = this.options;
    stats.sent += batch.length;
    if (!s.call.write(encodeBatch(clusterId, nodeId, batch))) s.blocked = true;
  }

  private enqueue(batch: Message[]): void {
    if (this.queued + batch.length > this.options.maxQueuedMessages) return this.drop(batch.length);
    this.queue.push(batch);
    this.queued += batch.length;
  }

  private onDrain(s: Streaming): void {
    if (this.state !== s) return;
    s.blocked = false;
    while (!s.blocked && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.queued -= batch.length;
      this.write(s, batch);
    }
  }

  private onStreamEnded(s: Streaming, error: grpc.ServiceError | null): void {
    // A receiver only ends a healthy stream when it stops, or with an error when it refuses us.
    this.fail(s, error === null ? 'stream ended by peer' : `${grpc.status[error.code]}: ${error.details}`);
  }

  private fail(s: Streaming, reason: string): void {
    if (this.state !== s) return; // a stale stream's late callback
    // A stream that worked for longer than the longest backoff was a success: start over fast.
    // Anything shorter (refused at once, flapping) keeps backing off.
    if (s.connected && Date.now() - s.openedAt > this.options.backoff.maxMs) this.backoff.reset();
    const delayMs = this.backoff.next();
    const timer = setTimeout(() => {
      if (this.state.kind === 'backoff' && this.state.timer === timer) this.state = { kind: 'idle' };
    }, delayMs);
    timer.unref(); // never the reason a process stays alive; close() clears it anyway
    // State first: tearing down may emit events for this stream, which must see it as stale.
    this.state = { kind: 'backoff', timer };
    this.teardown(s);
    this.dropQueue();

    const { peerId, address, logger, onUnreachable } = this.options;
    const fields = { peerId, address, reason, retryInMs: delayMs };
    if (this.reportedUnreachable) logger.debug(fields, 'peer still unreachable');
    else logger.warn(fields, 'peer unreachable; dropping messages until reconnected');
    this.reportedUnreachable = true;
    try {
      onUnreachable(peerId);
    } catch (error) {
      logger.error({ err: error, peerId }, 'onPeerUnreachable threw');
    }
  }

  private teardown(s: Streaming): void {
    s.call.cancel(); // no-op if the call already ended
    s.client.close();
  }

  private dropQueue(): void {
    this.drop(this.queued);
    this.queue = [];
    this.queued = 0;
  }

  private drop(count: number): void {
    this.options.stats.dropped += count;
  }
}
