// One node as a child process: start it, ask it for its status, stop it (gracefully or with
// SIGKILL). Used by the three-node join script, the cluster tests and the benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterStatus } from '../domain/cluster-status.js';
import { stopChild } from './stop-child.js';

export interface NodeProcessSpec {
  id: number;
  host: string;
  httpPort: number;
  raftPort: number;
  dataDir: string;
  /** File that receives the node's stdout and stderr (pino JSON lines). */
  logFile: string;
  join?: string;
  /**
   * Start with --bootstrap: found a new cluster on an empty data dir. Only ever for a node's first
   * start (see start()); a node that lost its data must never found a second cluster.
   */
  bootstrap?: boolean;
  /** Extra flags for cmd/node.js, e.g. ['--tick-ms', '5']. */
  extraArgs?: string[];
  /** Flags for the Node.js runtime itself, before the entry point, e.g. ['--cpu-prof']. */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** A command that runs the node (and execs it, keeping the PID), e.g. ['prlimit', '--nofile=1024', '--']. */
  wrapper?: string[];
}

/**
 * The compiled node entry point, <project>/dist/cmd/node.js, whether this module runs compiled
 * (from dist/src/launcher/) or as TypeScript source under vitest (from src/launcher/).
 */
export const NODE_ENTRY = findNodeEntry();

function findNodeEntry(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'cmd', 'node.js');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json) above the launcher');
    dir = parent;
  }
}

export class NodeProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<number | null> | undefined;
  /** How the last run ended, once it has. */
  lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(readonly spec: NodeProcessSpec) {}

  get url(): string {
    return `http://${this.spec.host}:${this.spec.httpPort}`;
  }

  get raftAddr(): string {
    return `${this.spec.host}:${this.spec.raftPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.lastExit === undefined;
  }

  /** Starts the process; `bootstrap` overrides the spec's for this start only. */
  start(options: { bootstrap?: boolean } = {}): void {
    if (this.running) throw new Error(`node ${this.spec.id} is already running`);
    const s = this.spec;
    mkdirSync(dirname(s.logFile), { recursive: true });
    const out = createWriteStream(s.logFile, { flags: 'a' });
    const args = [
      ...(s.execArgv ?? []),
      NODE_ENTRY,
      '--id',
      String(s.id),
      '--http',
      `${s.host}:${s.httpPort}`,
      '--raft',
      `${s.host}:${s.raftPort}`,
      '--data',
      s.dataDir,
      ...(s.join ? ['--join', s.join] : []),
      ...((options.bootstrap ?? s.bootstrap) ? ['--bootstrap'] : []),
      ...(s.extraArgs ?? []),
    ];
    this.lastExit = undefined;
    const [command, ...commandArgs] = [...(s.wrapper ?? []), process.execPath, ...args];
    const child = spawn(command, commandArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...s.env },
      // Its own process group: a Ctrl-C in the terminal reaches only the launcher, which then
      // stops each node once. Otherwise every node would get the terminal's SIGINT *and* the
      // launcher's SIGTERM, and treat the second as "exit at once".
      detached: true,
    });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    this.child = child;
    this.exitPromise = new Promise((resolve) => {
      // 'close', not 'exit': the last lines (a refusal's message) may still be in the pipes at
      // 'exit'. Resolved once they are in the log file, so a caller can read it at once.
      child.once('close', (code, signal) => {
        this.lastExit = { code, signal };
        out.end(() => resolve(code));
      });
    });
  }

  /** Resolves when the process has exited (at once if it is not running). */
  async exited(): Promise<void> {
    await this.exitPromise;
  }

  /** SIGKILL: the crash the durability contract is about. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exitPromise;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    await stopChild(this.child!, this.exitPromise!, graceMs);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child!.kill(signal);
  }

  /** True when /readyz answers 200: knows a leader and has caught up with it since it started. */
  async ready(timeoutMs = 1_000): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async status(timeoutMs = 1_000): Promise<ClusterStatus | undefined> {
    try {
      const res = await fetch(`${this.url}/cluster/status`, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok ? ((await res.json()) as ClusterStatus) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
