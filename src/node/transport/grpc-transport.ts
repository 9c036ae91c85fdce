// The Raft transport: one gRPC server for inbound streams and one PeerSender per peer for
// outbound ones. It moves the consensus core's Messages between nodes and nothing else: no
// retries, no ordering across peers, no persistence — Raft handles loss; we only keep it cheap.

import type { TlsMaterial } from '../../common/tls.js';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Message, SnapshotMeta } from '../../raft/types.js';
import { SERVER_OPTIONS } from './grpc-options.js';
import type { MemberUuidLookup } from './peer-identity.js';
import { PeerSender } from './peer-sender.js';
import { raftService } from './raft-proto.js';
import { Receiver } from './receiver.js';
import {
  DEFAULT_SNAPSHOT_LIMITS,
  snapshotHandler,
  type SnapshotConsumer,
  type SnapshotLimits,
} from './snapshot-receiver.js';
import { sendSnapshot } from './snapshot-sender.js';
import { TransportMetrics } from './transport-metrics.js';
import { emptyStats, type TransportStats } from './transport-stats.js';
import type { PeerDirectory } from './validate-message.js';

export interface GrpcTransportOptions {
  nodeId: number;
  clusterId: string;
  /** "host:port"; port 0 picks a free port (see start()). */
  listenAddr: string;
  /** Called for each accepted batch, in arrival order per sending peer. */
  onMessages: (messages: Message[]) => void;
  /** A stream to this peer failed or could not be opened; messages to it are being dropped. */
  onPeerUnreachable?: (peerId: number) => void;
  logger: Logger;
  /** Per-peer bound on messages held under gRPC backpressure. Default 4096. */
  maxQueuedMessagesPerPeer?: number;
  /** If set, sent with every stream and required on every inbound stream. */
  authToken?: string;
  /** This node's UUID, presented on every stream it opens. */
  nodeUuid?: string;
  /** The UUID the membership records for a member: inbound traffic must present it. */
  memberUuid?: MemberUuidLookup;
  /** Mutual TLS: serve with this certificate, require peers' certificates signed by its CA. */
  tls?: TlsMaterial;
  /** Reconnect backoff bounds. Defaults 50 ms → 1 s. */
  reconnectBackoff?: { initialMs: number; maxMs: number };
  /** An outbound stream not connected within this time is dropped and retried. Default 1 s. */
  connectTimeoutMs?: number;
  /** Who may send: messages from anyone not a current member are refused. */
  peers: PeerDirectory;
  /** Checks the command bytes of received normal entries (the runtime would fail applying them). */
  isValidCommand?: (data: Uint8Array) => boolean;
  /** Where to count refused messages and snapshots by reason (none when omitted). */
  metricsRegistry?: Registry;
  /** Inbound snapshot limits (defaults: DEFAULT_SNAPSHOT_LIMITS). */
  snapshotLimits?: Partial<SnapshotLimits>;
  /** Takes inbound snapshots (InstallSnapshot); none accepted while it returns undefined. */
  snapshotConsumer?: () => SnapshotConsumer | undefined;
  /** Bytes per InstallSnapshot chunk. Default 256 KiB. */
  snapshotChunkBytes?: number;
}

/** What the runtime asks of the transport to stream a snapshot to a peer. */
export interface OutgoingSnapshot {
  to: number;
  term: number;
  meta: SnapshotMeta;
  source: AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

const DEFAULT_SNAPSHOT_CHUNK_BYTES = 256 * 1024;
const SNAPSHOT_STALL_TIMEOUT_MS = 30_000;

const DEFAULT_MAX_QUEUED_MESSAGES_PER_PEER = 4096;
const DEFAULT_RECONNECT_BACKOFF = { initialMs: 50, maxMs: 1_000 };
const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
/** How long stop() lets the server finish gracefully before cutting connections. */
const SHUTDOWN_GRACE_MS = 250;

export class GrpcTransport {
  /** Live counters (messages). */
  readonly stats: Readonly<TransportStats>;

  private readonly mutableStats: TransportStats = emptyStats();
  private readonly server: grpc.Server;
  private readonly receiver: Receiver;
  private readonly peers = new Map<number, PeerSender>();
  private readonly logger: Logger;
  private stopped = false;

  constructor(private readonly options: GrpcTransportOptions) {
    this.stats = this.mutableStats;
    this.logger = options.logger.child({ component: 'raft-transport', nodeId: options.nodeId });
    const metrics = options.metricsRegistry ? new TransportMetrics(options.metricsRegistry) : undefined;
    this.receiver = new Receiver({
      validation: {
        nodeId: options.nodeId,
        clusterId: options.clusterId,
        peers: options.peers,
        isValidCommand: options.isValidCommand,
      },
      authToken: options.authToken,
      memberUuid: options.memberUuid,
      onMessages: options.onMessages,
      onRefused: (reason, messages) => metrics?.messagesRefused.inc({ reason }, messages),
      stats: this.mutableStats,
      logger: this.logger,
    });
    this.server = new grpc.Server(SERVER_OPTIONS);
    this.server.addService(raftService(), {
      Send: this.receiver.handleSend,
      InstallSnapshot: snapshotHandler({
        nodeId: options.nodeId,
        clusterId: options.clusterId,
        authToken: options.authToken,
        memberUuid: options.memberUuid,
        peers: options.peers,
        limits: {
          maxBytes: options.snapshotLimits?.maxBytes ?? DEFAULT_SNAPSHOT_LIMITS.maxBytes,
          idleTimeoutMs: options.snapshotLimits?.idleTimeoutMs ?? DEFAULT_SNAPSHOT_LIMITS.idleTimeoutMs,
        },
        onRefused: (reason) => metrics?.snapshotsRefused.inc({ reason }),
        logger: this.logger,
        consumer: () => (this.stopped ? undefined : options.snapshotConsumer?.()),
      }),
    });
  }

  /** Binds the server; resolves with the bound port (useful when listenAddr's port is 0). */
  start(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(
        this.options.listenAddr,
        this.options.tls
          ? grpc.ServerCredentials.createSsl(
              this.options.tls.ca,
              [{ cert_chain: this.options.tls.cert, private_key: this.options.tls.key }],
              true, // checkClientCertificate: mutual TLS
            )
          : grpc.ServerCredentials.createInsecure(),
        (error, port) => {
          if (error) return reject(error);
          this.logger.info({ listenAddr: this.options.listenAddr, port }, 'raft transport listening');
          resolve({ port });
        },
      );
    });
  }

  /** Adds a peer or changes its address. The same address again is a no-op (keeps the stream). */
  setPeer(id: number, raftAddr: string): void {
    if (this.stopped) return;
    const existing = this.peers.get(id);
    if (existing?.address === raftAddr) return;
    existing?.close();
    this.peers.set(
      id,
      new PeerSender({
        peerId: id,
        address: raftAddr,
        nodeId: this.options.nodeId,
        clusterId: this.options.clusterId,
        authToken: this.options.authToken,
        nodeUuid: this.options.nodeUuid,
        tls: this.options.tls,
        maxQueuedMessages: this.options.maxQueuedMessagesPerPeer ?? DEFAULT_MAX_QUEUED_MESSAGES_PER_PEER,
        connectTimeoutMs: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        backoff: this.options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF,
        stats: this.mutableStats,
        logger: this.logger,
        onUnreachable: (peerId) => this.options.onPeerUnreachable?.(peerId),
      }),
    );
  }

  removePeer(id: number): void {
    // Flushed: the last messages to a removed member include the news of its removal.
    this.peers.get(id)?.close({ flush: true });
    this.peers.delete(id);
  }

  /** Never blocks or throws: groups by `to`, one batch per peer, order kept within each peer. */
  send(messages: Message[]): void {
    const byPeer = new Map<number, Message[]>();
    for (const m of messages) {
      const batch = byPeer.get(m.to);
      if (batch === undefined) byPeer.set(m.to, [m]);
      else batch.push(m);
    }
    for (const [peerId, batch] of byPeer) {
      const peer = this.stopped ? undefined : this.peers.get(peerId);
      // Unknown peer (address not learned yet, or removed): Raft will resend when it matters.
      if (peer === undefined) this.mutableStats.dropped += batch.length;
      else peer.send(batch);
    }
  }

  /**
   * Streams a snapshot to a peer on a connection of its own. Resolves with the bytes sent once
   * the peer has stored it; rejects if the peer is unknown, refuses, or the transfer breaks.
   */
  async sendSnapshot(snapshot: OutgoingSnapshot): Promise<number> {
    const peer = this.stopped ? undefined : this.peers.get(snapshot.to);
    if (peer === undefined) throw new Error(`no address for node ${snapshot.to}`);
    return sendSnapshot({
      ...snapshot,
      address: peer.address,
      nodeId: this.options.nodeId,
      clusterId: this.options.clusterId,
      chunkBytes: this.options.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES,
      authToken: this.options.authToken,
      nodeUuid: this.options.nodeUuid,
      tls: this.options.tls,
      stallTimeoutMs: SNAPSHOT_STALL_TIMEOUT_MS,
    });
  }

  /** Messages held for `peerId` under backpressure (0 for an unknown peer). For tests/metrics. */
  queuedMessages(peerId: number): number {
    return this.peers.get(peerId)?.queuedMessages ?? 0;
  }

  /** Closes outbound streams, ends inbound ones, and shuts the server down. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    // Inbound streams are long-lived and never end on their own; end them so that the graceful
    // shutdown below normally completes at once rather than waiting out the grace period.
    this.receiver.endAll('node is stopping');
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    this.logger.info('raft transport stopped');
  }
}
