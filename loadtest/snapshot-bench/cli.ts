// npm run snapshot-bench -- [--writes N] [--live N] [--quick] [--json FILE] [--keep] ...
// Measures what log compaction and InstallSnapshot cost and save (issue #5): builds a long
// history in an in-process node, restarts it as a real node process, and has a second process
// join and catch up by snapshot. Prints a table; --json writes the full result.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../src/launcher/free-ports.js';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import { DEFAULT_COMPACTION } from '../../src/node/runtime.js';
import { measureCatchUp } from './catchup.js';
import { buildHistory } from './history.js';
import { readCheckPassed } from './probes.js';
import { formatReport, type BenchResult, type BenchSettings } from './report.js';
import { measureRestart } from './restart.js';
import { liveRange, sampleRange } from './workload.js';

/** The node's own defaults (src/node/storage/wal, src/node/transport), for the report. */
const DEFAULT_WAL_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_SNAPSHOT_CHUNK_BYTES = 256 * 1024;

const USAGE = `usage: npm run snapshot-bench -- [options]
Builds a history of W writes (creates, then alternating creates and deletes of the oldest URL so
that L URLs stay live) in a single node running in this process, then measures a restart of that
data dir as a real node process, and a second node process joining it by snapshot.

  --writes N                 writes in the history, creates and deletes (default 10000000)
  --live N                   URLs live throughout the churn (default 1000000)
  --quick                    smoke test: --writes 200000 --live 20000
  --concurrency N            proposals in flight while building the history (default 2000)
  --sample N                 live codes read after the restart and on the joiner (default 1000)
  --json FILE                also write the full result as JSON
  --keep                     keep the data dirs and node logs (printed); without it they are
                             removed, unless the run failed
  --ready-timeout S          how long a node may take to become ready or catch up (default 600)
  --progress S               seconds between progress lines (default 10)
Passed to every node (defaults: the node's):
  --snapshot-entries N       (default ${DEFAULT_COMPACTION.thresholdEntries})
  --snapshot-bytes N         (default ${DEFAULT_COMPACTION.thresholdBytes})
  --snapshot-catchup-entries N (default ${DEFAULT_COMPACTION.catchUpEntries})
  --snapshot-chunk-bytes N   (default ${DEFAULT_SNAPSHOT_CHUNK_BYTES})
  --wal-segment-bytes N      (default ${DEFAULT_WAL_SEGMENT_BYTES})
  -h, --help`;

const { values } = parseArgs({
  options: {
    writes: { type: 'string' },
    live: { type: 'string' },
    quick: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '2000' },
    sample: { type: 'string', default: '1000' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'ready-timeout': { type: 'string', default: '600' },
    progress: { type: 'string', default: '10' },
    'snapshot-entries': { type: 'string' },
    'snapshot-bytes': { type: 'string' },
    'snapshot-catchup-entries': { type: 'string' },
    'snapshot-chunk-bytes': { type: 'string' },
    'wal-segment-bytes': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const fail = (m: string): never => {
  console.error(`${m}\n\n${USAGE}`);
  process.exit(2);
};
function int(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

const writes = int(values.writes, '--writes', 1) ?? (values.quick ? 200_000 : 10_000_000);
const live = int(values.live, '--live', 1) ?? (values.quick ? 20_000 : 1_000_000);
const concurrency = int(values.concurrency, '--concurrency', 1)!;
// A delete must be proposed after the create of its URL: with fewer writes in flight than live
// URLs, that create was proposed at least `live` writes earlier.
if (concurrency >= live) fail('--concurrency must be below --live');
const nodeFlags: Array<[string, number | undefined]> = [
  ['--snapshot-entries', int(values['snapshot-entries'], '--snapshot-entries', 1)],
  ['--snapshot-bytes', int(values['snapshot-bytes'], '--snapshot-bytes', 1)],
  ['--snapshot-catchup-entries', int(values['snapshot-catchup-entries'], '--snapshot-catchup-entries', 0)],
  ['--snapshot-chunk-bytes', int(values['snapshot-chunk-bytes'], '--snapshot-chunk-bytes', 1)],
  ['--wal-segment-bytes', int(values['wal-segment-bytes'], '--wal-segment-bytes', 1)],
];
const flag = (name: string): number | undefined => nodeFlags.find(([n]) => n === name)?.[1];
const nodeArgs = nodeFlags.flatMap(([name, v]) => (v === undefined ? [] : [name, String(v)]));
const dataRoot = mkdtempSync(join(tmpdir(), 'snapshot-bench-'));
const settings: BenchSettings = {
  writes,
  live,
  concurrency,
  sample: int(values.sample, '--sample', 1)!,
  compaction: {
    thresholdEntries: flag('--snapshot-entries') ?? DEFAULT_COMPACTION.thresholdEntries,
    thresholdBytes: flag('--snapshot-bytes') ?? DEFAULT_COMPACTION.thresholdBytes,
    catchUpEntries: flag('--snapshot-catchup-entries') ?? DEFAULT_COMPACTION.catchUpEntries,
  },
  walSegmentBytes: flag('--wal-segment-bytes') ?? DEFAULT_WAL_SEGMENT_BYTES,
  snapshotChunkBytes: flag('--snapshot-chunk-bytes') ?? DEFAULT_SNAPSHOT_CHUNK_BYTES,
  nodeArgs,
  dataRoot,
};
const readyTimeoutMs = int(values['ready-timeout'], '--ready-timeout', 1)! * 1000;
const progressMs = int(values.progress, '--progress', 1)! * 1000;

const result: BenchResult = {
  startedAt: new Date().toISOString(),
  machine: { cpus: cpus().length, loadAvgStart: loadavg(), loadAvgEnd: [], node: process.version },
  settings,
  problems: [],
};
const say = (line: string): void => console.log(line);
say(
  `snapshot-bench: ${writes.toLocaleString('en-US')} writes, live ${live.toLocaleString('en-US')}, ` +
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, data under ${dataRoot}`,
);

const started: NodeProcess[] = [];
try {
  const [httpPort1, raftPort1, httpPort2, raftPort2] = await freePorts(4);
  const dataDir1 = join(dataRoot, 'node1');
  say('step 1: building the history in-process');
  result.history = await buildHistory({
    dataDir: dataDir1,
    httpPort: httpPort1,
    raftPort: raftPort1,
    logFile: join(dataRoot, 'node1-history.log'),
    writes,
    live,
    concurrency,
    compaction: settings.compaction,
    walSegmentBytes: settings.walSegmentBytes,
    progressMs,
    onProgress: say,
  });

  const range = liveRange(writes, live);
  const sample = {
    live: sampleRange(range.from, range.to, settings.sample),
    deleted: sampleRange(0, range.from, Math.min(100, settings.sample)),
  };

  say('step 2: restarting the data dir as a node process');
  const restarted = await measureRestart({
    dataDir: dataDir1,
    httpPort: httpPort1,
    raftPort: raftPort1,
    logFile: join(dataRoot, 'node1.log'),
    extraArgs: nodeArgs,
    readyTimeoutMs,
    sample,
  });
  started.push(restarted.node);
  result.restart = restarted.result;
  say(`  ready after ${(restarted.result.readyMs / 1000).toFixed(2)} s (pid ${restarted.node.pid})`);
  if (!readCheckPassed(restarted.result.reads)) {
    result.problems.push(`reads after the restart: ${restarted.result.reads.firstProblems.join('; ')}`);
  }

  say('step 3: a second node process joins and catches up by snapshot');
  const joined = await measureCatchUp({
    leader: restarted.node,
    dataDir: join(dataRoot, 'node2'),
    httpPort: httpPort2,
    raftPort: raftPort2,
    logFile: join(dataRoot, 'node2.log'),
    extraArgs: nodeArgs,
    timeoutMs: readyTimeoutMs,
    sample,
  });
  started.push(joined.node);
  result.catchUp = joined.result;
  if (!readCheckPassed(joined.result.reads)) {
    result.problems.push(`reads on the joiner: ${joined.result.reads.firstProblems.join('; ')}`);
  }
  if (!(joined.result.snapshotsInstalled >= 1)) {
    result.problems.push('the joiner caught up without installing a snapshot (was the log compacted?)');
  }
} catch (err) {
  result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
} finally {
  // The joiner first: the leader then has nobody to hand leadership to and stops at once.
  for (const node of started.reverse()) {
    await node.stop(10_000).catch(() => node.kill());
  }
}
result.machine.loadAvgEnd = loadavg();
say('');
say(formatReport(result));
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  say(`\nJSON written to ${values.json}`);
}
if (values.keep || result.error) {
  say(`data dirs and logs kept under ${dataRoot}`);
} else {
  rmSync(dataRoot, { recursive: true, force: true });
}
process.exit(result.error || result.problems.length > 0 ? 1 : 0);
