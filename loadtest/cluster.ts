// What the loader needs to know about the cluster before it starts: who leads (writes go there) and
// which nodes serve reads, from GET /cluster/status; and, for reads, a set of existing codes.
import type { ClusterStatus } from '../src/domain/cluster-status.js';
import type { HttpClient } from './client.js';
import type { ReadNodes } from './options.js';

export interface ClusterView {
  /** Where writes are sent first; a 409 moves it. Falls back to the first node when nobody answers. */
  leaderUrl: string;
  /** Status of each node URL as given on the command line (undefined: no /cluster/status there). */
  statuses: Map<string, ClusterStatus | undefined>;
}

export async function fetchStatus(client: HttpClient, nodeUrl: string): Promise<ClusterStatus | undefined> {
  const r = await client.send('GET', `${trimSlash(nodeUrl)}/cluster/status`, undefined, true);
  if (r.status !== 200 || !r.body) return undefined;
  try {
    return JSON.parse(r.body.toString('utf8')) as ClusterStatus;
  } catch {
    return undefined;
  }
}

export async function discover(client: HttpClient, nodes: string[]): Promise<ClusterView> {
  const statuses = new Map<string, ClusterStatus | undefined>();
  await Promise.all(nodes.map(async (n) => statuses.set(n, await fetchStatus(client, n))));
  // Prefer a node that says it leads (its URL as we know it); else whatever leader a node points to.
  let leaderUrl = nodes.find((n) => statuses.get(n)?.role === 'leader');
  leaderUrl ??= nodes.map((n) => statuses.get(n)?.leaderUrl).find((u): u is string => !!u);
  return { leaderUrl: trimSlash(leaderUrl ?? nodes[0]), statuses };
}

export function selectReadNodes(view: ClusterView, nodes: string[], which: ReadNodes): string[] {
  if (Array.isArray(which)) return which.map(trimSlash);
  const isLeader = (n: string): boolean =>
    trimSlash(n) === view.leaderUrl || view.statuses.get(n)?.role === 'leader';
  if (which === 'all') return nodes.map(trimSlash);
  if (which === 'leader') return [view.leaderUrl];
  const followers = nodes.filter((n) => !isLeader(n)).map(trimSlash);
  if (followers.length === 0) throw new Error('--read-nodes followers: no follower among the nodes');
  return followers;
}

/**
 * Waits (bounded) until every read node has applied what the leader had committed after seeding, so
 * that reads on followers measure serving, not replication lag (which would show up as 404s).
 */
export async function waitForCatchUp(
  client: HttpClient,
  leaderUrl: string,
  readNodes: string[],
  timeoutMs: number,
): Promise<boolean> {
  const leader = await fetchStatus(client, leaderUrl);
  if (!leader) return true; // not a cluster (e.g. the bare server): nothing to wait for
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(readNodes.map((n) => fetchStatus(client, n)));
    if (statuses.every((s) => !s || s.appliedIndex >= leader.commitIndex)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50)); // polling interval, not synchronisation
  }
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * Finds the leader again after a write failed because its node is gone (connection refused or
 * reset) or knew no leader (503): asks every node's /cluster/status with a short timeout and takes
 * the one that says it leads with the highest term; failing that, a leader URL some node points to
 * other than the node that just failed. Single-flight: the burst of writes that fail together when
 * a leader dies share one round of status requests instead of each sending their own.
 */
export class LeaderFinder {
  private inFlight: Promise<LeaderCandidates> | undefined;

  constructor(
    private readonly client: HttpClient,
    private readonly nodes: string[],
    /** Per status request; kept short so a stopped (SIGSTOP) node cannot hold writes up for long. */
    private readonly probeTimeoutMs = 1_000,
  ) {}

  /** The leader's URL, or undefined when no node names one other than `failed` right now. */
  async find(failed: string): Promise<string | undefined> {
    this.inFlight ??= this.probe().finally(() => (this.inFlight = undefined));
    const c = await this.inFlight;
    // A node that answered and says it leads wins, even if a write just failed on it (it was
    // restarted, or one connection was reset); a leader merely pointed to must be another node.
    return c.leader ?? c.pointed.find((u) => u !== trimSlash(failed));
  }

  private async probe(): Promise<LeaderCandidates> {
    const answers = await Promise.all(
      this.nodes.map(async (n) => {
        const url = `${trimSlash(n)}/cluster/status`;
        const r = await this.client.send('GET', url, undefined, true, this.probeTimeoutMs);
        if (r.status !== 200 || !r.body) return undefined;
        try {
          return { url: trimSlash(n), st: JSON.parse(r.body.toString('utf8')) as ClusterStatus };
        } catch {
          return undefined;
        }
      }),
    );
    const live = answers.filter((a): a is { url: string; st: ClusterStatus } => a?.st !== undefined);
    const byTerm = (a: { st: ClusterStatus }, b: { st: ClusterStatus }): number => b.st.term - a.st.term;
    const leaders = live.filter((a) => a.st.role === 'leader').sort(byTerm);
    const pointed = live
      .filter((a) => typeof a.st.leaderUrl === 'string' && a.st.leaderUrl !== '')
      .sort(byTerm)
      .map((a) => trimSlash(a.st.leaderUrl!));
    return { leader: leaders[0]?.url, pointed };
  }
}

interface LeaderCandidates {
  leader?: string;
  pointed: string[];
}
