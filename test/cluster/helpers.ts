// Shared helpers of the cluster tests: free ports, temp data dirs, a LocalCluster that is always
// torn down, small HTTP clients for the API, and node-log tails for diagnosing failures.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { LocalCluster } from '../../src/launcher/local-cluster.js';
import { NodeProcess, waitFor } from '../../src/launcher/node-process.js';
import type { ClusterStatus } from '../../src/domain/cluster-status.js';
import { isEmptyDataDir } from '../../src/node/start-mode.js';

export { waitFor, type ClusterStatus };

export const HOST = '127.0.0.1';

// Free loopback ports: shared with the benchmark.
import { freePortRanges, freePorts } from '../../src/launcher/free-ports.js';

export { freePortRanges, freePorts };

// ------------------------------------------------------------------------------ data dirs and logs

export function tempDataRoot(label: string): string {
  return mkdtempSync(join(tmpdir(), `shortener-${label}-`));
}

/** Removes a test's data dir, unless KEEP_TEST_DIRS is set (to read a failed run's node logs). */
export function removeDir(dir: string): void {
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
}

/** The last `lines` lines of each node<i>.log under dataRoot, for failure output. */
export function logTails(dataRoot: string, lines = 40): string {
  if (!existsSync(dataRoot)) return `(no data root ${dataRoot})`;
  const logs = readdirSync(dataRoot)
    .filter((f) => /^node\d+\.log$/.test(f))
    .sort();
  if (logs.length === 0) return `(no node logs in ${dataRoot})`;
  return logs
    .map((f) => {
      const text = readFileSync(join(dataRoot, f), 'utf8').trimEnd().split('\n');
      const tail = text.slice(-lines).map((l) => (l.length > 600 ? `${l.slice(0, 600)}…` : l));
      return `----- ${f} (last ${tail.length} of ${text.length} lines) -----\n${tail.join('\n')}`;
    })
    .join('\n');
}

export function printLogTails(dataRoot: string, why: string): void {
  console.error(`\n===== ${why}: node logs from ${dataRoot} =====\n${logTails(dataRoot)}\n`);
}

// ------------------------------------------------------------------------------ clusters

export interface TestCluster {
  cluster: LocalCluster;
  dataRoot: string;
  /** Node i's process (1-based). */
  node(id: number): NodeProcess;
  /** Replaces node `id` with a process of the same id, ports and data dir, started without --join. */
  restart(id: number): NodeProcess;
  /** SIGKILLs every node and removes the data root. */
  destroy(): Promise<void>;
}

export async function startCluster(
  label: string,
  size = 3,
  timeoutMs = 45_000,
  extraArgs?: string[],
): Promise<TestCluster> {
  const ports = await freePorts(2 * size);
  const dataRoot = tempDataRoot(label);
  const cluster = new LocalCluster({
    size,
    host: HOST,
    httpPorts: ports.slice(0, size),
    raftPorts: ports.slice(size),
    dataRoot,
    extraArgs,
  });
  const tc: TestCluster = {
    cluster,
    dataRoot,
    node: (id) => cluster.node(id),
    restart(id) {
      const old = cluster.node(id);
      if (old.running) throw new Error(`node ${id} is still running`);
      const fresh = new NodeProcess({ ...old.spec, join: undefined });
      cluster.nodes[id - 1] = fresh;
      fresh.start();
      return fresh;
    },
    async destroy() {
      await cluster.killAll();
      removeDir(dataRoot);
    },
  };
  try {
    await cluster.start(timeoutMs);
  } catch (err) {
    printLogTails(dataRoot, `cluster ${label} did not start`);
    await tc.destroy();
    throw err;
  }
  return tc;
}

/**
 * Starts one node process with its data dir and log under `dataRoot` (node<id>, node<id>.log),
 * records it in `started` so the test's afterEach can kill it by PID.
 */
export function startNodeIn(
  started: NodeProcess[],
  dataRoot: string,
  spec: {
    id: number;
    httpPort: number;
    raftPort: number;
    extraArgs?: string[];
    join?: string;
    /** Default: found a cluster when started without --join on an empty (or missing) data dir. */
    bootstrap?: boolean;
    env?: NodeJS.ProcessEnv;
  },
): NodeProcess {
  const dataDir = join(dataRoot, `node${spec.id}`);
  const n = new NodeProcess({
    host: HOST,
    dataDir,
    logFile: join(dataRoot, `node${spec.id}.log`),
    bootstrap: spec.join === undefined && isEmptyDataDir(dataDir),
    ...spec,
  });
  started.push(n);
  n.start();
  return n;
}

/**
 * One cluster for all the tests of a file: started before them, SIGKILLed and removed after them,
 * its node logs printed when a test fails. The returned object stands for the cluster started in
 * beforeAll (use it inside tests and hooks, not at the top level of the file).
 */
export function useSharedCluster(
  label: string,
  size = 3,
  timeoutMs = 45_000,
): TestCluster & { readonly startedInMs: number } {
  let current: TestCluster | undefined;
  let startedInMs = 0;
  const get = (): TestCluster => {
    if (!current) throw new Error(`the ${label} cluster is not started (used outside a test?)`);
    return current;
  };
  beforeAll(async () => {
    const t0 = Date.now();
    current = await startCluster(label, size, timeoutMs);
    startedInMs = Date.now() - t0;
  }, 60_000);
  afterAll(async () => {
    await current?.destroy();
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => printLogTails(get().dataRoot, `${label} test failed`));
  });
  return {
    get cluster() {
      return get().cluster;
    },
    get dataRoot() {
      return get().dataRoot;
    },
    get startedInMs() {
      return startedInMs;
    },
    node: (id) => get().node(id),
    restart: (id) => get().restart(id),
    destroy: () => get().destroy(),
  };
}

/** Status of every running node, by id (nodes that do not answer are missing). */
export async function statuses(nodes: NodeProcess[]): Promise<Map<number, ClusterStatus>> {
  const all = await Promise.all(
    nodes.map(async (n) => [n.spec.id, n.running ? await n.status() : undefined] as const),
  );
  return new Map(all.filter((e): e is readonly [number, ClusterStatus] => e[1] !== undefined));
}

/** Waits until each of `nodes` has applied at least `index`. */
export async function waitApplied(nodes: NodeProcess[], index: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `nodes ${nodes.map((n) => n.spec.id).join(',')} to apply index ${index}`,
    async () => {
      for (const n of nodes) {
        const st = await n.status();
        if (!st || st.appliedIndex < index) return undefined;
      }
      return true;
    },
    timeoutMs,
  );
}

// ------------------------------------------------------------------------------ HTTP

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export async function request(
  url: string,
  init: { method?: string; body?: string; contentType?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    body: init.body,
    headers: init.contentType ? { 'content-type': init.contentType } : undefined,
    redirect: 'manual',
    signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  if (text && (res.headers.get('content-type') ?? '').startsWith('application/json')) {
    body = JSON.parse(text) as Record<string, unknown>;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export function shorten(baseUrl: string, url: string, timeoutMs?: number): Promise<HttpAnswer> {
  return request(`${baseUrl}/shorten`, {
    method: 'POST',
    body: JSON.stringify({ url }),
    contentType: 'application/json',
    timeoutMs,
  });
}

/** GET /:code without following the redirect: the status and Location. */
export async function resolveCode(
  baseUrl: string,
  code: string,
): Promise<{ status: number; location: string | null }> {
  const res = await request(`${baseUrl}/${code}`);
  return { status: res.status, location: res.headers.get('location') };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Every acknowledged write resolves (302) to its URL on every one of `nodes`. */
export async function expectEveryAckOnEveryNode(
  nodes: NodeProcess[],
  acks: ReadonlyArray<{ url: string; code: string }>,
): Promise<void> {
  for (const node of nodes) {
    const wrong: string[] = [];
    await mapLimit([...acks], 16, async ({ url, code }) => {
      const r = await resolveCode(node.url, code);
      if (r.status !== 302 || r.location !== url)
        wrong.push(`${code} → ${r.status} ${r.location} (want ${url})`);
    });
    expect(
      wrong,
      `node ${node.spec.id}: ${wrong.length} of ${acks.length} acknowledged writes are wrong`,
    ).toEqual([]);
  }
}

/** Runs `fn` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

// ------------------------------------------------------------------------------ metrics

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition format (samples only; # HELP/# TYPE lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the unlabelled sample `name` on `node`'s /metrics; 0 when it is not there yet. */
export async function metricValue(node: NodeProcess, name: string): Promise<number> {
  const res = await request(`${node.url}/metrics`);
  return (
    parseMetrics(res.text).find((s) => s.name === name && Object.keys(s.labels).length === 0)?.value ?? 0
  );
}
