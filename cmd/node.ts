// Starts one node. Flags win over environment variables:
//   --id N (NODE_ID)  --http HOST:PORT (HTTP_ADDR)  --raft HOST:PORT (RAFT_ADDR)
//   --data DIR (DATA_DIR)  [--join URL (JOIN)]  [--public-url URL (PUBLIC_URL)]
//   [--advertise-raft HOST:PORT (ADVERTISE_RAFT_ADDR)]  [--tick-ms N (TICK_MS)]
//   [--heartbeat-ticks N] [--election-ticks N]
import { parseArgs } from 'node:util';
import { isNodeId, NODE_ID_RULE } from '../src/common/node-id.js';
import type { AbuseLimits } from '../src/http/app.js';
import { REDIRECT_STATUSES, isRedirectStatus, type RedirectStatus } from '../src/domain/link-rules.js';
import { normalizeBlockedHosts } from '../src/http/host-blocklist.js';
import { resolveSecret } from '../src/common/secrets.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../src/http/connection-limits.js';
import { createLogger } from '../src/logger.js';
import { DEFAULT_MIN_FREE_BYTES } from '../src/node/disk-space.js';
import { DEFAULT_COMPACTION, DEFAULT_TIMING } from '../src/node/runtime.js';
import { JoinRefusedError } from '../src/node/join-client.js';
import { StartRefusedError } from '../src/node/start-mode.js';
import { DEFAULT_SNAPSHOT_LIMITS } from '../src/node/transport/snapshot-receiver.js';
import { exitFatal } from '../src/node/fatal-exit.js';
import { startNode } from '../src/server.js';
import { DEPLOY_FLAGS, DEPLOY_USAGE, deployConfig } from './deploy-flags.js';

/** sysexits' EX_CONFIG: the node was told to do something unsafe with its data dir or id. */
const EXIT_REFUSED = 78;
/** sysexits' EX_SOFTWARE, as the node's own fatal path (a failed Raft loop) exits. */
const isRefusal = (err: unknown) => err instanceof StartRefusedError || err instanceof JoinRefusedError;

const USAGE = `usage: node dist/cmd/node.js --id N --http HOST:PORT --raft HOST:PORT --data DIR [--join URL]

  --id N                 this node's id, ${NODE_ID_RULE} (NODE_ID)
  --http HOST:PORT       HTTP API address (HTTP_ADDR)
  --raft HOST:PORT       gRPC address for Raft traffic between nodes (RAFT_ADDR)
  --data DIR             data directory; a used one restarts the node it holds, an empty one needs
                         --bootstrap or --join (DATA_DIR)
  --bootstrap            found a new one-node cluster on an empty --data; a node never founds one
                         without it, and never over a dir that holds anything (BOOTSTRAP=1)
  --join URL             HTTP URL of any member of the cluster to join, with an empty --data (JOIN)
  --public-url URL       URL clients and peers use to reach this node: leaderUrl, and shortUrl too
                         unless --short-url-base is set (PUBLIC_URL)
  --advertise-raft ADDR  gRPC address peers use to reach this node (ADVERTISE_RAFT_ADDR)
  --tick-ms N            length of one Raft tick in ms (TICK_MS, default ${DEFAULT_TIMING.tickMs})
  --heartbeat-ticks N    ticks between heartbeats (HEARTBEAT_TICKS, default ${DEFAULT_TIMING.heartbeatTicks})
  --election-ticks N     base election timeout in ticks, randomized up to 2x (ELECTION_TICKS, default ${DEFAULT_TIMING.electionTicks})
  --commit-broadcast-delay-ms N  how long the leader holds a commit advance for the next AppendEntries to
                         carry before sending it alone; followers apply up to N ms later, writes are not
                         slowed; 0 sends it at once (COMMIT_BROADCAST_DELAY_MS, default ${DEFAULT_TIMING.commitBroadcastDelayMs})
  --no-request-log       turn off per-request HTTP logs (REQUEST_LOG=0)
  --cluster-token T      shared secret of the cluster, required on gRPC and on join/remove (CLUSTER_TOKEN);
                         without it the node runs in protected mode: Raft on loopback only, cluster
                         endpoints for direct local callers only. At least 16 printable characters
  --cluster-token-file F the cluster token from a file, so it is not visible in ps (CLUSTER_TOKEN_FILE)
  --api-key K            writes then need Authorization: Bearer K or X-Api-Key: K; reads stay open (API_KEY);
                         at least 16 printable characters
  --api-key-file F       the API key from a file (API_KEY_FILE)
  --tls-cert FILE        this node's certificate (PEM): with --tls-key and --tls-ca, switches on mutual TLS
  --tls-key FILE         between nodes and HTTPS for the API (TLS_CERT, TLS_KEY, TLS_CA); peers must
  --tls-ca FILE          present a certificate signed by the CA
  --redirect-status N    status of GET /:code redirects: 301, 302, 307 or 308 (REDIRECT_STATUS, default 302)
  --forward-query        redirects append the request's query to the long URL: /abc?utm_source=x →
                         target?utm_source=x (FORWARD_QUERY=1)
  --purge-interval-ms N  how often the leader purges expired entries (PURGE_INTERVAL_MS, default 60000)
  --expired-retention-ms N  how long an expired code answers 410 before it is purged, then 404
                         (EXPIRED_RETENTION_MS, default 3600000)
  --idempotency-ttl-ms N how long an Idempotency-Key is remembered (IDEMPOTENCY_TTL_MS, default 86400000)
  --snapshot-entries N   compact the Raft log once N entries were applied since the last compaction
                         (SNAPSHOT_ENTRIES, default ${DEFAULT_COMPACTION.thresholdEntries})
  --snapshot-bytes N     ... or once N bytes of entries were written since it (SNAPSHOT_BYTES, default ${DEFAULT_COMPACTION.thresholdBytes})
  --snapshot-catchup-entries N  entries kept behind the compaction point for slow followers
                         (SNAPSHOT_CATCHUP_ENTRIES, default ${DEFAULT_COMPACTION.catchUpEntries})
  --snapshot-chunk-bytes N  bytes per InstallSnapshot chunk (SNAPSHOT_CHUNK_BYTES, default 262144)
  --snapshot-max-bytes N  largest snapshot accepted from a leader (SNAPSHOT_MAX_BYTES, default ${DEFAULT_SNAPSHOT_LIMITS.maxBytes})
  --restore-from FILE    with an empty --data: start a new one-node cluster holding the URLs of this backup
                         (a file from GET /cluster/snapshot); others then --join it (RESTORE_FROM)
  --wal-segment-bytes N  WAL segment size; compaction deletes whole segments (WAL_SEGMENT_BYTES, default 67108864)
  --stats-flush-interval-ms N  how often a node sends the visits it counted to the leader, one batch
                         (one Raft entry) each time (STATS_FLUSH_INTERVAL_MS, default 1000)
  --blocked-hosts H,H    hosts POST /shorten refuses, with their subdomains (BLOCKED_HOSTS)
  --write-rate-limit N   writes per second per client (IP, and API key when set), a token bucket;
                         over it: 429 (WRITE_RATE_LIMIT, default off)
  --write-rate-burst N   writes a client may make at once (WRITE_RATE_BURST, default the rate rounded up)
  --min-free-bytes N     below N free bytes on the data dir's file system, writes answer 507 and the log
                         is compacted; reads go on (MIN_FREE_BYTES, default ${DEFAULT_MIN_FREE_BYTES}; 0: off)
  --max-connections N    HTTP connections open at once; beyond it the oldest one without a request in
                         progress is closed (MAX_CONNECTIONS, default half the open-file limit)
  --headers-timeout-ms N a client must send its request headers within N ms (HEADERS_TIMEOUT_MS,
                         default ${DEFAULT_CONNECTION_LIMITS.headersTimeoutMs})
  --request-timeout-ms N ... and its whole request within N ms (REQUEST_TIMEOUT_MS, default ${DEFAULT_CONNECTION_LIMITS.requestTimeoutMs})
  --idle-timeout-ms N    a connection on which nothing moves for N ms is closed, e.g. a backup download
                         the client stopped reading (IDLE_TIMEOUT_MS, default ${DEFAULT_CONNECTION_LIMITS.idleTimeoutMs})
${DEPLOY_USAGE}
  LOG_LEVEL              pino level (default info)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function nonNegativeInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function memberId(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !isNodeId(n)) fail(`--id must be ${NODE_ID_RULE}, got "${value}"`);
  return n;
}

function envFlag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  fail(`${name} must be 1, true, 0 or false, got "${value}"`);
}

function redirectStatus(value: string | undefined): RedirectStatus | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!isRedirectStatus(n)) {
    fail(`--redirect-status must be one of ${REDIRECT_STATUSES.join(', ')}, got "${value}"`);
  }
  return n;
}

function parseAbuseLimits(
  blocked: string | undefined,
  rate: string | undefined,
  burst: string | undefined,
): AbuseLimits {
  const limits: AbuseLimits = {};
  if (blocked) {
    try {
      limits.blockedHosts = normalizeBlockedHosts(blocked.split(','));
    } catch (err) {
      fail(`--blocked-hosts: ${(err as Error).message}`);
    }
  }
  if (rate !== undefined && rate !== '') {
    const perSecond = Number(rate);
    if (!Number.isFinite(perSecond) || perSecond <= 0) {
      fail(`--write-rate-limit must be a positive number, got "${rate}"`);
    }
    limits.writeRateLimit = { perSecond, burst: positiveInt(burst, '--write-rate-burst') };
  } else if (burst) {
    fail('--write-rate-burst needs --write-rate-limit');
  }
  return limits;
}

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    http: { type: 'string' },
    raft: { type: 'string' },
    data: { type: 'string' },
    join: { type: 'string' },
    bootstrap: { type: 'boolean' },
    'public-url': { type: 'string' },
    'advertise-raft': { type: 'string' },
    'tick-ms': { type: 'string' },
    'heartbeat-ticks': { type: 'string' },
    'election-ticks': { type: 'string' },
    'commit-broadcast-delay-ms': { type: 'string' },
    'no-request-log': { type: 'boolean' },
    'cluster-token': { type: 'string' },
    'cluster-token-file': { type: 'string' },
    'api-key': { type: 'string' },
    'api-key-file': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
    'redirect-status': { type: 'string' },
    'forward-query': { type: 'boolean' },
    'purge-interval-ms': { type: 'string' },
    'expired-retention-ms': { type: 'string' },
    'idempotency-ttl-ms': { type: 'string' },
    'snapshot-entries': { type: 'string' },
    'snapshot-bytes': { type: 'string' },
    'snapshot-catchup-entries': { type: 'string' },
    'snapshot-chunk-bytes': { type: 'string' },
    'snapshot-max-bytes': { type: 'string' },
    'wal-segment-bytes': { type: 'string' },
    'restore-from': { type: 'string' },
    'stats-flush-interval-ms': { type: 'string' },
    'blocked-hosts': { type: 'string' },
    'write-rate-limit': { type: 'string' },
    'write-rate-burst': { type: 'string' },
    'min-free-bytes': { type: 'string' },
    'max-connections': { type: 'string' },
    'headers-timeout-ms': { type: 'string' },
    'request-timeout-ms': { type: 'string' },
    'idle-timeout-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...DEPLOY_FLAGS,
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const env = process.env;
const nodeId = memberId(values.id ?? env.NODE_ID) ?? fail('--id is required');
const httpAddr = values.http ?? env.HTTP_ADDR ?? fail('--http is required');
const raftAddr = values.raft ?? env.RAFT_ADDR ?? fail('--raft is required');
const dataDir = values.data ?? env.DATA_DIR ?? fail('--data is required');
const timing = {
  tickMs: positiveInt(values['tick-ms'] ?? env.TICK_MS, '--tick-ms') ?? DEFAULT_TIMING.tickMs,
  heartbeatTicks:
    positiveInt(values['heartbeat-ticks'] ?? env.HEARTBEAT_TICKS, '--heartbeat-ticks') ??
    DEFAULT_TIMING.heartbeatTicks,
  electionTicks:
    positiveInt(values['election-ticks'] ?? env.ELECTION_TICKS, '--election-ticks') ??
    DEFAULT_TIMING.electionTicks,
  commitBroadcastDelayMs:
    nonNegativeInt(
      values['commit-broadcast-delay-ms'] ?? env.COMMIT_BROADCAST_DELAY_MS,
      '--commit-broadcast-delay-ms',
    ) ?? DEFAULT_TIMING.commitBroadcastDelayMs,
};
const tlsCert = values['tls-cert'] ?? (env.TLS_CERT || undefined);
const tlsKey = values['tls-key'] ?? (env.TLS_KEY || undefined);
const tlsCa = values['tls-ca'] ?? (env.TLS_CA || undefined);
const tlsGiven = [tlsCert, tlsKey, tlsCa].filter((v) => v !== undefined).length;
if (tlsGiven !== 0 && tlsGiven !== 3) fail('--tls-cert, --tls-key and --tls-ca go together');
const tls = tlsGiven === 3 ? { certFile: tlsCert!, keyFile: tlsKey!, caFile: tlsCa! } : undefined;
const compaction = {
  thresholdEntries:
    positiveInt(values['snapshot-entries'] ?? env.SNAPSHOT_ENTRIES, '--snapshot-entries') ??
    DEFAULT_COMPACTION.thresholdEntries,
  thresholdBytes:
    positiveInt(values['snapshot-bytes'] ?? env.SNAPSHOT_BYTES, '--snapshot-bytes') ??
    DEFAULT_COMPACTION.thresholdBytes,
  catchUpEntries:
    nonNegativeInt(
      values['snapshot-catchup-entries'] ?? env.SNAPSHOT_CATCHUP_ENTRIES,
      '--snapshot-catchup-entries',
    ) ?? DEFAULT_COMPACTION.catchUpEntries,
};
const abuseLimits = parseAbuseLimits(
  values['blocked-hosts'] ?? env.BLOCKED_HOSTS,
  values['write-rate-limit'] ?? env.WRITE_RATE_LIMIT,
  values['write-rate-burst'] ?? env.WRITE_RATE_BURST,
);
function secret(flag: 'cluster-token' | 'api-key', envName: string): string | undefined {
  try {
    return resolveSecret({
      name: `--${flag}`,
      flag: values[flag],
      flagFile: values[`${flag}-file`],
      env: env[envName],
      envFile: env[`${envName}_FILE`],
      names: { flagFile: `--${flag}-file`, env: envName, envFile: `${envName}_FILE` },
    });
  } catch (err) {
    fail((err as Error).message);
  }
}
const clusterToken = secret('cluster-token', 'CLUSTER_TOKEN');
const apiKey = secret('api-key', 'API_KEY');
const connectionLimits = {
  maxConnections: positiveInt(values['max-connections'] ?? env.MAX_CONNECTIONS, '--max-connections'),
  headersTimeoutMs: positiveInt(
    values['headers-timeout-ms'] ?? env.HEADERS_TIMEOUT_MS,
    '--headers-timeout-ms',
  ),
  requestTimeoutMs: positiveInt(
    values['request-timeout-ms'] ?? env.REQUEST_TIMEOUT_MS,
    '--request-timeout-ms',
  ),
  idleTimeoutMs: positiveInt(values['idle-timeout-ms'] ?? env.IDLE_TIMEOUT_MS, '--idle-timeout-ms'),
};
if (
  (connectionLimits.headersTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.headersTimeoutMs) >
  (connectionLimits.requestTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.requestTimeoutMs)
) {
  fail('--headers-timeout-ms must not exceed --request-timeout-ms');
}
const logger = createLogger(nodeId);

// lmdb-js leaves promises of its own without a handler when a commit fails (the disk failed under
// it), so a failed fsync of the state machine would end the process with Node's bare stack and
// exit 1 before the node's own fatal path runs. Whatever was left unhandled, this process is in a
// state nobody planned for: say so in the log and stop as a fatal failure.
process.on('unhandledRejection', (err) => {
  logger.fatal(
    { err },
    'a failure nobody handled (e.g. a failed LMDB commit); this node cannot continue safely and exits',
  );
  exitFatal();
});

// Set by the test runner (vitest.config.ts): a node outlives its launcher otherwise (it runs in
// its own process group), so an interrupted test run would leave it running for good. Checked by
// polling because Linux tells a child nothing when its parent dies.
if (env.EXIT_WITH_PARENT === '1') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent) return;
    logger.warn({ parent }, 'the process that started this node is gone; stopping');
    process.kill(process.pid, 'SIGTERM');
  }, 1_000).unref();
}

let stopping: Promise<void> | undefined;
async function shutdown(signal: string, stop: () => Promise<void>): Promise<void> {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting at once');
    process.exit(130);
  }
  logger.info({ signal }, 'shutting down');
  stopping = stop();
  await stopping;
  logger.info('stopped');
  process.exit(0);
}

try {
  const node = await startNode({
    nodeId,
    httpAddr,
    raftAddr,
    dataDir,
    join: values.join ?? (env.JOIN || undefined),
    bootstrap: values.bootstrap ?? envFlag(env.BOOTSTRAP, 'BOOTSTRAP'),
    publicUrl: values['public-url'] ?? (env.PUBLIC_URL || undefined),
    advertiseRaftAddr: values['advertise-raft'] ?? (env.ADVERTISE_RAFT_ADDR || undefined),
    timing,
    requestLogging: !(values['no-request-log'] || env.REQUEST_LOG === '0'),
    clusterToken,
    apiKey,
    tls,
    redirectStatus: redirectStatus(values['redirect-status'] ?? env.REDIRECT_STATUS),
    forwardQuery: values['forward-query'] ?? envFlag(env.FORWARD_QUERY, 'FORWARD_QUERY'),
    purgeIntervalMs: positiveInt(values['purge-interval-ms'] ?? env.PURGE_INTERVAL_MS, '--purge-interval-ms'),
    expiredRetentionMs: nonNegativeInt(
      values['expired-retention-ms'] ?? env.EXPIRED_RETENTION_MS,
      '--expired-retention-ms',
    ),
    idempotencyTtlMs: positiveInt(
      values['idempotency-ttl-ms'] ?? env.IDEMPOTENCY_TTL_MS,
      '--idempotency-ttl-ms',
    ),
    compaction,
    snapshotChunkBytes: positiveInt(
      values['snapshot-chunk-bytes'] ?? env.SNAPSHOT_CHUNK_BYTES,
      '--snapshot-chunk-bytes',
    ),
    snapshotMaxBytes: positiveInt(
      values['snapshot-max-bytes'] ?? env.SNAPSHOT_MAX_BYTES,
      '--snapshot-max-bytes',
    ),
    restoreFrom: values['restore-from'] ?? (env.RESTORE_FROM || undefined),
    walSegmentBytes: positiveInt(values['wal-segment-bytes'] ?? env.WAL_SEGMENT_BYTES, '--wal-segment-bytes'),
    statsFlushIntervalMs: positiveInt(
      values['stats-flush-interval-ms'] ?? env.STATS_FLUSH_INTERVAL_MS,
      '--stats-flush-interval-ms',
    ),
    abuseLimits,
    minFreeBytes: nonNegativeInt(values['min-free-bytes'] ?? env.MIN_FREE_BYTES, '--min-free-bytes'),
    connectionLimits: Object.fromEntries(
      Object.entries(connectionLimits).filter(([, v]) => v !== undefined),
    ) as Partial<ConnectionLimits>,
    ...deployConfig(values, env, fail),
    logger,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void shutdown(signal, () => node.stop()));
  }
} catch (err) {
  logger.fatal({ err }, 'node failed to start');
  // Said plainly on stderr too: a refusal tells the operator what to do.
  process.stderr.write(`node ${nodeId} failed to start: ${(err as Error).message}\n`);
  process.exit(isRefusal(err) ? EXIT_REFUSED : 1);
}
