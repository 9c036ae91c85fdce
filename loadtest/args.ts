// Command-line flags -> run options. Kept apart from cli.ts so parsing is testable without running.
import { parseArgs } from 'node:util';
import { parseDuration } from './duration.js';
import { FAULT_SCRIPT_HELP, parseFaultScript, validateFaultPlan, type FaultEvent } from './faults/script.js';
import { DEFAULT_NODES, type LoadOptions, type ReadNodes } from './options.js';
import { parseSweep } from './sweep.js';
import { TIMER_KINDS, type TimerKind } from './ticker.js';

export interface CliArgs {
  help: boolean;
  load: Partial<LoadOptions>;
  sweep?: number[];
  json?: string;
  html?: string;
  title?: string;
  quiet: boolean;
  /** --cluster: the tool starts its own cluster (and injects --faults). */
  cluster?: { size: number; faults: FaultEvent[]; keepData: boolean; profileDir?: string };
}

export const HELP = `Usage: npm run loadtest -- [flags]

Load-tests the URL shortener (or the bare Express ceiling server). Prints a vegeta-style report.

Modes
  --rate N            open loop: N requests/s; request i is due at i/N s whatever happened before,
                      and its latency counts from that due time (coordinated omission corrected,
                      as wrk2 and vegeta). Sends exactly rate x duration requests. Default 100.
  --max               closed loop: --connections workers, each sends its next request as soon as
                      the previous one completed; finds the maximum throughput.
  --sweep connections=1,2,4,8,16,32
                      the closed-loop mode once per level (each for --duration); prints and plots
                      throughput and latency against connections.
  --duration D        length of the attack (per level for sweeps): 30s, 500ms, 2m. Default 10s.
  --warmup D          unrecorded load of the same shape first (JIT, connections), e.g. 2s. Default 0.
  --requests N        cap on the request count in --max / --sweep mode.

What to send
  --target write|read write: POST /shorten with a URL never sent before
                      (https://example.com/lt/<runId>/<i>) to the leader; a 409 from a follower is
                      followed to its leaderUrl and counted as a hop. read: GET /:code over codes
                      created by a seeding phase; the 302 is the success and is never followed.
                      Default write.
  --mix write=W,read=R
                      weighted, evenly interleaved mix of writes and reads (e.g. write=20,read=80).
  --nodes URLS        comma-separated node URLs (loopback only). Default
                      ${DEFAULT_NODES.join(',')}.
                      The leader is found with GET /cluster/status (first node if none answers).
  --read-nodes all|leader|followers|URLS
                      where reads go, round-robin. Default all.
  --seed N            codes created before a read or mix run. Default 1000.

A cluster of its own, with faults
  --cluster           start a fresh cluster of node processes for this run (dist/cmd/node.js, free
                      loopback ports, empty temp data dirs) and stop every one of them at the end,
                      on errors and on Ctrl-C. After the load, every acknowledged write is looked up
                      on every node (GET /<code> -> 302 to the URL written): "Acked check" in the
                      report, missing ones are listed (none expected).
  --cluster-size N    nodes in that cluster (default 3).
  --faults SCRIPT     with --cluster and --rate: inject faults while the load runs, each one a marker
                      on the plots. SCRIPT is
${FAULT_SCRIPT_HELP.replace(/^ {2}/gm, '                      ')}
                      e.g. "5s:kill-follower,10s:restart,15s:kill-leader,20s:restart,25s:slow-leader,35s:slow-end"
                      (with --duration 40s). Writes that hit a dead node (connection refused/reset)
                      or one that knows no leader (503) look the leader up again at once
                      (GET /cluster/status of every node) and are retried there, counted as hops.
                      The report adds the faults as they happened, the failed-request count, for
                      each leader kill the time until a new leader and until the first write it
                      acknowledged, and the acked check. Killed nodes still down at the end are
                      restarted for the check.
  --keep-data         keep the cluster's data dirs and node logs (the path is in the report).
  --profile DIR       run every node under node --cpu-prof; each writes DIR/CPU.<date>.<time>.<pid>.*.cpuprofile
                      when it stops (open in Chrome DevTools or speedscope).

Client
  --connections N     connection cap per node (undici Pool, pipelining 1); in --max mode also the
                      number of workers. Default 256 for --rate (never the bottleneck), 64 for --max.
  --timeout D         per request (headers, and again body). Also the drain time after the attack:
                      what has not answered by then is counted as an error. Default 10s.
  --max-hops N        409 redirects a write follows before it counts as failed. Default 3.
  --timer worker|spin|coarse
                      how the open-loop scheduler waits for the next due time (lateness counts in the
                      latency): worker = a worker thread in Atomics.wait, sub-ms and no CPU (default);
                      spin = setTimeout then setImmediate, as precise but keeps a core busy at
                      >= 1000 req/s; coarse = setTimeout only, adds ~0.5 ms on average.

Output
  stdout              vegeta's text report (Requests, Duration, Latencies, Bytes In/Out, Success,
                      Status Codes, Error Set), then per-kind lines, 409 hops, the longest stretch
                      without a successful write, and "Loader lag" (send time - due time: if large,
                      the loader itself was late and the latencies include its delay).
  --json FILE         summary, per-second timeline (count, ok, p50/p90/p99/max, throughput), markers.
  --html FILE         self-contained page with SVG plots: latency of every request over time,
                      percentiles per second, histogram, throughput per second (or the sweep plots).
  --title TEXT        title of the HTML page.
  --run-id ID         makes write URLs https://example.com/lt/ID/<i> (default: random).
  --quiet             no progress messages on stderr.
  -h, --help          this text.

Examples
  npm run loadtest -- --rate 1000 --duration 30s --html loadtest/results/w1000.html
  npm run loadtest -- --target read --read-nodes followers --max --connections 64 --duration 10s
  npm run loadtest -- --mix write=20,read=80 --rate 2000 --duration 30s --json loadtest/results/mix.json
  npm run loadtest -- --sweep connections=1,2,4,8,16,32 --duration 5s --html loadtest/results/sweep.html
  npm run loadtest -- --cluster --rate 500 --duration 40s --html loadtest/results/faults.html \\
      --faults "5s:kill-follower,10s:restart,15s:kill-leader,20s:restart,25s:slow-leader,35s:slow-end"
  node dist/loadtest/bare-server.js --port 9000 &
  npm run loadtest -- --nodes http://127.0.0.1:9000 --max --duration 10s
`;

/** Every flag the CLI accepts (the --help test checks each one is documented). */
export const CLI_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  rate: { type: 'string' },
  max: { type: 'boolean' },
  sweep: { type: 'string' },
  duration: { type: 'string' },
  requests: { type: 'string' },
  warmup: { type: 'string' },
  target: { type: 'string' },
  mix: { type: 'string' },
  nodes: { type: 'string' },
  'read-nodes': { type: 'string' },
  seed: { type: 'string' },
  connections: { type: 'string' },
  timeout: { type: 'string' },
  'max-hops': { type: 'string' },
  timer: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  title: { type: 'string' },
  'run-id': { type: 'string' },
  quiet: { type: 'boolean' },
  cluster: { type: 'boolean' },
  'cluster-size': { type: 'string' },
  faults: { type: 'string' },
  'keep-data': { type: 'boolean' },
  profile: { type: 'string' },
} as const;

export function parseCli(argv: string[]): CliArgs {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: CLI_OPTIONS,
  });
  const args: CliArgs = {
    help: !!v.help,
    load: {},
    quiet: !!v.quiet,
    json: v.json,
    html: v.html,
    title: v.title,
  };
  if (args.help) return args;
  if (v.rate !== undefined && (v.max || v.sweep))
    throw new Error('--rate cannot be combined with --max or --sweep');
  if (v.target !== undefined && v.mix !== undefined) throw new Error('use either --target or --mix');
  const load = args.load;
  load.mode = v.max || v.sweep ? 'max' : 'rate';
  if (v.rate !== undefined) load.rate = positive('--rate', v.rate);
  if (v.duration !== undefined) load.durationMs = parseDuration(v.duration);
  if (v.warmup !== undefined) load.warmupMs = parseDuration(v.warmup);
  if (v.requests !== undefined) load.maxRequests = positiveInt('--requests', v.requests);
  if (v.target !== undefined) {
    if (v.target !== 'write' && v.target !== 'read') throw new Error('--target must be write or read');
    load.mix = v.target === 'write' ? { write: 1, read: 0 } : { write: 0, read: 1 };
  }
  if (v.mix !== undefined) load.mix = parseMix(v.mix);
  if (v.nodes !== undefined) load.nodes = list(v.nodes);
  if (v['read-nodes'] !== undefined) load.readNodes = parseReadNodes(v['read-nodes']);
  if (v.seed !== undefined) load.seed = positiveInt('--seed', v.seed);
  if (v.connections !== undefined) load.connections = positiveInt('--connections', v.connections);
  if (v.timeout !== undefined) load.timeoutMs = parseDuration(v.timeout);
  if (v['max-hops'] !== undefined) load.maxHops = Number(v['max-hops']);
  if (v.timer !== undefined) {
    if (!TIMER_KINDS.includes(v.timer as TimerKind))
      throw new Error('--timer must be worker, spin or coarse');
    load.timer = v.timer as TimerKind;
  }
  if (v['run-id'] !== undefined) load.runId = v['run-id'];
  if (v.sweep !== undefined) args.sweep = parseSweep(v.sweep);
  if (v.cluster) {
    if (v.nodes !== undefined)
      throw new Error('--cluster starts its own nodes: it cannot be combined with --nodes');
    if (v.sweep !== undefined) throw new Error('--cluster cannot be combined with --sweep');
    const size = v['cluster-size'] === undefined ? 3 : positiveInt('--cluster-size', v['cluster-size']);
    if (size > 9) throw new Error('--cluster-size must be at most 9');
    const faults = v.faults === undefined ? [] : parseFaultScript(v.faults);
    if (faults.length > 0 && load.mode !== 'rate')
      throw new Error('--faults needs the fixed-rate mode (--rate), not --max');
    validateFaultPlan(faults, { durationMs: load.durationMs ?? 10_000, clusterSize: size });
    args.cluster = { size, faults, keepData: !!v['keep-data'] };
    if (v.profile !== undefined) args.cluster.profileDir = v.profile;
  } else {
    for (const flag of ['faults', 'cluster-size', 'keep-data', 'profile'] as const) {
      if (v[flag] !== undefined) throw new Error(`--${flag} needs --cluster`);
    }
  }
  return args;
}

export function parseMix(text: string): { write: number; read: number } {
  const mix = { write: 0, read: 0 };
  for (const part of list(text)) {
    const m = /^(write|read)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`invalid --mix part "${part}": expected write=N,read=M`);
    mix[m[1] as 'write' | 'read'] = Number(m[2]);
  }
  if (mix.write + mix.read <= 0) throw new Error('--mix needs a positive weight');
  return mix;
}

function parseReadNodes(text: string): ReadNodes {
  if (text === 'all' || text === 'leader' || text === 'followers') return text;
  return list(text);
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new Error(`${flag} must be a positive number, got "${text}"`);
  return n;
}

function positiveInt(flag: string, text: string): number {
  const n = positive(flag, text);
  if (!Number.isInteger(n)) throw new Error(`${flag} must be an integer, got "${text}"`);
  return n;
}
