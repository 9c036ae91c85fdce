// Wires one node: storage + Raft runtime + URL store + gRPC transport + HTTP API.
import { exitFatal } from './node/fatal-exit.js';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { answerClientErrors } from './http/client-error.js';
import { createHttpApp, type AbuseLimits } from './http/app.js';
import { nodeApiOf } from './http/node-api.js';
import { LinkExport } from './service/link-export.js';
import type { RedirectStatus } from './domain/link-rules.js';
import {
  connectionServerOptions,
  DEFAULT_CONNECTION_LIMITS,
  defaultMaxConnections,
  limitConnections,
  type ConnectionLimits,
} from './http/connection-limits.js';
import { discoverCluster, requestJoin } from './node/join-client.js';
import { encodeMemberContext } from './node/members.js';
import {
  DEFAULT_COMPACTION,
  DEFAULT_TIMING,
  RaftRuntime,
  type CompactionPolicy,
  type RuntimeTiming,
} from './node/runtime.js';
import { join } from 'node:path';
import {
  lockDataDir,
  NodeMetaStore,
  openNodeDatabase,
  WalLogStore,
  type LoadedWalState,
  type Member,
  type NodeIdentity,
  type PendingJoin,
} from './node/storage/index.js';
import { decideStartMode, isEmptyDataDir, StartRefusedError } from './node/start-mode.js';
import { DEFAULT_MIN_FREE_BYTES, DiskSpaceMonitor } from './node/disk-space.js';
import { GrpcTransport } from './node/transport/grpc-transport.js';
import { bootstrapState, Role, type PersistedState } from './raft/index.js';
import { isDecodableCommand } from './shortener/commands.js';
import { SnapshotFiles } from './shortener/snapshot/snapshot-files.js';
import { UrlStore, type ApplyOutcome } from './shortener/url-store.js';
import { finishInterruptedInstall } from './snapshot-recovery.js';
import { bootstrapFromBackup } from './restore-backup.js';
import { ClusterAdmin } from './service/cluster-admin.js';
import { LinkService } from './service/link-service.js';
import { Purger } from './service/purger.js';
import { Readiness } from './service/readiness.js';
import { VisitStats } from './service/visit-stats.js';
import { joinForwarder } from './http/join-forward.js';
import { isLoopback } from './common/loopback.js';
import { isNodeId, NODE_ID_RULE } from './common/node-id.js';
import { secretProblem } from './common/secrets.js';
import { loadTlsMaterial, type TlsFiles } from './common/tls.js';
import { trackRequests } from './common/http-drain.js';

export interface NodeConfig {
  nodeId: number;
  /** host:port the HTTP API listens on. */
  httpAddr: string;
  /** host:port the gRPC (Raft) server listens on. */
  raftAddr: string;
  dataDir: string;
  /** Any member's HTTP URL: join that cluster. */
  join?: string;
  /** Found a new one-node cluster on an empty data dir (ignored on a dir that holds a node). */
  bootstrap?: boolean;
  /** The HTTP URL clients and peers use to reach this node (default http://<httpAddr>). */
  publicUrl?: string;
  /**
   * The service's one public address (behind its load balancer), the same on every node: shortUrl
   * is built from it (default publicUrl). publicUrl stays this node's own, given as leaderUrl.
   */
  shortUrlBase?: string;
  /** A follower passes writes to the leader instead of answering 409 not_leader. */
  forwardWrites?: boolean;
  /** CIDRs of proxies whose X-Forwarded-For names the client (for the write rate limit). */
  trustProxy?: readonly string[];
  /** On stop: how long readiness answers 503 before the listener closes (default 0). */
  shutdownDelayMs?: number;
  /** On stop: how long requests in flight may take to finish before they are cut (default 10 s). */
  drainTimeoutMs?: number;
  /** The gRPC address peers use to reach this node (default raftAddr). */
  advertiseRaftAddr?: string;
  timing?: RuntimeTiming;
  proposalTimeoutMs?: number;
  requestLogging?: boolean;
  /** Shared secret of the cluster: required on gRPC and on the cluster endpoints when set. */
  clusterToken?: string;
  /** When set, writes need it; reads stay open. */
  apiKey?: string;
  /** Mutual TLS between nodes (gRPC) and HTTPS for the API, with these certificate files. */
  tls?: TlsFiles;
  /** Status of GET /:code redirects (301, 302, 307 or 308; default 302). */
  redirectStatus?: RedirectStatus;
  /** Redirects append the request's query string to the long URL. */
  forwardQuery?: boolean;
  /** How often the leader purges expired records and idempotency keys (default 60 s). */
  purgeIntervalMs?: number;
  /** How long an expired record answers 410 before it is purged (default 1 h). */
  expiredRetentionMs?: number;
  /** How long an Idempotency-Key is remembered (default 24 h). */
  idempotencyTtlMs?: number;
  /** How often this node sends its visit counts to the leader (default 1 s). */
  statsFlushIntervalMs?: number;
  /** Blocked hosts and the per-client write rate limit of the HTTP API (none by default). */
  abuseLimits?: AbuseLimits;
  /** When to compact the Raft log (default DEFAULT_COMPACTION). */
  compaction?: CompactionPolicy;
  /** Bytes per InstallSnapshot chunk (default 256 KiB). */
  snapshotChunkBytes?: number;
  /** Largest snapshot accepted from a leader (default DEFAULT_SNAPSHOT_LIMITS.maxBytes). */
  snapshotMaxBytes?: number;
  /** A backup file: an empty data dir starts a new one-node cluster holding its URLs. */
  restoreFrom?: string;
  /** Below this many free bytes on the data dir's file system, writes answer 507 (default 64 MiB; 0: off). */
  minFreeBytes?: number;
  /** HTTP timeouts and the connection cap (DEFAULT_CONNECTION_LIMITS; maxConnections: half the open-file limit). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** Size at which a WAL segment is closed (default 64 MiB); compaction frees whole segments. */
  walSegmentBytes?: number;
  logger: Logger;
}

export interface RunningNode {
  httpPort: number;
  raftPort: number;
  links: LinkService;
  runtime: RaftRuntime<ApplyOutcome['result']>;
  /** Resolves when the node is ready (knows a leader and has caught up to it once). */
  readyPromise: Promise<void>;
  stop(): Promise<void>;
}

const JOIN_TIMEOUT_MS = 120_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

function splitHostPort(addr: string): { host: string; port: number } {
  const at = addr.lastIndexOf(':');
  if (at <= 0) throw new Error(`expected host:port, got "${addr}"`);
  const host = addr.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(addr.slice(at + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in "${addr}"`);
  return { host, port };
}

/** Starts a node on its data dir, which it holds (LOCK file) until stop() has finished. */
export async function startNode(config: NodeConfig): Promise<RunningNode> {
  const releaseLock = lockDataDir(config.dataDir);
  let node: RunningNode;
  try {
    node = await startLockedNode(config);
  } catch (err) {
    releaseLock();
    throw err;
  }
  return {
    ...node,
    async stop() {
      try {
        await node.stop();
      } finally {
        releaseLock();
      }
    },
  };
}

async function startLockedNode(config: NodeConfig): Promise<RunningNode> {
  const log = config.logger;
  const timing = config.timing ?? DEFAULT_TIMING;
  const proposalTimeoutMs = config.proposalTimeoutMs ?? 5_000;
  const tls = config.tls ? loadTlsMaterial(config.tls) : undefined;
  const publicUrl = (config.publicUrl ?? `${tls ? 'https' : 'http'}://${config.httpAddr}`).replace(
    /\/+$/,
    '',
  );
  const address = {
    id: config.nodeId,
    httpUrl: publicUrl,
    raftAddr: config.advertiseRaftAddr ?? config.raftAddr,
  };

  if (!isNodeId(config.nodeId)) throw new Error(`node id must be ${NODE_ID_RULE}, got ${config.nodeId}`);
  for (const [name, value] of [
    ['cluster token', config.clusterToken],
    ['API key', config.apiKey],
  ]) {
    const problem = value === undefined ? undefined : secretProblem(value);
    if (problem) throw new Error(`the ${name} ${problem}`);
  }
  enforceProtectedMode(config, log);
  const startRequest = {
    dataDir: config.dataDir,
    isEmpty: isEmptyDataDir(config.dataDir),
    bootstrap: config.bootstrap === true,
    join: config.join !== undefined,
    restore: config.restoreFrom !== undefined,
  };
  // An empty dir needs no opening to know what is in it: refuse before writing anything to it.
  if (startRequest.isEmpty) decideStartMode({ ...startRequest, hasIdentity: false, hasPendingJoin: false });

  const root = openNodeDatabase(config.dataDir);
  // Opening the WAL repairs a torn tail (an unfinished write) and refuses a corrupt log.
  const logStore = await WalLogStore.open(join(config.dataDir, 'wal'), {
    logger: log.child({ component: 'wal' }),
    segmentBytes: config.walSegmentBytes,
  });
  const metaStore = new NodeMetaStore(root);
  const urlStore = new UrlStore(root);

  const stored = metaStore.getIdentity();
  if (stored && stored.nodeId !== config.nodeId) {
    throw new Error(
      `data dir ${config.dataDir} belongs to node ${stored.nodeId}, not ${config.nodeId}; use the right --id or an empty dir`,
    );
  }
  const pendingJoin = metaStore.getPendingJoin();
  const mode = decideStartMode({ ...startRequest, hasIdentity: !!stored, hasPendingJoin: !!pendingJoin });

  let identity: NodeIdentity & { nodeUuid: string };
  let joinUrl: string | undefined;
  switch (mode) {
    case 'restart':
      identity = await withNodeUuid(stored!, metaStore);
      if (startRequest.bootstrap || startRequest.join || startRequest.restore) {
        log.info(
          'data dir already holds a cluster member: restarting it; --bootstrap, --join and --restore-from are ignored',
        );
      }
      break;
    case 'bootstrap':
      identity = await bootstrapNewCluster({ ...address, nodeUuid: randomUUID() }, logStore, metaStore);
      log.info({ clusterId: identity.clusterId }, 'bootstrapped a new one-node cluster');
      break;
    case 'restore':
      identity = await bootstrapFromBackup({
        file: config.restoreFrom!,
        self: { ...address, nodeUuid: randomUUID() },
        urlStore,
        logStore,
        metaStore,
        logger: log,
      });
      break;
    case 'join': {
      const joining = await beginJoin(config.join!, pendingJoin, metaStore, log, tls?.ca);
      identity = { nodeId: config.nodeId, clusterId: joining.clusterId, nodeUuid: joining.nodeUuid };
      joinUrl = config.join;
      break;
    }
  }
  const self: Member = { ...address, nodeUuid: identity.nodeUuid };

  const loaded = logStore.load();
  const snapshotFiles = new SnapshotFiles(join(config.dataDir, 'snapshots'), urlStore, identity.clusterId);
  await finishInterruptedInstall({
    snapshot: loaded.snapshot,
    urlStore,
    snapshotFiles,
    metaStore,
    logger: log,
  });
  const initialState = persistedState(loaded, metaStore, urlStore);
  const members = metaStore.getMembership()?.members ?? [];
  log.info(
    {
      nodeId: config.nodeId,
      clusterId: identity.clusterId,
      term: initialState.hardState.term,
      lastIndex: initialState.entries.at(-1)?.index ?? 0,
      applied: initialState.applied,
      confState: initialState.confState,
    },
    'loaded persisted state',
  );

  const metricsRegistry = new Registry();
  collectDefaultMetrics({ register: metricsRegistry });

  const transport: GrpcTransport = new GrpcTransport({
    nodeId: config.nodeId,
    clusterId: identity.clusterId,
    listenAddr: config.raftAddr,
    // Only called once the server is started below, after `runtime` exists.
    onMessages: (messages) => runtime.deliver(messages),
    peers: {
      isMember: (id) => runtime.member(id) !== undefined,
      leaderId: () => runtime.leaderId,
    },
    isValidCommand: isDecodableCommand,
    metricsRegistry,
    snapshotLimits: { maxBytes: config.snapshotMaxBytes },
    logger: log, // the transport tags its own lines (component: raft-transport)
    authToken: config.clusterToken,
    nodeUuid: identity.nodeUuid,
    memberUuid: (id): string | undefined => runtime.member(id)?.nodeUuid,
    tls,
    snapshotConsumer:
      () =>
      (incoming): Promise<void> =>
        runtime.receiveSnapshot(incoming),
    snapshotChunkBytes: config.snapshotChunkBytes,
  });

  let fatal = false;
  const runtime = new RaftRuntime<ApplyOutcome['result']>({
    nodeId: config.nodeId,
    timing,
    initialState,
    members,
    logStore,
    metaStore,
    stateMachine: urlStore,
    transport,
    logger: log.child({ component: 'raft' }),
    proposalTimeoutMs,
    metricsRegistry,
    snapshots: snapshotFiles,
    compaction: config.compaction ?? DEFAULT_COMPACTION,
    onFatal: (err) => {
      fatal = true;
      log.fatal({ err }, 'the Raft loop failed; this node cannot continue safely and exits');
      exitFatal();
    },
  });
  const diskSpace = new DiskSpaceMonitor({
    dir: config.dataDir,
    minFreeBytes: config.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES,
    logger: log.child({ component: 'disk' }),
    registry: metricsRegistry,
    onLow: () => runtime.compactNow(),
  });
  const { port: raftPort } = await transport.start();
  const links = new LinkService(runtime, urlStore, { readTimeoutMs: proposalTimeoutMs });
  const cluster = new ClusterAdmin(runtime, urlStore, identity.clusterId);
  cluster.enableJoinForwarding(
    joinForwarder({ nodeId: config.nodeId, clusterToken: config.clusterToken, ca: tls?.ca }),
  );
  const readiness = new Readiness(runtime);
  const purger = new Purger(runtime, urlStore);
  const visits = new VisitStats(runtime, urlStore);
  runtime.start();
  await diskSpace.start();

  const app = createHttpApp({
    node: nodeApiOf(links, cluster, readiness, new LinkExport(urlStore)),
    logger: log.child({ component: 'http' }),
    publicUrl,
    shortUrlBase: config.shortUrlBase,
    trustProxy: config.trustProxy,
    forwardWrites: config.forwardWrites
      ? {
          nodeId: config.nodeId,
          leader: () => leaderOfWrites(runtime),
          clusterToken: config.clusterToken,
          ca: tls?.ca,
          // The leader answers a write once it commits, within its proposal timeout.
          timeoutMs: proposalTimeoutMs + 1_000,
        }
      : undefined,
    requestLogging: config.requestLogging,
    metricsRegistry,
    apiKey: config.apiKey,
    clusterToken: config.clusterToken,
    redirectStatus: config.redirectStatus,
    forwardQuery: config.forwardQuery,
    idempotencyTtlMs: config.idempotencyTtlMs,
    visits,
    diskSpaceProblem: () => diskSpace.problem(),
    ...config.abuseLimits,
  });
  purger.start({
    intervalMs: config.purgeIntervalMs,
    expiredRetentionMs: config.expiredRetentionMs,
    onError: (err) => log.warn({ err }, 'purge of expired entries failed; retrying at the next interval'),
    onPurged: (result) => log.info(result, 'purged expired entries'),
    onClockAhead: (info) =>
      log.warn(
        { ...info, purgeNow: new Date(info.purgeNow).toISOString() },
        'the clock is ahead of the last purge by more than this node measured; purging as of purgeNow only',
      ),
  });
  visits.start({
    flushIntervalMs: config.statsFlushIntervalMs,
    clusterToken: config.clusterToken,
    ca: tls?.ca,
    metricsRegistry,
    // A retry during an election is routine; only a batch given up on is worth a warning.
    onError: (err, info) =>
      log[info.dropped ? 'warn' : 'debug']({ err, ...info }, 'visit counts not delivered'),
  });
  const limits = {
    ...DEFAULT_CONNECTION_LIMITS,
    maxConnections: defaultMaxConnections(),
    ...config.connectionLimits,
  };
  const serverOptions = connectionServerOptions(limits);
  const server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, ...serverOptions }, app)
    : createServer(serverOptions, app);
  answerClientErrors(server, log.child({ component: 'http' }));
  limitConnections(server, limits, { registry: metricsRegistry, logger: log.child({ component: 'http' }) });
  // Keep-alive must outlive typical client pools' idle timeouts, or load tests see resets.
  server.keepAliveTimeout = 65_000;
  const requests = trackRequests(server);
  const { host, port } = splitHostPort(config.httpAddr);
  await listen(server, host, port);
  const httpPort = (server.address() as AddressInfo).port;
  log.info({ httpPort, raftPort, publicUrl, maxConnections: limits.maxConnections }, 'node is serving');

  if (joinUrl) {
    const joined = await requestJoin(
      joinUrl,
      self,
      log,
      Date.now() + JOIN_TIMEOUT_MS,
      config.clusterToken ? { 'x-cluster-token': config.clusterToken } : {},
      tls?.ca,
    );
    runtime.learnMembers(joined);
    // Written last: a node that crashes before this joins again under the same node UUID (the
    // pending join), which the leader answers as a retry.
    await metaStore.setIdentity(identity);
    log.info({ members: joined }, 'joined the cluster as a learner; it is promoted once caught up');
  }

  const readyPromise = waitUntilCaughtUp(runtime, readiness, log);

  return {
    httpPort,
    raftPort,
    links,
    runtime,
    readyPromise,
    async stop() {
      diskSpace.stop();
      // Readiness first: a load balancer stops sending here while the node still answers.
      readiness.beginDrain();
      const delay = new Promise((r) => setTimeout(r, config.shutdownDelayMs ?? 0));
      purger.stop();
      await visits.stop();
      // Hand over while HTTP still answers: new writes get a 409 pointing at the new leader.
      const newLeader = await runtime.handOverLeadership(2_000);
      if (newLeader !== undefined) log.info({ newLeader }, 'leadership handed over');
      await delay;
      await requests.drain(config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
      await runtime.stop();
      await transport.stop();
      if (!fatal) {
        await logStore.close();
        await root.close();
      }
    },
  };
}

/** The leader writes go to, when another node leads and its URL is known. */
function leaderOfWrites(
  runtime: RaftRuntime<ApplyOutcome['result']>,
): { id: number; url: string } | undefined {
  const id = runtime.leaderId;
  if (id === 0 || runtime.role === Role.Leader) return undefined;
  const url = runtime.member(id)?.httpUrl;
  return url ? { id, url } : undefined;
}

/**
 * Without a cluster token anyone who reaches the gRPC port could inject Raft messages, and anyone
 * who reaches the HTTP port could change the membership. Like Redis's protected mode, a node
 * without a token therefore keeps both to this machine (the quick start needs no setup).
 */
function enforceProtectedMode(config: NodeConfig, log: Logger): void {
  if (config.clusterToken) return;
  const raftHost = splitHostPort(config.raftAddr).host;
  if (!isLoopback(raftHost)) {
    throw new Error(
      `refusing to listen for Raft traffic on ${config.raftAddr} without a cluster token: anyone who reaches ` +
        'that port could disrupt the cluster. Set --cluster-token (CLUSTER_TOKEN) on every node, or bind to 127.0.0.1.',
    );
  }
  log.warn(
    'protected mode: no cluster token is set, so the Raft port listens on loopback only and the cluster ' +
      'endpoints (join, remove) answer only requests from this machine; set --cluster-token to run across machines',
  );
}

async function bootstrapNewCluster(
  self: Member & { nodeUuid: string },
  logStore: WalLogStore,
  metaStore: NodeMetaStore,
): Promise<NodeIdentity & { nodeUuid: string }> {
  const state = bootstrapState([{ id: self.id, context: encodeMemberContext(self) }]);
  await logStore.save(state.hardState, state.entries);
  await metaStore.setMembership({ confState: state.confState, members: [self], appliedIndex: 0 });
  const identity = { nodeId: self.id, clusterId: randomUUID(), nodeUuid: self.nodeUuid };
  // The identity is written last: it marks the bootstrap as complete.
  await metaStore.setIdentity(identity);
  return identity;
}

/** A data dir from before node UUIDs gets one now (its member record has none: it is not checked). */
async function withNodeUuid(
  identity: NodeIdentity,
  metaStore: NodeMetaStore,
): Promise<NodeIdentity & { nodeUuid: string }> {
  if (identity.nodeUuid !== undefined) return { ...identity, nodeUuid: identity.nodeUuid };
  const upgraded = { ...identity, nodeUuid: randomUUID() };
  await metaStore.setIdentity(upgraded);
  return upgraded;
}

/**
 * The first half of a join, before the transport starts: the node UUID this dir presents (made
 * and stored before anything is asked, so that a restart resumes the join under it) and the
 * cluster it joins. A dir that began joining one cluster never joins another.
 */
async function beginJoin(
  joinUrl: string,
  pending: PendingJoin | undefined,
  metaStore: NodeMetaStore,
  log: Logger,
  ca: Buffer | undefined,
): Promise<{ nodeUuid: string; clusterId: string }> {
  const nodeUuid = pending?.nodeUuid ?? randomUUID();
  if (!pending) await metaStore.setPendingJoin({ nodeUuid });
  const found = await discoverCluster(joinUrl, log, Date.now() + JOIN_TIMEOUT_MS, ca);
  if (pending?.clusterId !== undefined && pending.clusterId !== found.clusterId) {
    throw new StartRefusedError(
      `this data dir began joining cluster ${pending.clusterId}, but ${joinUrl} is in cluster ` +
        `${found.clusterId}: join the cluster it began with, or start on an empty dir`,
    );
  }
  if (pending?.clusterId === undefined)
    await metaStore.setPendingJoin({ nodeUuid, clusterId: found.clusterId });
  log.info({ clusterId: found.clusterId, joinUrl, nodeUuid }, 'joining an existing cluster');
  return { nodeUuid, clusterId: found.clusterId };
}

function persistedState(
  loaded: LoadedWalState,
  metaStore: NodeMetaStore,
  urlStore: UrlStore,
): PersistedState {
  const membership = metaStore.getMembership();
  return {
    hardState: loaded.hardState,
    entries: loaded.entries,
    snapshot: loaded.snapshot,
    confState: membership?.confState ?? { voters: [], learners: [] },
    applied: urlStore.appliedIndex,
  };
}

/**
 * Ready = knows a leader and has applied what the leader had committed when we asked. One
 * ReadIndex round trip answers exactly that; retried until it succeeds.
 */
async function waitUntilCaughtUp(
  runtime: RaftRuntime<ApplyOutcome['result']>,
  readiness: Readiness,
  log: Logger,
): Promise<void> {
  for (;;) {
    try {
      const index = await runtime.readIndex(2_000);
      readiness.markReady();
      log.info({ appliedIndex: index }, 'node is ready: caught up with the leader');
      return;
    } catch (err) {
      if ((err as Error).name === 'RuntimeStoppedError') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
