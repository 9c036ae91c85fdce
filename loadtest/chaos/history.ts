// The history of a chaos run: every client operation with its invoke and completion time (ms on the
// runner's monotonic clock) and its outcome. `ok` took effect (a create) or observed something (a
// read); `failed` certainly did not take effect; `unknown` may or may not have (a timeout, a reset
// connection, a 504): it may linearize at any point after its invocation, or never.

export type Outcome = 'ok' | 'failed' | 'unknown';

interface OpBase {
  id: number;
  /** Client number (0-based); -1 for the runner's own final probes. */
  client: number;
  /** The node the request went to (1-based id). */
  node: number;
  invokeMs: number;
  /** When the answer (or the timeout) came. For `unknown` operations the checker ignores it. */
  completeMs: number;
  outcome: Outcome;
  /** HTTP status (0: no answer). */
  status: number;
  error?: string;
  /** 'run': under faults; 'final': after the cluster healed. */
  phase: 'run' | 'final';
}

export interface CreateOp extends OpBase {
  kind: 'create';
  url: string;
  /** On ok: the code the leader answered with. */
  code?: string;
  /** On ok: 201 (a new code) or 200 (the URL already had one). */
  created?: boolean;
  /** On a 409: the leader the node pointed to. */
  leaderHint?: number;
  /**
   * When the client followed 409 not-leader answers within the call (each one certainly without
   * effect): how many, and the node that gave the final answer, which the outcome is that of
   * (undefined when that node is not in the directory). `node` is the node first addressed.
   */
  hops?: number;
  answeredBy?: number;
}

export interface ReadOp extends OpBase {
  kind: 'read';
  consistency: 'linearizable' | 'local';
  code: string;
  /** On ok: the URL (302 Location), or null (404). */
  url?: string | null;
}

export type Op = CreateOp | ReadOp;

/** Collects operations; ids are assigned in invocation order. */
export class History {
  readonly ops: Op[] = [];
  private nextId = 0;

  constructor(private readonly now: () => number) {}

  /** Records an invocation; the returned op is completed later with complete(). */
  invoke<T extends Omit<Op, 'id' | 'invokeMs' | 'completeMs' | 'outcome' | 'status'>>(
    op: T,
  ): T & Pick<OpBase, 'id' | 'invokeMs' | 'completeMs' | 'outcome' | 'status'> {
    const full = {
      ...op,
      id: this.nextId++,
      invokeMs: this.now(),
      completeMs: Number.POSITIVE_INFINITY,
      outcome: 'unknown' as Outcome,
      status: 0,
    };
    this.ops.push(full as unknown as Op);
    return full;
  }

  complete(op: { completeMs: number }): void {
    op.completeMs = this.now();
  }
}

/** JSON cannot hold Infinity: operations still open when the history is saved get null. */
export function historyToJson(ops: Op[]): string {
  return JSON.stringify(
    ops.map((o) => ({ ...o, completeMs: Number.isFinite(o.completeMs) ? o.completeMs : null })),
    null,
    0,
  ).replace(/\},\{/g, '},\n{');
}

export function historyFromJson(text: string): Op[] {
  const raw = JSON.parse(text) as Array<Op & { completeMs: number | null }>;
  return raw.map((o) => ({ ...o, completeMs: o.completeMs ?? Number.POSITIVE_INFINITY }));
}
