// One chaos run: a real cluster behind link proxies, concurrent clients, a nemesis; then heal, let
// the cluster converge, probe every URL once more and read every code on every node that is a
// member at the end (membership faults change which), and check the history (checker.ts). Every
// process and proxy is stopped on every path out (errors, abort).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HttpClient } from '../client.js';
import { ChaosCluster } from './chaos-cluster.js';
import { checkHistory, type CheckReport, type Violation } from './checker.js';
import { sleep } from '../sleep.js';
import { classifyCreate, classifyRead, startWorkload } from './clients.js';
import { History, historyToJson, type CreateOp, type Op, type ReadOp } from './history.js';
import { DISK_FAULT_KINDS, startNemesis, type FaultKind, type FaultRecord } from './nemesis.js';
import { Rng } from './rng.js';

export type PlantedBug = 'stale-reads' | 'ack-before-commit';

export interface ChaosOptions {
  nodes: number;
  durationMs: number;
  faults: FaultKind[];
  seed: number;
  clients: number;
  /** Pause between faults and a fault's length (ms). */
  gapMs?: [number, number];
  faultMs?: [number, number];
  createTimeoutMs?: number;
  readTimeoutMs?: number;
  /** Where the report, timeline and (on a bad verdict) the history and node logs go. */
  outDir?: string;
  /** Keep the data dirs and logs even when the verdict is good. */
  keepData?: boolean;
  bugs?: PlantedBug[];
  /** More flags for every node, e.g. ['--snapshot-entries', '500'] to make joins use InstallSnapshot. */
  nodeArgs?: string[];
  signal?: AbortSignal;
  log?: (m: string) => void;
}

export interface ChaosResult {
  options: ChaosOptions;
  verdict: 'valid' | 'invalid' | 'unknown';
  ops: Op[];
  faults: FaultRecord[];
  check: CheckReport;
  /** Violations of the final check (every acknowledged create on every node), also in check. */
  finalMissing: number;
  counts: {
    creates: Record<string, number>;
    linearizableReads: Record<string, number>;
    localReads: Record<string, number>;
    finalProbes: number;
    finalReads: number;
  };
  faultsByKind: Record<string, number>;
  /** Faults by kind and variant where a kind has variants, e.g. "membership replace": 2. */
  faultsByVariant: Record<string, number>;
  /** The members at the start and at the end (the final checks read the latter). */
  members: { initial: number[]; final: number[] };
  /** Longest time without an acknowledged write during the run (ms), and when. */
  writeGap: { ms: number; fromMs: number; toMs: number; during?: string };
  runMs: number;
  dataRoot: string;
  dataKept: boolean;
  pids: number[];
  proxyStats: { connections: number; unidentified: number; resets: number };
  files: { summary?: string; html?: string; history?: string; logs?: string };
  interrupted: boolean;
  error?: string;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? (() => undefined);
  const rng = new Rng(o.seed);
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const history = new History(now);
  const dataRoot = mkdtempSync(join(tmpdir(), 'chaos-'));
  const stopAll = new AbortController();
  let interrupted = false;
  const onAbort = (): void => {
    interrupted = true;
    stopAll.abort();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  let cluster: ChaosCluster | undefined;
  let faults: FaultRecord[] = [];
  const finalViolations: Violation[] = [];
  let error: string | undefined;
  let runEndMs = 0;
  let runStartMs = 0;
  const initialMembers = Array.from({ length: o.nodes }, (_, i) => i + 1);
  try {
    cluster = await ChaosCluster.create({
      size: o.nodes,
      dataRoot,
      rand: () => rng.next(),
      nodeArgs: ['--no-request-log', ...(o.nodeArgs ?? [])],
      faultDisks: o.faults.some((k) => (DISK_FAULT_KINDS as readonly string[]).includes(k)),
    });
    log(
      `chaos: seed ${o.seed}, ${o.nodes} nodes, ${o.durationMs / 1000}s, faults ${o.faults.join(',')}, data in ${dataRoot}`,
    );
    await cluster.start(60_000, log);
    if (stopAll.signal.aborted) throw new Error('interrupted');

    // ---------------------------------------------------------------- the run
    const workloadStop = new AbortController();
    const nemesisStop = new AbortController();
    stopAll.signal.addEventListener('abort', () => {
      workloadStop.abort();
      nemesisStop.abort();
    });
    runStartMs = now();
    const endAt = runStartMs + o.durationMs;
    const work = startWorkload({
      nodes: cluster,
      history,
      rng: rng.fork(1000),
      clients: o.clients,
      createTimeoutMs: o.createTimeoutMs ?? 1_500,
      readTimeoutMs: o.readTimeoutMs ?? 2_000,
      urlPrefix: `https://chaos.example/s${o.seed}-${Date.now().toString(36)}`,
      bugStaleReads: o.bugs?.includes('stale-reads'),
      signal: workloadStop.signal,
    });
    const nemesis = startNemesis({
      cluster,
      rng: rng.fork(2000),
      kinds: o.faults,
      now,
      untilMs: endAt - 1_000,
      gapMs: o.gapMs ?? [500, 2_500],
      faultMs: o.faultMs ?? [500, 4_000],
      signal: nemesisStop.signal,
      log,
    });
    faults = nemesis.faults;
    const ticker = setInterval(() => {
      const okCreates = history.ops.filter((x) => x.kind === 'create' && x.outcome === 'ok').length;
      log(
        `… ${Math.round((now() - runStartMs) / 1000)}s: ${history.ops.length} ops, ${okCreates} acknowledged creates, ${faults.length} faults`,
      );
    }, 10_000);
    await sleep(Math.max(0, endAt - now()), stopAll.signal);
    nemesisStop.abort(); // a fault in progress ends (and heals) early
    await nemesis.done;
    workloadStop.abort();
    await work.done;
    clearInterval(ticker);
    runEndMs = now();
    if (stopAll.signal.aborted) throw new Error('interrupted');

    // ---------------------------------------------------------------- heal and converge
    log('healing: links, paused processes, stopped nodes');
    cluster.proxies.healAll();
    cluster.resumeAll();
    for (const id of cluster.ids) if (!cluster.node(id).running) cluster.restart(id);
    await cluster.waitUntilConverged(60_000);
    log('converged; probing every URL once more and reading every code on every node');

    // ---------------------------------------------------------------- final probes and reads
    const http = new HttpClient({ connections: 16, timeoutMs: 10_000 });
    try {
      const urls = [
        ...new Set(history.ops.filter((x): x is CreateOp => x.kind === 'create').map((x) => x.url)),
      ];
      await forEachLimit(urls, 16, async (url) => {
        for (let attempt = 0; attempt < 5; attempt++) {
          const leader = (await cluster!.leader(1_000)) ?? cluster!.ids[0];
          const op = history.invoke({
            kind: 'create',
            client: -1,
            node: leader,
            url,
            phase: 'final' as const,
          }) as CreateOp;
          const r = await http.send(
            'POST',
            `${cluster!.node(leader).url}/shorten`,
            JSON.stringify({ url }),
            true,
          );
          history.complete(op);
          classifyCreate(op, r, cluster!);
          if (op.outcome === 'ok') return;
          await sleep(100);
        }
      });
      await cluster.waitUntilConverged(60_000);
      // Every code anyone saw: acknowledged creates, probes, reads that returned a URL.
      const expected = new Map<string, string>();
      for (const x of history.ops) {
        if (x.kind === 'create' && x.outcome === 'ok' && x.code) expected.set(x.code, x.url);
      }
      for (const x of history.ops) {
        if (x.kind === 'read' && x.outcome === 'ok' && x.url && !expected.has(x.code))
          expected.set(x.code, x.url);
      }
      const codes = [...expected.keys()];
      const finalReads = codes.flatMap((code) => cluster!.ids.map((id) => ({ code, id })));
      await forEachLimit(finalReads, 24, async ({ code, id }) => {
        const op = history.invoke({
          kind: 'read',
          client: -1,
          node: id,
          code,
          consistency: 'local' as const,
          phase: 'final' as const,
        }) as ReadOp;
        const r = await http.send('GET', `${cluster!.node(id).url}/${encodeURIComponent(code)}`);
        history.complete(op);
        classifyRead(op, r);
        const want = expected.get(code)!;
        if (op.outcome !== 'ok' || op.url !== want) {
          finalViolations.push({
            check: 'final-state',
            key: code,
            message: `after healing, node ${id} answers ${op.status}${op.url ? ` ${op.url}` : ''} for ${code}; expected 302 ${want}`,
            ops: [op.id],
          });
        }
      });
    } finally {
      await http.destroy();
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    log(`chaos: ${error}`);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    if (cluster) await cluster.destroy();
  }

  // ------------------------------------------------------------------ planted history bug
  let ops = history.ops;
  if (o.bugs?.includes('ack-before-commit')) ops = plantAckBeforeCommit(ops, rng.fork(3000));

  const check: CheckReport = checkHistory(ops);
  if (finalViolations.length > 0) {
    check.violations.push(...finalViolations);
    check.ok = false;
  }
  // The final check found acknowledged creates missing: with the planted bug, the fabricated codes.
  if (o.bugs?.includes('ack-before-commit')) {
    const fabricated = ops.filter((x) => x.kind === 'create' && x.error === 'planted: acked before commit');
    for (const f of fabricated as CreateOp[]) {
      const finalRead = history.ops.find(
        (x) => x.kind === 'read' && x.phase === 'final' && x.code === f.code,
      );
      if (!finalRead) {
        check.violations.push({
          check: 'final-state',
          key: f.code!,
          message: `acknowledged create ${f.id} (${f.url} -> ${f.code}) is on no node after healing`,
          ops: [f.id],
        });
        check.ok = false;
      }
    }
  }

  const verdict: ChaosResult['verdict'] =
    error !== undefined || interrupted
      ? 'unknown'
      : !check.ok
        ? 'invalid'
        : check.inconclusive.length > 0
          ? 'unknown'
          : 'valid';
  const result: ChaosResult = {
    options: o,
    verdict,
    ops,
    faults,
    check,
    finalMissing: check.violations.filter((v) => v.check === 'final-state').length,
    counts: countOps(ops),
    faultsByKind: Object.fromEntries(o.faults.map((k) => [k, faults.filter((f) => f.kind === k).length])),
    faultsByVariant: countVariants(faults),
    members: { initial: initialMembers, final: cluster?.ids ?? [] },
    writeGap: longestWriteGap(ops, runStartMs, runEndMs),
    runMs: runEndMs - runStartMs,
    dataRoot,
    dataKept: false,
    pids: cluster?.pids ?? [],
    proxyStats: cluster?.proxies.stats ?? { connections: 0, unidentified: 0, resets: 0 },
    files: {},
    interrupted,
    error,
  };

  // ------------------------------------------------------------------ keep what a bad run needs
  const bad = verdict !== 'valid';
  if (o.outDir) {
    mkdirSync(o.outDir, { recursive: true });
    if (bad || o.keepData) {
      result.files.history = join(o.outDir, `history-seed${o.seed}.json`);
      writeFileSync(result.files.history, historyToJson(ops));
      result.files.logs = join(o.outDir, `logs-seed${o.seed}`);
      mkdirSync(result.files.logs, { recursive: true });
      // Every node that ever ran: membership faults add ids beyond --nodes.
      const logs = existsSync(dataRoot) ? readdirSync(dataRoot).filter((f) => /^node\d+\.log$/.test(f)) : [];
      for (const f of logs) cpSync(join(dataRoot, f), join(result.files.logs, f));
    }
  }
  if (bad || o.keepData) {
    result.dataKept = true;
    if (!o.outDir) {
      result.files.history = join(dataRoot, 'history.json');
      writeFileSync(result.files.history, historyToJson(ops));
      result.files.logs = dataRoot;
    }
  } else {
    rmSync(dataRoot, { recursive: true, force: true });
  }
  return result;
}

/**
 * The planted "acknowledge before commit" bug, as a history mutation: some creates that failed or
 * timed out are recorded as acknowledged, with the code the leader would have generated and lost.
 */
export function plantAckBeforeCommit(ops: Op[], rng: Rng): Op[] {
  const candidates = ops.filter((x) => x.kind === 'create' && x.phase === 'run' && x.outcome !== 'ok');
  const chosen = new Set(
    rng
      .shuffle(candidates)
      .slice(0, Math.max(1, Math.ceil(candidates.length / 4)))
      .map((x) => x.id),
  );
  return ops.map((x) => {
    if (!chosen.has(x.id) || x.kind !== 'create') return x;
    return {
      ...x,
      outcome: 'ok' as const,
      code: `lost${rng.int(0, 1e9).toString(36)}`,
      created: true,
      completeMs: Number.isFinite(x.completeMs) ? x.completeMs : x.invokeMs + 1,
      error: 'planted: acked before commit',
    };
  });
}

function countVariants(faults: FaultRecord[]): Record<string, number> {
  const r: Record<string, number> = {};
  for (const f of faults) if (f.variant) r[`${f.kind} ${f.variant}`] = (r[`${f.kind} ${f.variant}`] ?? 0) + 1;
  return r;
}

function countOps(ops: Op[]): ChaosResult['counts'] {
  const by = (xs: Op[]): Record<string, number> => {
    const r: Record<string, number> = { ok: 0, failed: 0, unknown: 0 };
    for (const x of xs) r[x.outcome]++;
    return r;
  };
  const run = ops.filter((x) => x.phase === 'run');
  return {
    creates: by(run.filter((x) => x.kind === 'create')),
    linearizableReads: by(run.filter((x) => x.kind === 'read' && x.consistency === 'linearizable')),
    localReads: by(run.filter((x) => x.kind === 'read' && x.consistency === 'local')),
    finalProbes: ops.filter((x) => x.phase === 'final' && x.kind === 'create').length,
    finalReads: ops.filter((x) => x.phase === 'final' && x.kind === 'read').length,
  };
}

/** The longest stretch of the run without a create being acknowledged. */
export function longestWriteGap(
  ops: Op[],
  fromMs: number,
  toMs: number,
): { ms: number; fromMs: number; toMs: number; during?: string } {
  const acks = ops
    .filter((x) => x.kind === 'create' && x.phase === 'run' && x.outcome === 'ok' && x.error === undefined)
    .map((x) => x.completeMs)
    .filter((t) => t >= fromMs && t <= toMs)
    .sort((a, b) => a - b);
  const points = [fromMs, ...acks, toMs];
  let best = { ms: 0, fromMs, toMs: fromMs };
  for (let i = 1; i < points.length; i++) {
    const gap = points[i] - points[i - 1];
    if (gap > best.ms) best = { ms: gap, fromMs: points[i - 1], toMs: points[i] };
  }
  // What the creates sent during the gap got, by node: e.g. "node 3: 504×2; node 1: 409×5".
  const tally = new Map<string, number>();
  for (const x of ops) {
    if (x.kind !== 'create' || x.phase !== 'run' || x.invokeMs < best.fromMs || x.invokeMs > best.toMs)
      continue;
    const k = `node ${x.node}: ${x.status || x.error || 'no answer'}${x.error && x.status ? ` ${x.error}` : ''}`;
    tally.set(k, (tally.get(k) ?? 0) + 1);
  }
  return { ...best, during: [...tally].map(([k, n]) => `${k} ×${n}`).join('; ') };
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
