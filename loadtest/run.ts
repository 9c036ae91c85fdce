// One load run end to end: discover the leader, seed codes for reads, drive the scheduler, drain,
// and summarize. startLoad() exposes the run while it is going (for fault injection: mark() puts a
// labelled line on the plots at the current time); runLoad() is the plain await-the-result form.
import { performance } from 'node:perf_hooks';
import { HttpClient } from './client.js';
import { discover, selectReadNodes, waitForCatchUp } from './cluster.js';
import { defaultOptions, type LoadOptions, type Marker } from './options.js';
import { Recorder } from './recorder.js';
import { runClosedLoop, runOpenLoop } from './scheduler.js';
import { createTicker } from './ticker.js';
import { summarize, timeline, type Summary, type TimelineBucket } from './summary.js';
import { kindAt, Workload } from './workload.js';

export interface RunResult {
  options: Omit<LoadOptions, 'log' | 'onAck'>;
  /** Wall-clock time of t0 (request 0's due time), for correlating with server logs. */
  startedAt: string;
  /** The leader found at the start, and the one writes went to at the end (they differ after a 409). */
  leaderUrl: string;
  finalLeaderUrl: string;
  readNodes: string[];
  seeded: number;
  recorder: Recorder;
  summary: Summary;
  timeline: TimelineBucket[];
  markers: Marker[];
  /** Codes of acknowledged writes (only with collectAcked). */
  acked: string[];
}

export interface RunHandle {
  /** Adds a marker at the current run time (before the attack starts, at 0). */
  mark(label: string): void;
  /** ms since t0, or 0 before the attack starts. */
  elapsedMs(): number;
  /** Stops issuing new requests; what is in flight still completes (bounded by the timeout). */
  stop(): void;
  /** Resolves when the attack started (after discovery and seeding). */
  started: Promise<void>;
  done: Promise<RunResult>;
}

/** async, so that invalid options reject the promise instead of throwing at the call. */
export async function runLoad(options: Partial<LoadOptions>): Promise<RunResult> {
  return startLoad(options).done;
}

export function startLoad(partial: Partial<LoadOptions>): RunHandle {
  const o = defaultOptions(partial);
  let t0 = -1;
  let stopped = false;
  const markers: Marker[] = [...o.markers];
  const elapsedMs = (): number => (t0 < 0 ? 0 : performance.now() - t0);
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  const done = execute(o, {
    markers,
    onStart: (t) => {
      t0 = t;
      markStarted();
    },
    isStopped: () => stopped,
  });
  // If setup fails, `started` must not hang whoever awaits it.
  done.catch(() => markStarted());
  return {
    mark: (label) => markers.push({ atMs: elapsedMs(), label }),
    elapsedMs,
    stop: () => (stopped = true),
    started,
    done,
  };
}

interface Hooks {
  markers: Marker[];
  onStart: (t0: number) => void;
  isStopped: () => boolean;
}

async function execute(o: LoadOptions, hooks: Hooks): Promise<RunResult> {
  const client = new HttpClient({ connections: o.connections, timeoutMs: o.timeoutMs });
  try {
    const view = await discover(client, o.nodes);
    o.log(`leader: ${view.leaderUrl}`);
    const needsReads = o.mix.read > 0;
    const readNodes = needsReads ? selectReadNodes(view, o.nodes, o.readNodes) : [];
    const codes = needsReads ? await seedCodes(client, view.leaderUrl, o) : [];
    if (needsReads && !(await waitForCatchUp(client, view.leaderUrl, readNodes, 10_000))) {
      o.log('warning: read nodes had not applied the seeded writes after 10 s; expect 404s');
    }
    const workload = (leaderUrl: string, urlPrefix: string): Workload =>
      new Workload({
        client,
        leaderUrl,
        readNodes,
        codes,
        urlPrefix,
        maxHops: o.maxHops,
        collectAcked: o.collectAcked,
        nodes: o.nodes,
        onAck: o.onAck,
      });

    let leaderUrl = view.leaderUrl;
    if (o.warmupMs > 0) {
      // Same load, not recorded: JIT-compiles both sides and opens the connections, so the measured
      // part is the steady state. Leftovers past the drain deadline finish in the background.
      const warm = workload(leaderUrl, `${o.urlPrefix}warmup/`);
      await attack(o, warm, o.warmupMs, {
        isStopped: hooks.isStopped,
        onStart: () => undefined,
        abort: async () => undefined,
      });
      leaderUrl = warm.leaderUrl;
      o.log(`warmed up for ${o.warmupMs} ms`);
    }
    const work = workload(leaderUrl, o.urlPrefix);
    const { recorder, t0 } = await attack(o, work, o.durationMs, {
      isStopped: hooks.isStopped,
      onStart: hooks.onStart,
      abort: () => client.destroy(),
    });
    const startedAt = new Date(Date.now() - (performance.now() - t0)).toISOString();

    const { log: _log, onAck: _onAck, ...recorded } = o;
    return {
      options: recorded,
      startedAt,
      leaderUrl: view.leaderUrl,
      finalLeaderUrl: work.leaderUrl,
      readNodes,
      seeded: codes.length,
      recorder,
      summary: summarize(recorder),
      timeline: timeline(recorder, o.durationMs),
      markers: hooks.markers.sort((a, b) => a.atMs - b.atMs),
      acked: work.acked,
    };
  } finally {
    await client.destroy();
  }
}

interface AttackHooks {
  isStopped: () => boolean;
  onStart: (t0: number) => void;
  /** Called when in-flight requests outlive the drain deadline; must make them settle. */
  abort: () => Promise<void>;
}

/** The measured phase: schedules requests by mode, records each one, drains. */
async function attack(
  o: LoadOptions,
  work: Workload,
  durationMs: number,
  hooks: AttackHooks,
): Promise<{ recorder: Recorder; t0: number }> {
  const total = o.mode === 'rate' ? Math.floor((o.rate * durationMs) / 1000) : 0;
  const recorder = new Recorder(o.mode === 'rate' ? total : 4096);
  // Created before t0: starting a worker thread takes tens of ms that must not delay request 0.
  const ticker = o.mode === 'rate' ? await createTicker(o.timer) : undefined;
  const t0 = performance.now();
  const clock = (): number => performance.now() - t0;
  hooks.onStart(t0);

  // Sends request i and records it; never rejects. Closed loop has no due time: latency from the send.
  const send = async (i: number, dueMs?: number): Promise<void> => {
    const startMs = clock();
    dueMs ??= startMs;
    const r = kindAt(i, o.mix) === 'write' ? await work.write(i) : await work.read(i);
    recorder.add({ ...r, dueMs, startMs, endMs: clock() });
  };

  if (ticker) {
    const inFlight = new Set<Promise<void>>();
    try {
      await runOpenLoop({
        rate: o.rate,
        total,
        t0,
        ticker,
        stopped: hooks.isStopped,
        fire: (i, due) => {
          const p = send(i, due).finally(() => inFlight.delete(p));
          inFlight.add(p);
        },
      });
    } finally {
      await ticker.close();
    }
    // Bounded drain: whatever has not answered within the timeout is failed by destroying the pools.
    await drain([...inFlight], o.timeoutMs, hooks.abort);
  } else {
    await runClosedLoop({
      workers: o.connections,
      durationMs,
      maxRequests: o.maxRequests,
      clock,
      stopped: hooks.isStopped,
      send: (i) => send(i),
    });
  }
  return { recorder, t0 };
}

async function drain(pending: Promise<void>[], graceMs: number, abort: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
  const all = Promise.all(pending).then(() => 'ok' as const);
  if ((await Promise.race([all, deadline])) === 'late') {
    await abort();
    // Aborted requests settle (as errors) promptly; wait for them so they are in the report, bounded.
    await Promise.race([all, new Promise((r) => setTimeout(r, 1000).unref())]);
  }
  clearTimeout(timer);
}

/** Creates the codes reads will fetch: `seed` writes with a few in parallel, through the same client. */
async function seedCodes(client: HttpClient, leaderUrl: string, o: LoadOptions): Promise<string[]> {
  const seeder = new Workload({
    client,
    leaderUrl,
    readNodes: [],
    codes: [],
    urlPrefix: `${o.urlPrefix}seed/`,
    maxHops: o.maxHops,
    collectAcked: false,
    // Seeded codes are acknowledged writes too: a fault run checks them with the rest.
    onAck: o.onAck,
  });
  const codes: string[] = [];
  const failures = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < o.seed) {
      const r = await seeder.write(next++);
      if (r.code) codes.push(r.code);
      else failures.add(r.error ?? `status ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, o.seed) }, worker));
  o.log(`seeded ${codes.length}/${o.seed} codes`);
  if (codes.length === 0) throw new Error(`seeding failed: no write succeeded (${[...failures].join('; ')})`);
  return codes;
}
