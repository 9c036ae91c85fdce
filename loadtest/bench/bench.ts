// `npm run bench`: one table comparing a fresh three-node cluster with the bare-Express ceiling
// (the same HTTP work in memory, no replication, no disk), measured side by side in one run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePorts } from '../../src/launcher/free-ports.js';
import { LocalCluster } from '../../src/launcher/local-cluster.js';
import { waitFor } from '../../src/launcher/node-process.js';
import { parseDuration, runLoad, type RunResult } from '../index.js';
import { cpuSeconds } from './process-cpu.js';
import { searchMaxRate, type RateSearchResult } from './rate-search.js';

const USAGE = `usage: npm run bench -- [--quick] [--duration 30s] [--out loadtest/results]

Starts a three-node cluster from empty data dirs and a bare Express process (the ceiling: the
same HTTP work in memory, no replication, no disk), then measures both with the same open-loop
load generator, in one run, on this machine, alternating between them step by step:
  - writes at 100, 1000 and 3000 req/s: p50 / p99 / max, success
  - the most writes/s in a closed loop (64 connections), then the highest write rate held for
    the whole run with success >= 99.9 % and p99 <= 50 ms (a search started from that figure)
  - how long the followers take to apply everything after that burst
  - reads at the maximum (closed loop, 64 connections) on a follower
  - CPU seconds used by each process over the whole bench
and prints one table with our/bare ratios. Figures go to <out>/bench-<time>.json too.

  --quick          a short smoke version (3 s runs) that CI can afford
  --duration D     length of each fixed-rate run (default 30s; --quick: 3s)
  --out DIR        where to write the JSON (default loadtest/results)`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    duration: { type: 'string' },
    out: { type: 'string', default: 'loadtest/results' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const quick = values.quick ?? false;
const runMs = parseDuration(values.duration ?? (quick ? '3s' : '30s'));
const maxRunMs = quick ? 3_000 : 10_000;
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const BARE_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', 'bare-server.js');

interface Side {
  writes: Record<number, RunResult>;
  /** The closed-loop run (64 connections) that seeds the search: the most writes/s at any latency. */
  ceiling: RunResult;
  search: RateSearchResult;
  reads: RunResult;
  cpu: Record<string, number | undefined>;
}

async function startBare(port: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BARE_ENTRY, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'the bare server',
    async () => ((await fetch(`${url}/cluster/status`).catch(() => undefined))?.ok ? true : undefined),
    10_000,
  );
  return { child, url };
}

/** One system under test: the cluster or the bare server. */
interface Target {
  label: string;
  nodes: string[];
  readNodes: string[];
  pids: Record<string, number | undefined>;
  /** Run right after the rate search's burst (the cluster's follower catch-up). */
  afterBurst?: () => Promise<number>;
}

/**
 * Measures both targets step by step, alternating: each row's two runs are minutes apart at most,
 * so a machine that slows down for a while (a noisy neighbour, the VM's host) shifts both sides of
 * a ratio, not one.
 */
async function measureBoth(targets: [Target, Target]): Promise<[Side & { catchUpMs?: number }, Side]> {
  const cpuBefore = targets.map((t) =>
    Object.fromEntries(Object.entries(t.pids).map(([k, pid]) => [k, cpuSeconds(pid)])),
  );
  const each = async <T>(step: (t: Target) => Promise<T>): Promise<[T, T]> => [
    await step(targets[0]),
    await step(targets[1]),
  ];
  const writes: [Record<number, RunResult>, Record<number, RunResult>] = [{}, {}];
  for (const rate of [100, 1000, 3000]) {
    const [a, b] = await each((t) => {
      say(`${t.label}: writes at ${rate}/s for ${runMs / 1000} s`);
      return runLoad({ nodes: t.nodes, rate, durationMs: runMs, warmupMs: 1_000 });
    });
    writes[0][rate] = a;
    writes[1][rate] = b;
  }
  const searches = await each(async (t) => {
    say(`${t.label}: closed-loop estimate of the write ceiling`);
    const estimate = await runLoad({ nodes: t.nodes, mode: 'max', connections: 64, durationMs: maxRunMs });
    say(
      `${t.label}: searching the highest write rate held for ${runMs / 1000} s (estimate ${estimate.summary.throughput.toFixed(0)}/s)`,
    );
    const search = await searchMaxRate({
      nodes: t.nodes,
      estimate: estimate.summary.throughput,
      durationMs: runMs,
      maxSteps: quick ? 4 : 8,
      log: say,
    });
    return { ceiling: estimate, search, catchUpMs: t.afterBurst ? await t.afterBurst() : undefined };
  });
  const reads = await each((t) => {
    say(`${t.label}: reads at the maximum, 64 connections, on ${t.readNodes.join(',')}`);
    return runLoad({
      nodes: t.nodes,
      mode: 'max',
      connections: 64,
      durationMs: maxRunMs,
      mix: { write: 0, read: 1 },
      readNodes: t.readNodes,
      seed: 1000,
    });
  });
  // Each process's CPU over the whole bench: while the other side runs, it idles (heartbeats, timers).
  const cpu = targets.map((t, i) =>
    Object.fromEntries(
      Object.entries(t.pids).map(([k, pid]) => {
        const after = cpuSeconds(pid);
        const before = cpuBefore[i]![k];
        return [k, after !== undefined && before !== undefined ? after - before : undefined];
      }),
    ),
  );
  const side = (i: 0 | 1) => ({
    writes: writes[i],
    ceiling: searches[i].ceiling,
    search: searches[i].search,
    reads: reads[i],
    cpu: cpu[i]!,
    catchUpMs: searches[i].catchUpMs,
  });
  return [side(0), side(1)];
}

function fmtMs(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '—';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

function ratio(ours: number, bare: number): string {
  return bare > 0 ? `${(ours / bare).toFixed(2)}x` : '—';
}

function table(ours: Side & { catchUpMs?: number }, bare: Side): string {
  const rows: string[][] = [['measure', 'cluster (3 nodes, fsync)', 'bare Express (memory)', 'ours/bare']];
  for (const rate of [100, 1000, 3000]) {
    const o = ours.writes[rate].summary;
    const b = bare.writes[rate].summary;
    rows.push([
      `writes at ${rate}/s: p50 / p99 / max, success`,
      `${fmtMs(o.latencies.p50)} / ${fmtMs(o.latencies.p99)} / ${fmtMs(o.latencies.max)}, ${(o.success * 100).toFixed(2)} %`,
      `${fmtMs(b.latencies.p50)} / ${fmtMs(b.latencies.p99)} / ${fmtMs(b.latencies.max)}, ${(b.success * 100).toFixed(2)} %`,
      `p99 ${ratio(o.latencies.p99, b.latencies.p99)}`,
    ]);
  }
  const oc = ours.ceiling.summary;
  const bc = bare.ceiling.summary;
  rows.push([
    `most writes/s, closed loop, 64 connections, ${maxRunMs / 1000} s`,
    `${oc.throughput.toFixed(0)}/s (p99 ${fmtMs(oc.latencies.p99)}, success ${(oc.success * 100).toFixed(2)} %)`,
    `${bc.throughput.toFixed(0)}/s (p99 ${fmtMs(bc.latencies.p99)})`,
    ratio(oc.throughput, bc.throughput),
  ]);
  rows.push([
    `highest write rate held ${runMs / 1000} s (success >= 99.9 %, p99 <= 50 ms)`,
    `${ours.search.rate}/s (p99 ${fmtMs(ours.search.run?.summary.latencies.p99)})`,
    `${bare.search.rate}/s (p99 ${fmtMs(bare.search.run?.summary.latencies.p99)})`,
    ratio(ours.search.rate, bare.search.rate),
  ]);
  rows.push(['followers applied everything after that burst', fmtMs(ours.catchUpMs), '—', '']);
  const or = ours.reads.summary;
  const br = bare.reads.summary;
  rows.push([
    'reads (GET -> 302), closed loop, 64 connections',
    `${or.throughput.toFixed(0)}/s on a follower (p99 ${fmtMs(or.latencies.p99)}, success ${(or.success * 100).toFixed(2)} %)`,
    `${br.throughput.toFixed(0)}/s (p99 ${fmtMs(br.latencies.p99)})`,
    ratio(or.throughput, br.throughput),
  ]);
  const cpu = (side: Side) =>
    Object.entries(side.cpu)
      .map(([k, s]) => `${k} ${s === undefined ? '?' : s.toFixed(1)} s`)
      .join(', ');
  rows.push(['CPU seconds during the runs', cpu(ours), cpu(bare), '']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

const dataRoot = mkdtempSync(join(tmpdir(), 'bench-'));
const [bareHttp, ...clusterPorts] = await freePorts(7);
const cluster = new LocalCluster({
  size: 3,
  host: '127.0.0.1',
  httpPorts: clusterPorts.slice(0, 3),
  raftPorts: clusterPorts.slice(3, 6),
  dataRoot,
  // Nodes run as users run them: access lines on (successes at debug, so not written at info).
});
let bare: { child: ChildProcess; url: string } | undefined;
const cleanup = async () => {
  bare?.child.kill('SIGTERM');
  await cluster.stop().catch(() => cluster.killAll());
  rmSync(dataRoot, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  say(`starting a three-node cluster in ${dataRoot} and the bare server`);
  const leader = await cluster.start(60_000);
  bare = await startBare(bareHttp);
  const nodes = cluster.nodes.map((n) => n.url);
  const followers = cluster.nodes.filter((n) => n.spec.id !== leader.id).map((n) => n.url);
  const pids = Object.fromEntries(
    cluster.nodes.map((n) => [`node${n.spec.id}${n.spec.id === leader.id ? ' (leader)' : ''}`, n.pid]),
  );

  const catchUp = async (): Promise<number> => {
    // Right after the burst: how long until every follower has applied the leader's commit index.
    const started = performance.now();
    const target = (await cluster.leaderStatus())?.commitIndex ?? 0;
    await waitFor(
      'followers to apply everything',
      async () => {
        for (const n of cluster.nodes) {
          const st = await n.status();
          if (!st || st.appliedIndex < target) return undefined;
        }
        return true;
      },
      30_000,
      5,
    );
    return performance.now() - started;
  };

  const [ours, ceiling] = await measureBoth([
    { label: 'cluster', nodes, readNodes: followers.slice(0, 1), pids, afterBurst: catchUp },
    { label: 'bare', nodes: [bare.url], readNodes: [bare.url], pids: { bare: bare.child.pid } },
  ]);
  const text = table(ours, ceiling);
  process.stdout.write(`\n${text}\n\n`);
  mkdirSync(values.out!, { recursive: true });
  const file = join(values.out!, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const brief = (side: Side & { catchUpMs?: number }) => ({
    writes: Object.fromEntries(Object.entries(side.writes).map(([r, run]) => [r, run.summary])),
    ceiling: side.ceiling.summary,
    maxRate: side.search.rate,
    searchSteps: side.search.steps,
    catchUpMs: side.catchUpMs,
    reads: side.reads.summary,
    cpuSeconds: side.cpu,
  });
  writeFileSync(
    file,
    JSON.stringify({ quick, runMs, cluster: brief(ours), bare: brief(ceiling), table: text }, null, 2),
  );
  say(`figures written to ${file}`);
} finally {
  await cleanup();
}
