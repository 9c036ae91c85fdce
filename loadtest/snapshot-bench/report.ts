// The bench's outputs: a text table for the terminal and the full result as JSON.
import type { CompactionPolicy } from '../../src/node/runtime.js';
import type { CatchUpResult } from './catchup.js';
import type { HistoryResult } from './history.js';
import type { DirBytes, DiskUsage, ProcessMemory } from './probes.js';
import type { RestartResult } from './restart.js';

export interface BenchSettings {
  writes: number;
  live: number;
  concurrency: number;
  sample: number;
  compaction: CompactionPolicy;
  walSegmentBytes: number;
  snapshotChunkBytes: number;
  /** Flags passed to the node processes. */
  nodeArgs: string[];
  dataRoot: string;
}

export interface BenchResult {
  startedAt: string;
  machine: { cpus: number; loadAvgStart: number[]; loadAvgEnd: number[]; node: string };
  settings: BenchSettings;
  history?: HistoryResult;
  restart?: RestartResult;
  catchUp?: CatchUpResult;
  problems: string[];
  error?: string;
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '?');
const sec = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '?');
const mb = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1e6).toFixed(1)} MB` : '?');
const dir = (d: DirBytes): string => `${mb(d.allocated)} (${mb(d.apparent)})`;

function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  return rows.map(
    (r) =>
      indent +
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
  );
}

function diskRows(label: string, d: DiskUsage): string[] {
  return [label, dir(d.wal), dir(d.db), dir(d.snapshots), dir(d.total)];
}

export function formatReport(r: BenchResult): string {
  const s = r.settings;
  const out: string[] = [];
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  out.push(
    `snapshot-bench: ${int(s.writes)} writes, live set ${int(s.live)}, ${int(s.concurrency)} proposals in flight`,
  );
  out.push(
    `  compaction: every ${int(s.compaction.thresholdEntries)} entries or ${mb(s.compaction.thresholdBytes)}, ` +
      `keeping ${int(s.compaction.catchUpEntries)}; WAL segments ${mb(s.walSegmentBytes)}; ` +
      `snapshot chunks ${int(s.snapshotChunkBytes)} B`,
  );
  out.push(
    `  machine: ${r.machine.cpus} CPUs, node ${r.machine.node}, load average ${load(r.machine.loadAvgStart)} at start, ` +
      `${load(r.machine.loadAvgEnd)} at the end`,
  );
  out.push(`  data: ${s.dataRoot}`);
  const h = r.history;
  if (h) {
    out.push('', 'history build (in-process node, writes through Raft: WAL fsync, apply, LMDB, compaction)');
    const rows = [['phase', 'writes', 'time', 'writes/s']];
    for (const p of [...h.phases, h.total]) rows.push([p.name, int(p.writes), sec(p.ms), int(p.perSecond)]);
    out.push(...table(rows));
    out.push(
      `  progress intervals: ${
        h.intervalRate.max > 0
          ? `${int(h.intervalRate.min)}..${int(h.intervalRate.max)} writes/s`
          : 'none (shorter than one interval)'
      }; ` +
        `${h.compactions} compactions; retried writes: ${
          Object.entries(h.errors)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || 'none'
        }`,
    );
    out.push(
      `  final: applied ${int(h.finalStatus.appliedIndex)}, snapshot index ${int(h.finalStatus.snapshotIndex)}; ` +
        `stop took ${sec(h.stopMs)}; bench process peak RSS ${mb(h.benchPeak.rss)} (anonymous ${mb(h.benchPeak.rssAnon)})`,
    );
  }
  const rs = r.restart;
  const cu = r.catchUp;
  if (h || rs || cu) {
    out.push('', 'disk use of the data dir: allocated (du), apparent size in parentheses');
    const rows = [['', 'wal', 'db', 'snapshots', 'total']];
    if (h) {
      rows.push(diskRows(`after ${int(Math.min(s.live, s.writes))} writes`, h.diskAfterLive));
      rows.push(diskRows(`after ${int(s.writes)} writes`, h.diskAfterAll));
      rows.push(diskRows('after a clean stop', h.diskAfterStop));
      const p = h.peakAllocated;
      rows.push(['peak during the build (1 s samples)', mb(p.wal), mb(p.db), mb(p.snapshots), mb(p.total)]);
    }
    if (cu) rows.push(diskRows('joiner after catch-up', cu.joinerDisk));
    out.push(...table(rows));
  }
  if (rs) {
    out.push('', 'restart (real node process on that data dir)');
    out.push(
      ...table([
        ['spawn → persisted state loaded', sec(rs.loadedMs)],
        ['spawn → /readyz 200', sec(rs.readyMs)],
        ['RSS after ready', memory(rs.memory)],
        ['WAL at restart', `${dir(rs.diskBefore.wal)}, ${rs.diskBefore.wal.files} files`],
        [
          'snapshot index / last index',
          `${int(rs.snapshotIndex)} / ${int(rs.lastIndex)} → ${int(rs.walEntries)} entries loaded from the WAL`,
        ],
        [
          'applied in LMDB at start',
          `${int(rs.durableApplied)} → ${int(rs.reapplied)} entries applied again`,
        ],
        ['reads after restart', readSummary(rs.reads)],
      ]),
    );
  }
  if (cu) {
    out.push('', 'catch-up by snapshot (second node process joins with an empty data dir)');
    out.push(
      ...table([
        ['leader commit index / snapshot index', `${int(cu.target)} / ${int(cu.leaderSnapshotIndex)}`],
        ['spawn → snapshot installed and commit index applied', sec(cu.caughtUpMs)],
        ['spawn → /readyz 200', sec(cu.readyMs)],
        ['snapshot sent (leader: stream until stored)', sec(cu.sentMs)],
        ['received / installed (joiner)', `${sec(cu.receiveMs)} / ${sec(cu.installMs)}`],
        [
          'raft_snapshot_bytes_sent_total (leader)',
          `${int(cu.snapshotBytesSent)} B (${mb(cu.snapshotBytesSent)})`,
        ],
        [
          'snapshots sent / failed / installed',
          `${int(cu.snapshotsSent)} / ${int(cu.snapshotsFailed)} / ${int(cu.snapshotsInstalled)}`,
        ],
        ['joiner snapshot index', int(cu.joinerSnapshotIndex)],
        ['joiner RSS after catch-up', memory(cu.joinerMemory)],
        ['reads on the joiner', readSummary(cu.reads)],
      ]),
    );
  }
  out.push('');
  if (r.error) out.push(`FAILED: ${r.error}`);
  for (const p of r.problems) out.push(`PROBLEM: ${p}`);
  if (!r.error && r.problems.length === 0) out.push('all checks passed');
  return out.join('\n');
}

function memory(m: ProcessMemory): string {
  return `${mb(m.rss)} (anonymous ${mb(m.rssAnon)}, file-backed ${mb(m.rssFile)}; peak ${mb(m.peakRss)})`;
}

function readSummary(c: {
  live: { asked: number; found: number; wrong: number };
  deleted: { asked: number; found: number };
  ms: number;
}): string {
  return (
    `${c.live.found}/${c.live.asked} live codes found${c.live.wrong ? ` (${c.live.wrong} wrong)` : ''}, ` +
    `${c.deleted.asked - c.deleted.found}/${c.deleted.asked} deleted codes gone, in ${sec(c.ms)}`
  );
}
