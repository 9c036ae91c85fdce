// `--cluster [--faults SCRIPT]`: the tool starts its own cluster of real node processes (LocalCluster,
// free loopback ports, clean temp data dirs), drives a fixed-rate load at it, and injects the
// scripted faults while the load runs — kill -9 of the leader or a follower, restarts on their data
// dirs, a slow CPU (duty-cycled SIGSTOP/SIGCONT) — each with a marker on the plots. Afterwards every
// node is brought back, and every acknowledged write is looked up on every node.
//
// Every process it starts is stopped by its PID: at the end, on errors, on abort (Ctrl-C in the CLI),
// and, as a last resort, with a synchronous SIGKILL from a process 'exit' handler.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePorts } from '../../src/launcher/free-ports.js';
import { LocalCluster } from '../../src/launcher/local-cluster.js';
import { NodeProcess, waitFor } from '../../src/launcher/node-process.js';
import type { ClusterStatus } from '../../src/domain/cluster-status.js';
import type { LoadOptions } from '../options.js';
import { startLoad, type RunHandle, type RunResult } from '../run.js';
import type { Ack } from '../workload.js';
import { DutyCyclePauser, resumeAllPaused } from './pauser.js';
import { describeAction, validateFaultPlan, type FaultEvent } from './script.js';
import { verifyAcked, type Verification } from './verify.js';
import { sleep } from '../sleep.js';

export interface ClusterRunOptions {
  /** The load (rate, duration, mix, …); `nodes` is set to the started cluster's. */
  load: Partial<LoadOptions>;
  faults: FaultEvent[];
  clusterSize?: number;
  /** Keep the data dirs and node logs (their path is in the result). */
  keepData?: boolean;
  /** Extra flags for every node (default: --no-request-log). */
  nodeArgs?: string[];
  /** Run the nodes under --cpu-prof, writing their profiles into this directory. */
  profileDir?: string;
  startTimeoutMs?: number;
  verifyTimeoutMs?: number;
  /** Aborting stops the load, skips the remaining faults and the check, and cleans up. */
  signal?: AbortSignal;
  log?: (m: string) => void;
}

export interface FaultRecord {
  /** As planned, and when it actually happened (ms since t0). */
  atMs: number;
  firedAtMs?: number;
  text: string;
  /** The marker label (also what the report prints). */
  label: string;
  node?: number;
  pid?: number;
  /** Why it did nothing, or what else happened (e.g. a restart answered after N ms). */
  note?: string;
}

export interface Failover {
  killedNode: number;
  killedAtMs: number;
  /** ms from the kill until a survivor said it leads. */
  electedAfterMs?: number;
  newLeaderNode?: number;
  /** ms from the kill until the first write acknowledged by another node (the new leader). */
  firstAckAfterMs?: number;
  firstAckNode?: string;
}

export interface ClusterRunResult {
  run: RunResult;
  cluster: {
    size: number;
    dataRoot: string;
    dataKept: boolean;
    nodes: Array<{ id: number; url: string }>;
    /** Every process started, including restarts: all are gone when the run returns. */
    pids: number[];
  };
  faults: FaultRecord[];
  failovers: Failover[];
  /** Requests without a 2xx/3xx answer. */
  failed: number;
  /** Nodes restarted (or resumed) after the load so that the check covers every node. */
  broughtBack: string[];
  verification?: Verification;
  interrupted: boolean;
}

export async function runClusterLoad(o: ClusterRunOptions): Promise<ClusterRunResult> {
  const size = o.clusterSize ?? 3;
  const log = o.log ?? (() => undefined);
  const load = o.load;
  validateFaultPlan(o.faults, { durationMs: load.durationMs ?? 10_000, clusterSize: size });
  if (load.mode === 'max' && o.faults.length > 0) throw new Error('faults need the fixed-rate mode (--rate)');

  const dataRoot = mkdtempSync(join(tmpdir(), 'loadtest-cluster-'));
  const ports = await freePorts(2 * size);
  const cluster = new LocalCluster({
    size,
    host: '127.0.0.1',
    httpPorts: ports.slice(0, size),
    raftPorts: ports.slice(size),
    dataRoot,
    extraArgs: o.nodeArgs ?? ['--no-request-log'],
    execArgv: o.profileDir === undefined ? undefined : cpuProfileFlags(o.profileDir),
  });
  const started: NodeProcess[] = [];
  const pids: number[] = [];
  const track = (n: NodeProcess): void => {
    started.push(n);
    if (n.pid !== undefined) pids.push(n.pid);
  };
  // Last resort if this process exits without reaching `finally` (an uncaught error elsewhere).
  const everyNode = (): NodeProcess[] => [...new Set([...started, ...cluster.nodes])];
  const onExit = (): void => {
    resumeAllPaused();
    for (const n of everyNode()) if (n.running && n.pid !== undefined) safeKill(n.pid);
  };
  process.on('exit', onExit);

  const pausers = new Map<number, DutyCyclePauser>(); // by node id
  const faults: FaultRecord[] = [];
  const failovers: Failover[] = [];
  const pendingFailovers: Array<{ f: Failover; killedUrl: string; t: number }> = [];
  const background: Array<Promise<unknown>> = [];
  const acks: Ack[] = [];
  const broughtBack: string[] = [];
  let handle: RunHandle | undefined;
  let interrupted = false;
  // Aborted on Ctrl-C and when the run ends for any reason: ends the fault schedule's sleeps and
  // the background watchers, so nothing fires at a cluster that is being stopped.
  const closing = new AbortController();
  const onAbort = (): void => {
    interrupted = true;
    closing.abort();
    handle?.stop();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    log(`starting a ${size}-node cluster in ${dataRoot}`);
    const startPromise = cluster.start(o.startTimeoutMs ?? 60_000, log);
    for (const n of cluster.nodes) if (n.pid !== undefined) track(n);
    await abortable(startPromise, o.signal);
    // Node 1 was already tracked; the others started inside start().
    for (const n of cluster.nodes) if (!started.includes(n)) track(n);

    const nodes = cluster.nodes.map((n) => n.url);
    handle = startLoad({
      ...load,
      nodes,
      collectAcked: true,
      log: load.log ?? log,
      onAck: (ack) => {
        acks.push(ack);
        for (let i = pendingFailovers.length - 1; i >= 0; i--) {
          const p = pendingFailovers[i];
          if (ack.node === p.killedUrl) continue;
          p.f.firstAckAfterMs = performance.now() - p.t;
          p.f.firstAckNode = ack.node;
          pendingFailovers.splice(i, 1);
        }
      },
    });
    if (interrupted) handle.stop();
    await handle.started;
    const h = handle;

    // ------------------------------------------------------------------ the fault actions
    const leaderNow = async (): Promise<ClusterStatus | undefined> => {
      try {
        return await waitFor('a leader', () => cluster.leaderStatus(), 5_000, 20);
      } catch {
        return undefined;
      }
    };
    const resolveTarget = async (
      target: 'leader' | 'follower' | number,
    ): Promise<{ node?: NodeProcess; note?: string }> => {
      if (typeof target === 'number') {
        const node = cluster.node(target);
        return node.running ? { node } : { note: `node ${target} is not running` };
      }
      const leader = await leaderNow();
      if (target === 'leader') {
        if (!leader) return { note: 'no leader within 5 s' };
        return { node: cluster.node(leader.id) };
      }
      const follower = cluster.nodes.find((n) => n.running && n.spec.id !== leader?.id);
      return follower ? { node: follower } : { note: 'no running follower' };
    };
    const endSlow = async (id: number): Promise<string> => {
      const p = pausers.get(id);
      if (!p) return '';
      pausers.delete(id);
      const { cycles } = await p.stop();
      return `${cycles} pauses`;
    };
    const restart = (id: number): NodeProcess => {
      const old = cluster.node(id);
      // On its data dir, without --join: it comes back with its identity and membership.
      const fresh = new NodeProcess({ ...old.spec, join: undefined });
      cluster.nodes[id - 1] = fresh;
      fresh.start();
      track(fresh);
      return fresh;
    };
    const whenServing = (n: NodeProcess, rec: FaultRecord, t: number): void => {
      background.push(
        waitFor(
          'the restarted node',
          async () => (closing.signal.aborted ? false : (await n.status(500)) ? true : undefined),
          30_000,
          20,
        ).then(
          (ok) => ok && (rec.note = `answers /cluster/status after ${Math.round(performance.now() - t)} ms`),
          () => (rec.note = 'did not answer /cluster/status within 30 s'),
        ),
      );
    };
    const watchElection = (f: Failover, killedId: number, t: number): void => {
      background.push(
        waitFor(
          'a new leader',
          async () => {
            if (closing.signal.aborted) return null;
            const st = await cluster.leaderStatus();
            return st && st.id !== killedId ? st : undefined;
          },
          30_000,
          10,
        ).then(
          (st) => {
            if (!st) return;
            f.electedAfterMs = performance.now() - t;
            f.newLeaderNode = st.id;
          },
          () => undefined,
        ),
      );
    };

    const fire = async (e: FaultEvent, rec: FaultRecord): Promise<void> => {
      const a = e.action;
      const at = (): number => (rec.firedAtMs = h.elapsedMs());
      switch (a.kind) {
        case 'kill': {
          const { node, note } = await resolveTarget(a.target);
          if (!node) return void (rec.note = `skipped: ${note}`);
          const role = typeof a.target === 'number' ? '' : `${a.target} `;
          rec.label = `kill -9 ${role}node ${node.spec.id}`;
          rec.node = node.spec.id;
          rec.pid = node.pid;
          const slowed = await endSlow(node.spec.id); // SIGKILL works on a stopped process, but be tidy
          if (slowed) rec.note = `its slow CPU ended first (${slowed})`;
          const leader = a.target === 'leader' || (await wasLeader(cluster, node));
          at();
          h.mark(rec.label);
          const t = performance.now();
          await node.kill();
          if (leader) {
            const f: Failover = { killedNode: node.spec.id, killedAtMs: rec.firedAtMs! };
            failovers.push(f);
            pendingFailovers.push({ f, killedUrl: node.url, t });
            watchElection(f, node.spec.id, t);
          }
          return;
        }
        case 'restart': {
          const ids =
            a.node !== undefined ? [a.node] : cluster.nodes.filter((n) => !n.running).map((n) => n.spec.id);
          const down = ids.filter((id) => !cluster.node(id).running);
          if (down.length === 0) return void (rec.note = 'skipped: no node was down');
          rec.label = `restart node ${down.join(', node ')}`;
          rec.node = down[0];
          at();
          h.mark(rec.label);
          const t = performance.now();
          for (const id of down) {
            const n = restart(id);
            rec.pid ??= n.pid;
            whenServing(n, rec, t);
          }
          return;
        }
        case 'slow': {
          const { node, note } = await resolveTarget(a.target);
          if (!node || node.pid === undefined) return void (rec.note = `skipped: ${note ?? 'no pid'}`);
          const role = typeof a.target === 'number' ? '' : `${a.target} `;
          rec.label = `slow CPU ${role}node ${node.spec.id} (stop ${a.cycle.stopMs}ms/${a.cycle.periodMs}ms)`;
          rec.node = node.spec.id;
          rec.pid = node.pid;
          at();
          h.mark(rec.label);
          pausers.set(node.spec.id, await DutyCyclePauser.start(node.pid, a.cycle));
          return;
        }
        case 'slow-end': {
          const [id] = [...pausers.keys()];
          if (id === undefined) return void (rec.note = 'skipped: no slow CPU on (its node was killed?)');
          rec.label = `slow CPU end node ${id}`;
          rec.node = id;
          at();
          h.mark(rec.label);
          rec.note = await endSlow(id);
          return;
        }
      }
    };

    // ------------------------------------------------------------------ the schedule
    const schedule = (async () => {
      for (const e of o.faults) {
        const wait = e.atMs - h.elapsedMs();
        if (wait > 0) await sleep(wait, closing.signal);
        if (closing.signal.aborted) return;
        log(`fault at ${(h.elapsedMs() / 1000).toFixed(3)} s: ${e.text}`);
        const rec: FaultRecord = { atMs: e.atMs, text: e.text, label: describeAction(e.action) };
        faults.push(rec);
        try {
          await fire(e, rec);
        } catch (err) {
          // A fault that could not be applied is reported, and the run goes on.
          rec.note = `failed: ${(err as Error).message}`;
          log(`fault ${e.text} failed: ${(err as Error).message}`);
        }
      }
    })();
    const run = await h.done;
    await schedule;

    // ------------------------------------------------------------------ bring everything back, check
    for (const id of [...pausers.keys()])
      broughtBack.push(`node ${id} resumed (slow CPU ended: ${await endSlow(id)})`);
    for (const n of [...cluster.nodes]) {
      if (!n.running && !interrupted) {
        const fresh = restart(n.spec.id);
        broughtBack.push(`node ${n.spec.id} restarted (pid ${fresh.pid})`);
      }
    }
    // The restart/election watchers are bounded themselves; this only caps how long the report waits.
    const cap = new AbortController();
    closing.signal.addEventListener('abort', () => cap.abort(), { once: true });
    await Promise.race([Promise.all(background), sleep(10_000, cap.signal)]);
    cap.abort();
    let verification: Verification | undefined;
    if (!interrupted) {
      log(`checking ${acks.length} acknowledged writes on ${nodes.length} nodes`);
      verification = await verifyAcked(nodes, acks, { timeoutMs: o.verifyTimeoutMs ?? 30_000, log });
    }
    let failed = 0;
    for (let i = 0; i < run.recorder.count; i++) if (!run.recorder.ok(i)) failed++;
    return {
      run,
      cluster: {
        size,
        dataRoot,
        dataKept: !!o.keepData,
        nodes: cluster.nodes.map((n) => ({ id: n.spec.id, url: n.url })),
        pids,
      },
      faults,
      failovers,
      failed,
      broughtBack,
      verification,
      interrupted,
    };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    closing.abort();
    handle?.stop();
    await Promise.all([...pausers.values()].map((p) => p.stop().catch(() => undefined)));
    // SIGTERM, SIGKILL after 3 s; every process ever started (old incarnations are already gone).
    const all = everyNode();
    await Promise.all(all.map((n) => n.stop(3_000).catch(() => n.kill())));
    for (const n of all) if (n.running && n.pid !== undefined) safeKill(n.pid);
    process.off('exit', onExit);
    if (handle) await handle.done.catch(() => undefined);
    if (o.keepData) log(`data dirs and node logs kept in ${dataRoot}`);
    else rmSync(dataRoot, { recursive: true, force: true });
  }
}

async function wasLeader(cluster: LocalCluster, node: NodeProcess): Promise<boolean> {
  const st = await node.status(500);
  return st?.role === 'leader' || (await cluster.leaderStatus())?.id === node.spec.id;
}

function safeKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Rejects when the signal aborts (the promise keeps running; the caller's cleanup handles it). */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('interrupted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** Node names each profile CPU.<date>.<time>.<pid>...: one per process, restarts included. */
function cpuProfileFlags(dir: string): string[] {
  return ['--cpu-prof', '--cpu-prof-dir', resolve(dir)];
}
