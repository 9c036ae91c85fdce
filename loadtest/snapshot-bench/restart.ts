// Step 2: the cost of a restart. A real node process (cmd/node.js) starts on the data dir the
// history was written to; the bench times spawn → /readyz answers 200, and reads its memory,
// what it loaded (snapshot index, last index) and a sample of reads.
import { NodeProcess } from '../../src/launcher/node-process.js';
import {
  checkReads,
  diskUsage,
  fetchStatus,
  isReady,
  logLines,
  poll,
  processMemory,
  type DiskUsage,
  type ProcessMemory,
  type ReadCheck,
} from './probes.js';

export interface RestartOptions {
  dataDir: string;
  httpPort: number;
  raftPort: number;
  logFile: string;
  extraArgs: string[];
  readyTimeoutMs: number;
  /** URLs to read after the restart: each live one must be found, each deleted one must not. */
  sample: { live: number[]; deleted: number[] };
}

export interface RestartResult {
  diskBefore: DiskUsage;
  /** Spawn → the log line "loaded persisted state" (WAL read, LMDB opened). */
  loadedMs: number;
  /** Spawn → GET /readyz answers 200. */
  readyMs: number;
  /** Right after ready (peakRss: the peak until then). */
  memory: ProcessMemory;
  snapshotIndex: number;
  lastIndex: number;
  /** The applied index LMDB held at start: entries after it are applied again from the WAL. */
  durableApplied: number;
  /** lastIndex - snapshotIndex: the entries read from the WAL into memory. */
  walEntries: number;
  /** lastIndex - durableApplied: the entries applied again. */
  reapplied: number;
  commitIndex: number;
  reads: ReadCheck;
}

/** Starts the node and leaves it running (the caller stops it): it leads the catch-up step. */
export async function measureRestart(
  opts: RestartOptions,
): Promise<{ node: NodeProcess; result: RestartResult }> {
  const diskBefore = await diskUsage(opts.dataDir);
  const node = new NodeProcess({
    id: 1,
    host: '127.0.0.1',
    httpPort: opts.httpPort,
    raftPort: opts.raftPort,
    dataDir: opts.dataDir,
    logFile: opts.logFile,
    extraArgs: ['--no-request-log', ...opts.extraArgs],
  });
  const spawnedAt = Date.now();
  const t0 = performance.now();
  node.start();
  try {
    await poll('/readyz of the restarted node', async () => ((await isReady(node.url)) ? true : undefined), {
      timeoutMs: opts.readyTimeoutMs,
      intervalMs: 20,
      alive: () => node.running,
    });
    const readyMs = performance.now() - t0;
    const mem = await processMemory(node.pid!);
    const status = await fetchStatus(node.url);
    if (!status) throw new Error('the restarted node is ready but /cluster/status does not answer');
    const loaded = (await logLines(opts.logFile, 'loaded persisted state')).at(-1);
    if (!loaded) throw new Error('the restarted node did not log "loaded persisted state"');
    const lastIndex = Number(loaded.lastIndex);
    const durableApplied = Number(loaded.applied);
    const reads = await checkReads(node.url, opts.sample.live, opts.sample.deleted);
    return {
      node,
      result: {
        diskBefore,
        loadedMs: Number(loaded.time) - spawnedAt,
        readyMs,
        memory: mem,
        snapshotIndex: status.snapshotIndex,
        lastIndex,
        durableApplied,
        walEntries: lastIndex - status.snapshotIndex,
        reapplied: Math.max(0, lastIndex - durableApplied),
        commitIndex: status.commitIndex,
        reads,
      },
    };
  } catch (err) {
    await node.kill();
    throw err;
  }
}
