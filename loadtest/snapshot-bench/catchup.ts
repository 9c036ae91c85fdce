// Step 3: catch-up by snapshot. A second real node process joins the restarted one with a fresh
// data dir; the leader's log is compacted, so it must install a snapshot. The bench times spawn →
// applied the leader's commit index (polling /cluster/status), then reads a sample from it.
import { NodeProcess } from '../../src/launcher/node-process.js';
import {
  checkReads,
  diskUsage,
  fetchMetrics,
  fetchStatus,
  isReady,
  logLines,
  metricValue,
  poll,
  processMemory,
  type DiskUsage,
  type ProcessMemory,
  type ReadCheck,
} from './probes.js';

export interface CatchUpOptions {
  leader: NodeProcess;
  dataDir: string;
  httpPort: number;
  raftPort: number;
  logFile: string;
  extraArgs: string[];
  timeoutMs: number;
  sample: { live: number[]; deleted: number[] };
}

export interface CatchUpResult {
  /** The leader's commit index when the joiner was spawned: what it must apply. */
  target: number;
  leaderSnapshotIndex: number;
  /** Spawn → the joiner's appliedIndex ≥ target and its snapshotIndex > 0. */
  caughtUpMs: number;
  /** Spawn → the joiner's /readyz answers 200. */
  readyMs: number;
  joinerSnapshotIndex: number;
  snapshotBytesSent: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  snapshotsInstalled: number;
  /** From the logs: the leader's "snapshot sent" (stream until stored), the joiner's receive and install. */
  sentMs: number;
  receiveMs: number;
  installMs: number;
  joinerMemory: ProcessMemory;
  joinerDisk: DiskUsage;
  reads: ReadCheck;
}

export async function measureCatchUp(
  opts: CatchUpOptions,
): Promise<{ node: NodeProcess; result: CatchUpResult }> {
  const leaderStatus = await fetchStatus(opts.leader.url);
  if (!leaderStatus || leaderStatus.role !== 'leader')
    throw new Error('the restarted node is not the leader');
  const node = new NodeProcess({
    id: 2,
    host: '127.0.0.1',
    httpPort: opts.httpPort,
    raftPort: opts.raftPort,
    dataDir: opts.dataDir,
    logFile: opts.logFile,
    join: opts.leader.url,
    extraArgs: ['--no-request-log', ...opts.extraArgs],
  });
  const target = leaderStatus.commitIndex;
  const t0 = performance.now();
  node.start();
  try {
    const alive = (): boolean => node.running && opts.leader.running;
    let readyMs: number | undefined;
    const caughtUp = await poll(
      'the joiner to install the snapshot and apply the commit index',
      async () => {
        if (readyMs === undefined && (await isReady(node.url))) readyMs = performance.now() - t0;
        const st = await fetchStatus(node.url);
        return st && st.snapshotIndex > 0 && st.appliedIndex >= target ? st : undefined;
      },
      { timeoutMs: opts.timeoutMs, intervalMs: 20, alive },
    );
    const caughtUpMs = performance.now() - t0;
    await poll(
      '/readyz of the joiner',
      async () => {
        if (readyMs === undefined && (await isReady(node.url))) readyMs = performance.now() - t0;
        return readyMs;
      },
      { timeoutMs: opts.timeoutMs, intervalMs: 20, alive },
    );
    const mem = await processMemory(node.pid!);
    const reads = await checkReads(node.url, opts.sample.live, opts.sample.deleted);
    const [leaderMetrics, joinerMetrics] = await Promise.all([
      fetchMetrics(opts.leader.url),
      fetchMetrics(node.url),
    ]);
    const sent = (await logLines(opts.leader.spec.logFile, 'snapshot sent')).at(-1);
    const received = (await logLines(opts.logFile, 'received a snapshot from the leader')).at(-1);
    const installed = (await logLines(opts.logFile, 'installed a snapshot from the leader')).at(-1);
    return {
      node,
      result: {
        target,
        leaderSnapshotIndex: leaderStatus.snapshotIndex,
        caughtUpMs,
        readyMs: readyMs ?? NaN,
        joinerSnapshotIndex: caughtUp.snapshotIndex,
        snapshotBytesSent: metricValue(leaderMetrics, 'raft_snapshot_bytes_sent_total'),
        snapshotsSent: metricValue(leaderMetrics, 'raft_snapshots_sent_total'),
        snapshotsFailed: metricValue(leaderMetrics, 'raft_snapshots_failed_total'),
        snapshotsInstalled: metricValue(joinerMetrics, 'raft_snapshots_installed_total'),
        sentMs: Number(sent?.ms ?? NaN),
        receiveMs: Number(received?.ms ?? NaN),
        installMs: Number(installed?.ms ?? NaN),
        joinerMemory: mem,
        joinerDisk: await diskUsage(opts.dataDir),
        reads,
      },
    };
  } catch (err) {
    await node.kill();
    throw err;
  }
}
