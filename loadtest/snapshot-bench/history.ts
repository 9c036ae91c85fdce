// Step 1: build a long history fast. One node runs in this process (startNode, as cmd/node.js
// runs it) and the bench calls its LinkService directly with many proposals in flight, so the
// runtime batches them: the real Raft runtime, WAL fsyncs, apply, LMDB flushes and compaction,
// without HTTP in front.
import { pino } from 'pino';
import type { CompactionPolicy } from '../../src/node/runtime.js';
import { startNode, type RunningNode } from '../../src/server.js';
import type { LinkService } from '../../src/service/link-service.js';
import { diskUsage, logLines, processMemory, type DiskUsage } from './probes.js';
import { codeOf, opAt, urlOf, type Op } from './workload.js';

export interface HistoryOptions {
  dataDir: string;
  httpPort: number;
  raftPort: number;
  logFile: string;
  writes: number;
  live: number;
  concurrency: number;
  compaction?: CompactionPolicy;
  walSegmentBytes?: number;
  progressMs: number;
  onProgress: (line: string) => void;
}

export interface Phase {
  name: string;
  writes: number;
  ms: number;
  perSecond: number;
}

export interface HistoryResult {
  phases: Phase[];
  total: Phase;
  /** Writes/s over each progress interval: the slowest and fastest interval. */
  intervalRate: { min: number; max: number };
  diskAfterLive: DiskUsage;
  diskAfterAll: DiskUsage;
  diskAfterStop: DiskUsage;
  /** Largest allocated bytes seen (sampled every second) per directory. */
  peakAllocated: { wal: number; db: number; snapshots: number; total: number };
  finalStatus: { appliedIndex: number; commitIndex: number; snapshotIndex: number };
  compactions: number;
  /** Writes retried after an error, by error name (none expected on a quiet single node). */
  errors: Record<string, number>;
  stopMs: number;
  /** Peak RSS of the bench process (the in-process node plus the driver), and of its anonymous part. */
  benchPeak: { rss: number; rssAnon: number };
}

class WrongResultError extends Error {
  override name = 'WrongResultError';
}

const MAX_ATTEMPTS = 5;

async function runOp(service: LinkService, op: Op, errors: Record<string, number>): Promise<void> {
  const code = codeOf(op.n);
  for (let attempt = 1; ; attempt++) {
    try {
      if (op.kind === 'create') {
        const r = await service.createWithCode({ code, url: urlOf(op.n), createdAt: Date.now() });
        // A retried create may find its first attempt applied: then created is false.
        if (r.code !== code || (!r.created && attempt === 1)) {
          throw new WrongResultError(`create #${op.n} (${code}) returned ${JSON.stringify(r)}`);
        }
      } else {
        const deleted = await service.deleteShortUrl(code);
        if (!deleted && attempt === 1)
          throw new WrongResultError(`delete #${op.n} (${code}) found no record`);
      }
      return;
    } catch (err) {
      if (err instanceof WrongResultError || attempt >= MAX_ATTEMPTS) throw err;
      const name = (err as Error).name ?? 'Error';
      errors[name] = (errors[name] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Writes [from, to) with `concurrency` proposals in flight; `done` counts completed writes. */
async function drive(
  service: LinkService,
  from: number,
  to: number,
  opts: HistoryOptions,
  counters: { done: number; errors: Record<string, number> },
): Promise<void> {
  let next = from;
  const lane = async (): Promise<void> => {
    while (next < to) {
      const k = next++;
      await runOp(service, opAt(k, opts.live), counters.errors);
      counters.done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, to - from) }, lane));
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export async function buildHistory(opts: HistoryOptions): Promise<HistoryResult> {
  const logger = pino(
    { level: 'info', base: { nodeId: 1 } },
    pino.destination({ dest: opts.logFile, sync: true, mkdir: true }),
  );
  const node: RunningNode = await startNode({
    nodeId: 1,
    httpAddr: `127.0.0.1:${opts.httpPort}`,
    raftAddr: `127.0.0.1:${opts.raftPort}`,
    dataDir: opts.dataDir,
    bootstrap: true,
    requestLogging: false,
    compaction: opts.compaction,
    walSegmentBytes: opts.walSegmentBytes,
    logger,
  });
  let stopped = false;
  const counters = { done: 0, errors: {} as Record<string, number> };
  const peak = { wal: 0, db: 0, snapshots: 0, total: 0 };
  const intervalRate = { min: Infinity, max: 0 };
  const benchPeak = { rss: 0, rssAnon: 0 };
  let sampler: NodeJS.Timeout | undefined;
  try {
    await node.readyPromise;
    const started = performance.now();
    let lastPrint = { at: started, done: 0 };
    let sampling = false;
    sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      void Promise.all([diskUsage(opts.dataDir), processMemory('self')])
        .then(([d, mem]) => {
          peak.wal = Math.max(peak.wal, d.wal.allocated);
          peak.db = Math.max(peak.db, d.db.allocated);
          peak.snapshots = Math.max(peak.snapshots, d.snapshots.allocated);
          peak.total = Math.max(peak.total, d.total.allocated);
          benchPeak.rss = Math.max(benchPeak.rss, mem.rss);
          benchPeak.rssAnon = Math.max(benchPeak.rssAnon, mem.rssAnon);
          const now = performance.now();
          if (now - lastPrint.at < opts.progressMs) return;
          const rate = ((counters.done - lastPrint.done) * 1000) / (now - lastPrint.at);
          intervalRate.min = Math.min(intervalRate.min, rate);
          intervalRate.max = Math.max(intervalRate.max, rate);
          const avg = (counters.done * 1000) / (now - started);
          const rt = node.runtime;
          opts.onProgress(
            `[${((now - started) / 1000).toFixed(0).padStart(5)}s] ${counters.done.toLocaleString('en-US')} writes ` +
              `(${Math.round(rate).toLocaleString('en-US')}/s now, ${Math.round(avg).toLocaleString('en-US')}/s avg) ` +
              `applied=${rt.appliedIndex} snapshot=${rt.snapshotIndex} wal=${mb(d.wal.allocated)} ` +
              `db=${mb(d.db.allocated)} snapshots=${mb(d.snapshots.allocated)} rss=${mb(mem.rss)} (anon ${mb(mem.rssAnon)})`,
          );
          lastPrint = { at: now, done: counters.done };
        })
        .finally(() => {
          sampling = false;
        });
    }, 1_000);

    const phases: Phase[] = [];
    const runPhase = async (name: string, from: number, to: number): Promise<void> => {
      const t0 = performance.now();
      await drive(node.links, from, to, opts, counters);
      const ms = performance.now() - t0;
      phases.push({ name, writes: to - from, ms, perSecond: ((to - from) * 1000) / ms });
    };
    const firstPhaseEnd = Math.min(opts.live, opts.writes);
    await runPhase(`creates 0..${firstPhaseEnd}`, 0, firstPhaseEnd);
    const diskAfterLive = await diskUsage(opts.dataDir);
    opts.onProgress(
      `after ${firstPhaseEnd.toLocaleString('en-US')} writes: wal=${mb(diskAfterLive.wal.allocated)} ` +
        `db=${mb(diskAfterLive.db.allocated)} snapshots=${mb(diskAfterLive.snapshots.allocated)}`,
    );
    if (opts.writes > firstPhaseEnd) {
      await runPhase(`churn ${firstPhaseEnd}..${opts.writes}`, firstPhaseEnd, opts.writes);
    }
    const totalMs = performance.now() - started;
    clearInterval(sampler);
    sampler = undefined;
    const diskAfterAll = await diskUsage(opts.dataDir);
    const st = node.runtime.status();
    const finalStatus = {
      appliedIndex: node.runtime.appliedIndex,
      commitIndex: st.commitIndex,
      snapshotIndex: node.runtime.snapshotIndex,
    };
    const t0 = performance.now();
    stopped = true;
    await node.stop();
    const stopMs = performance.now() - t0;
    const diskAfterStop = await diskUsage(opts.dataDir);
    logger.flush();
    return {
      phases,
      total: { name: 'all', writes: opts.writes, ms: totalMs, perSecond: (opts.writes * 1000) / totalMs },
      intervalRate: { min: Number.isFinite(intervalRate.min) ? intervalRate.min : 0, max: intervalRate.max },
      diskAfterLive,
      diskAfterAll,
      diskAfterStop,
      peakAllocated: peak,
      finalStatus,
      compactions: (await logLines(opts.logFile, 'compacted the log')).length,
      errors: counters.errors,
      stopMs,
      benchPeak,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    if (!stopped) await node.stop().catch(() => undefined);
  }
}
