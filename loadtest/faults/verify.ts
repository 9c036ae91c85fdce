// The durability check after a fault run: every acknowledged write must be readable on every node.
// First wait (bounded) until every node has applied what the cluster has committed, so replication
// lag is not mistaken for loss; then GET /<code> of every acknowledged write on every node and expect
// a 302 to the URL that was written. A code missing somewhere is looked up again once the nodes have
// had another chance to catch up, and reported only if it is still missing.
import { performance } from 'node:perf_hooks';
import { HttpClient } from '../client.js';
import { fetchStatus } from '../cluster.js';
import type { ClusterStatus } from '../../src/domain/cluster-status.js';
import type { Ack } from '../workload.js';

export interface MissingWrite {
  node: string;
  code: string;
  url: string;
  /** What the node answered: status (0: no answer) and Location. */
  status: number;
  location?: string;
}

export interface NodeCheck {
  url: string;
  id?: number;
  appliedIndex?: number;
  checked: number;
  missing: number;
}

export interface Verification {
  /** Distinct acknowledged codes checked on each node. */
  acked: number;
  /** The index every node had to apply first (the highest commit index any node reported). */
  commitIndex: number;
  /** ms until every node had applied it (undefined: some never did within the timeout). */
  catchUpMs?: number;
  /** ms spent on the GETs. */
  checkMs: number;
  nodes: NodeCheck[];
  /** Still missing after the recheck: none expected. */
  missing: MissingWrite[];
  missingTotal: number;
}

export interface VerifyOptions {
  /** Bound on waiting for catch-up (and again for the recheck of anything missing). */
  timeoutMs?: number;
  /** GETs in flight per node. */
  concurrency?: number;
  log?: (m: string) => void;
}

/** How many missing writes are listed one by one (the count is always complete). */
export const MAX_MISSING_LISTED = 50;

export async function verifyAcked(
  nodes: string[],
  acks: Ack[],
  o: VerifyOptions = {},
): Promise<Verification> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const concurrency = o.concurrency ?? 32;
  const log = o.log ?? (() => undefined);
  const client = new HttpClient({ connections: concurrency, timeoutMs: 5_000 });
  try {
    const byCode = new Map<string, string>();
    for (const a of acks) byCode.set(a.code, a.url);
    const writes = [...byCode].map(([code, url]) => ({ code, url }));

    const t = performance.now();
    const caughtUp = await waitForApplied(client, nodes, timeoutMs);
    const catchUpMs = caughtUp.ok ? performance.now() - t : undefined;
    if (!caughtUp.ok) log(`verify: not every node applied index ${caughtUp.target} within ${timeoutMs} ms`);

    const checkStart = performance.now();
    // Nodes in parallel, `concurrency` GETs in flight on each.
    const perNode = await Promise.all(
      nodes.map(async (node) => {
        let gone = await lookAll(client, node, writes, concurrency);
        if (gone.length > 0) {
          // Lag rather than loss? Give the node another chance to apply everything, then look again.
          log(`verify: ${gone.length} codes not readable on ${node} yet; rechecking after catch-up`);
          await waitForApplied(client, [node], timeoutMs, caughtUp.target, false);
          gone = await lookAll(client, node, gone, concurrency);
        }
        const st = caughtUp.statuses.get(node);
        const check: NodeCheck = {
          url: node,
          id: st?.id,
          appliedIndex: st?.appliedIndex,
          checked: writes.length,
          missing: gone.length,
        };
        return { check, gone };
      }),
    );
    const checks = perNode.map((p) => p.check);
    const missing = perNode.flatMap((p) => p.gone);
    return {
      acked: writes.length,
      commitIndex: caughtUp.target,
      catchUpMs,
      checkMs: performance.now() - checkStart,
      nodes: checks,
      missing: missing.slice(0, MAX_MISSING_LISTED),
      missingTotal: missing.length,
    };
  } finally {
    await client.destroy();
  }
}

/**
 * Polls until there is a leader among `nodes` (unless !needLeader) and every node has applied the
 * highest commit index any of them reports (or `atLeast`).
 */
async function waitForApplied(
  client: HttpClient,
  nodes: string[],
  timeoutMs: number,
  atLeast = 0,
  needLeader = true,
): Promise<{ ok: boolean; target: number; statuses: Map<string, ClusterStatus | undefined> }> {
  const deadline = performance.now() + timeoutMs;
  let target = atLeast;
  for (;;) {
    const statuses = new Map<string, ClusterStatus | undefined>();
    await Promise.all(nodes.map(async (n) => statuses.set(n, await fetchStatus(client, n))));
    // The target only grows: a leader that just took over may report a commit index below what an
    // earlier leader committed until its own first entry commits.
    for (const st of statuses.values()) if (st) target = Math.max(target, st.commitIndex);
    const hasLeader = !needLeader || [...statuses.values()].some((s) => s?.role === 'leader');
    const ok = hasLeader && [...statuses.values()].every((s) => s !== undefined && s.appliedIndex >= target);
    if (ok || performance.now() > deadline) return { ok, target, statuses };
    await new Promise((r) => setTimeout(r, 25)); // polling interval
  }
}

async function lookAll(
  client: HttpClient,
  node: string,
  writes: Array<{ code: string; url: string }>,
  concurrency: number,
): Promise<MissingWrite[]> {
  const missing: MissingWrite[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < writes.length) {
      const w = writes[next++];
      const r = await client.send('GET', `${node}/${encodeURIComponent(w.code)}`);
      if (r.status !== 302 || !sameUrl(r.location, w.url)) {
        missing.push({ node, code: w.code, url: w.url, status: r.status, location: r.location });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, writes.length) }, worker));
  return missing;
}

function sameUrl(location: string | undefined, url: string): boolean {
  if (location === undefined) return false;
  if (location === url) return true;
  try {
    return new URL(location).href === new URL(url).href;
  } catch {
    return false;
  }
}
