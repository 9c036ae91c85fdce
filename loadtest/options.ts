import type { TimerKind } from './ticker.js';
import type { Ack } from './workload.js';

// What a run is asked to do, and the defaults. Shared by the CLI, the library entry points and the
// bench, so that "a run" means the same thing everywhere.

export const DEFAULT_NODES = ['http://127.0.0.1:8081', 'http://127.0.0.1:8082', 'http://127.0.0.1:8083'];

/** Where reads go: every node, the leader, the followers, or explicit node URLs. */
export type ReadNodes = 'all' | 'leader' | 'followers' | string[];

/** A labelled instant on the time axis of the plots (fault injection adds these). */
export interface Marker {
  /** ms since the run's t0 (the due time of request 0). */
  atMs: number;
  label: string;
}

export interface LoadOptions {
  nodes: string[];
  /** Relative weights; { write: 1, read: 0 } is a pure write run. */
  mix: { write: number; read: number };
  /** 'rate': open loop at `rate` req/s. 'max': closed loop with `connections` workers. */
  mode: 'rate' | 'max';
  rate: number;
  durationMs: number;
  /** Unrecorded load of the same shape before the measured part (JIT, connections). 0: none. */
  warmupMs: number;
  /** Optional cap on the request count in max mode (open loop is always rate x duration). */
  maxRequests?: number;
  /** Per-node connection cap; in max mode also the number of workers. */
  connections: number;
  readNodes: ReadNodes;
  /** Codes created before the attack for reads to fetch (ignored for pure write runs). */
  seed: number;
  timeoutMs: number;
  /** How many 409 redirects a write follows before it counts as failed. */
  maxHops: number;
  /** How the open-loop scheduler sleeps between due times, see ticker.ts. */
  timer: TimerKind;
  /** Makes write URLs unique across runs: https://example.com/lt/<runId>/<i>. */
  runId: string;
  urlPrefix: string;
  markers: Marker[];
  /** Keep the code of every acknowledged write (for a durability check after a fault run). */
  collectAcked: boolean;
  /** Called for each acknowledged write as it arrives (fault runs time the failover with it). */
  onAck?: (ack: Ack) => void;
  /** Progress messages (seeding, discovery); the CLI prints them to stderr. */
  log: (message: string) => void;
}

export function defaultOptions(given: Partial<LoadOptions> = {}): LoadOptions {
  // An explicit `undefined` means "use the default", not "override the default with undefined".
  const overrides = Object.fromEntries(
    Object.entries(given).filter(([, v]) => v !== undefined),
  ) as Partial<LoadOptions>;
  const runId = overrides.runId ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const options: LoadOptions = {
    nodes: DEFAULT_NODES,
    mix: { write: 1, read: 0 },
    mode: 'rate',
    rate: 100,
    durationMs: 10_000,
    warmupMs: 0,
    // Open loop: high enough that the pool is never what limits the load; a stalled server then sees
    // the queue build up client-side inside undici, and that wait is counted in the latency anyway.
    connections: overrides.mode === 'max' ? 64 : 256,
    readNodes: 'all',
    seed: 1000,
    timeoutMs: 10_000,
    maxHops: 3,
    timer: 'worker',
    runId,
    urlPrefix: `https://example.com/lt/${runId}/`,
    markers: [],
    collectAcked: false,
    log: () => undefined,
    ...overrides,
  };
  validate(options);
  return options;
}

function validate(o: LoadOptions): void {
  if (o.nodes.length === 0) throw new Error('at least one node URL is needed');
  for (const n of o.nodes) {
    const u = new URL(n);
    if (u.protocol !== 'http:') throw new Error(`only http:// node URLs are supported: ${n}`);
    // A load generator pointed at someone else's host is an attack; this tool is for local clusters.
    if (!isLoopback(u.hostname)) throw new Error(`only loopback targets are allowed: ${n}`);
  }
  if (!(o.mix.write >= 0 && o.mix.read >= 0 && o.mix.write + o.mix.read > 0)) throw new Error('invalid mix');
  if (o.mode === 'rate' && !(o.rate > 0)) throw new Error('rate must be > 0');
  if (!(o.durationMs > 0)) throw new Error('duration must be > 0');
  if (!(o.connections >= 1)) throw new Error('connections must be >= 1');
  if (o.mix.read > 0 && !(o.seed >= 1)) throw new Error('reads need --seed >= 1');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
