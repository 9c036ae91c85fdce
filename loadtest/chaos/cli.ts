// npm run chaos -- --nodes 3 --duration 60 --faults kill,pause,partition,restart,membership [--seed N]
//   [--clients N] [--out DIR] [--keep] [--bug stale-reads|ack-before-commit] [--node-arg FLAG ...]
// Starts a cluster behind fault-injecting link proxies, runs clients and a nemesis, heals, checks
// the history, prints a summary and writes an HTML timeline (and, on a bad verdict, the history
// and the node logs) under --out. Exit code: 0 valid, 1 invalid, 2 unknown/inconclusive or error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_FAULT_KINDS, FAULT_KINDS, type FaultKind } from './nemesis.js';
import { formatSummary, renderHtml } from './report.js';
import { runChaos, type PlantedBug } from './runner.js';

const USAGE = `usage: node dist/loadtest/chaos/cli.js [options]
  --nodes N          cluster size (default 3)
  --duration S       seconds under faults (default 60)
  --faults LIST      comma-separated: ${ALL_FAULT_KINDS.join(',')}
                     (default: ${FAULT_KINDS.join(',')}; the disk kinds need FUSE)
  --seed N           seed of the nemesis and the clients (default: random, printed)
  --clients N        concurrent clients (default 6)
  --out DIR          where the summary, timeline, history and logs go (default chaos-results)
  --keep             keep history and logs even when the verdict is good
  --bug NAME         plant a bug to see the checker catch it: stale-reads (linearizable reads are
                     sent as local reads) or ack-before-commit (failed/timed-out creates recorded as
                     acknowledged); repeatable
  --node-arg FLAG    one more flag (or value) for every node, repeatable, e.g.
                     --node-arg=--snapshot-entries --node-arg=500 (fresh nodes then join by snapshot)`;

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    duration: { type: 'string', default: '60' },
    faults: { type: 'string', default: FAULT_KINDS.join(',') },
    seed: { type: 'string' },
    clients: { type: 'string', default: '6' },
    out: { type: 'string', default: 'chaos-results' },
    keep: { type: 'boolean', default: false },
    bug: { type: 'string', multiple: true },
    'node-arg': { type: 'string', multiple: true },
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
const int = (v: string, name: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`${name} must be an integer >= ${min}, got "${v}"`);
  return n;
};
const faults = values.faults
  .split(',')
  .map((f) => f.trim())
  .filter(Boolean);
for (const f of faults)
  if (!(ALL_FAULT_KINDS as readonly string[]).includes(f)) fail(`unknown fault kind "${f}"`);
const bugs = (values.bug ?? []) as PlantedBug[];
for (const b of bugs) if (b !== 'stale-reads' && b !== 'ack-before-commit') fail(`unknown bug "${b}"`);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int(values.seed, '--seed', 0);
const nodes = int(values.nodes, '--nodes', 3);

const abort = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (++signals > 1) process.exit(130); // the 'exit' handlers still SIGCONT/SIGKILL every node
    console.error(`\n${sig}: stopping the run and every node (again to exit at once)`);
    abort.abort();
  });
}

const result = await runChaos({
  nodes,
  durationMs: int(values.duration, '--duration', 1) * 1000,
  faults: faults as FaultKind[],
  seed,
  clients: int(values.clients, '--clients', 1),
  outDir: values.out,
  keepData: values.keep,
  bugs,
  nodeArgs: values['node-arg'] ?? [],
  signal: abort.signal,
  log: (m) => console.error(m),
});
mkdirSync(values.out, { recursive: true });
result.files.html = join(values.out, `timeline-seed${seed}.html`);
writeFileSync(result.files.html, renderHtml(result));
const summary = formatSummary(result);
result.files.summary = join(values.out, `summary-seed${seed}.txt`);
writeFileSync(result.files.summary, `${summary}\n`);
console.log(summary);
console.log(
  `replay: node dist/loadtest/chaos/cli.js --nodes ${nodes} --duration ${values.duration} --faults ${faults.join(',')} --seed ${seed}${bugs.map((b) => ` --bug ${b}`).join('')}${(values['node-arg'] ?? []).map((a) => ` --node-arg=${a}`).join('')}`,
);
process.exit(result.verdict === 'valid' ? 0 : result.verdict === 'invalid' ? 1 : 2);
