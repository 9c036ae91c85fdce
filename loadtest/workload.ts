// What each request is: a write (POST /shorten of a URL nobody sent before, sent to the leader and
// following 409s) or a read (GET /:code of a seeded code, spread round-robin over the read nodes,
// never following the 302). Produces RequestResults; timing is the caller's.
import { isConnectionError, type HttpClient, type HttpResult } from './client.js';
import { LeaderFinder } from './cluster.js';
import type { RequestKind, RequestResult } from './recorder.js';

/** An acknowledged write: which code the cluster gave the URL, and the node that answered. */
export interface Ack {
  code: string;
  url: string;
  node: string;
  status: number;
}

/**
 * Kind of request i for a weighted mix, deterministic and evenly interleaved (request i is a write
 * when the running share of writes crosses an integer), so counts are exact and no phase of the run
 * is all-writes.
 */
export function kindAt(i: number, mix: { write: number; read: number }): RequestKind {
  const share = mix.write / (mix.write + mix.read);
  return Math.floor((i + 1) * share) > Math.floor(i * share) ? 'write' : 'read';
}

export interface WorkloadConfig {
  client: HttpClient;
  /** Initial leader; replaced when a 409 names another one. */
  leaderUrl: string;
  readNodes: string[];
  codes: string[];
  urlPrefix: string;
  maxHops: number;
  collectAcked: boolean;
  /**
   * Every node of the cluster. With more than one, a write whose node is gone (connection refused
   * or reset) or knows no leader (503) looks for the leader again (GET /cluster/status of each node)
   * and is retried there at once, like a 409: counted as a hop, within maxHops. Retrying is safe
   * because the same URL always gets the same code.
   */
  nodes?: string[];
  /** Called for each acknowledged write as its response arrives. */
  onAck?: (ack: Ack) => void;
}

type Timed = Omit<RequestResult, 'dueMs' | 'startMs' | 'endMs'>;

export class Workload {
  leaderUrl: string;
  /** Codes of acknowledged writes, when collectAcked (for a durability check after a fault run). */
  readonly acked: string[] = [];
  private reads = 0;
  private readonly finder: LeaderFinder | undefined;

  constructor(private readonly c: WorkloadConfig) {
    this.leaderUrl = c.leaderUrl;
    this.finder = c.nodes && c.nodes.length > 1 ? new LeaderFinder(c.client, c.nodes) : undefined;
  }

  /** POST /shorten; on 409 go to the leader it names (counted as a hop) and remember it for the next ones. */
  async write(i: number, url = `${this.c.urlPrefix}${i}`): Promise<Timed & { code?: string }> {
    const body = JSON.stringify({ url });
    let target = this.leaderUrl;
    let hops = 0;
    let bytesOut = 0;
    let bytesIn = 0;
    for (;;) {
      const r = await this.c.client.send('POST', `${target}/shorten`, body, true);
      bytesOut += Buffer.byteLength(body);
      bytesIn += r.bytesIn;
      if (r.status === 409 && hops < this.c.maxHops) {
        const next = leaderFrom(r.body);
        if (next && next !== target) {
          hops++;
          target = next;
          this.leaderUrl = next;
          continue;
        }
      }
      if (this.finder && hops < this.c.maxHops && leaderLost(r)) {
        // Fail fast, then move on: no waiting here. If no node names another leader yet (an
        // election is running), this write fails and the next one asks again.
        const next = await this.finder.find(target);
        if (next && next !== target) {
          hops++;
          target = next;
          this.leaderUrl = next;
          continue;
        }
      }
      const result: Timed & { code?: string } = {
        kind: 'write',
        status: r.status,
        bytesIn,
        bytesOut,
        hops,
        error: r.error,
      };
      if (r.status === 200 || r.status === 201) {
        const code = codeFrom(r.body);
        result.code = code;
        if (this.c.collectAcked && code) this.acked.push(code);
        if (code) this.c.onAck?.({ code, url, node: target, status: r.status });
      }
      return result;
    }
  }

  async read(i: number): Promise<Timed> {
    const at = this.reads++ % this.c.readNodes.length;
    const node = this.c.readNodes[at];
    // A multiplicative hash spreads consecutive reads over the code set instead of walking it in order.
    const code = this.c.codes[(i * 2654435761) % this.c.codes.length];
    let r = await this.c.client.send('GET', `${node}/${code}`);
    // A read node that is gone: every node serves reads, so try the next one once (as a client with
    // a list of nodes would).
    if (isConnectionError(r) && this.c.readNodes.length > 1) {
      const other = this.c.readNodes[(at + 1) % this.c.readNodes.length];
      r = await this.c.client.send('GET', `${other}/${code}`);
    }
    return { kind: 'read', status: r.status, bytesIn: r.bytesIn, bytesOut: 0, hops: 0, error: r.error };
  }
}

/** The write's node is gone, or knows no leader: the leader must be found again. */
function leaderLost(r: HttpResult): boolean {
  return isConnectionError(r) || r.status === 503 || (r.status === 409 && !leaderFrom(r.body));
}

function leaderFrom(body: Buffer | undefined): string | undefined {
  try {
    const u = (JSON.parse(body?.toString('utf8') ?? '') as { leaderUrl?: unknown }).leaderUrl;
    return typeof u === 'string' && u ? u.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

function codeFrom(body: Buffer | undefined): string | undefined {
  try {
    const c = (JSON.parse(body?.toString('utf8') ?? '') as { code?: unknown }).code;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}
