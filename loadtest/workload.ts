// What each request is: a write (POST /shorten of a URL nobody sent before, sent to the leader and
// following 409s) or a read (GET /:code of a seeded code, spread round-robin over the read nodes,
// never following the 302). Both go through the shortener client (src/client) with its retries
// off: a measured request is one attempt, plus the hops the cluster itself asks for. Produces
// RequestResults; timing is the caller's.
import { ApiError, ShortenerClient, ShortenerError, type CallInfo } from '../src/client/index.js';
import type { HttpClient } from './client.js';
import { LeaderFinder } from './cluster.js';
import { PoolTransport } from './pool-transport.js';
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
  /** Codes of acknowledged writes, when collectAcked (for a durability check after a fault run). */
  readonly acked: string[] = [];
  private readonly shortener: ShortenerClient;

  constructor(private readonly c: WorkloadConfig) {
    const finder = c.nodes && c.nodes.length > 1 ? new LeaderFinder(c.client, c.nodes) : undefined;
    this.shortener = new ShortenerClient({
      nodes: c.nodes ?? [c.leaderUrl],
      // A write-only run (or the seeder) has no read nodes; the client wants some, reads never come.
      readNodes: c.readNodes.length > 0 ? c.readNodes : undefined,
      leaderUrl: c.leaderUrl,
      timeoutMs: c.client.timeoutMs,
      // No retries inside a measured request: its latency is one attempt (and the cluster's hops).
      retry: false,
      maxLeaderHops: c.maxHops,
      // A read whose node is gone tries the next one once, as a client with a list of nodes would.
      readFailover: 1,
      // Fail fast, then move on: no waiting here. If no node names another leader yet (an election
      // is running), this write fails and the next one asks again.
      findLeader: finder ? (failed) => finder.find(failed) : undefined,
      transport: new PoolTransport(c.client),
    });
  }

  /** Where writes go now: the initial leader, or the last one a 409 (or a status probe) named. */
  get leaderUrl(): string {
    return this.shortener.leaderUrl;
  }

  /** POST /shorten; on 409 go to the leader it names (counted as a hop) and remember it for the next ones. */
  async write(i: number, url = `${this.c.urlPrefix}${i}`): Promise<Timed & { code?: string }> {
    try {
      const r = await this.shortener.create(url);
      const status = r.created ? 201 : 200;
      if (this.c.collectAcked) this.acked.push(r.code);
      this.c.onAck?.({ code: r.code, url, node: r.node, status });
      return { kind: 'write', status, ...transfer(r), hops: r.hops, code: r.code };
    } catch (err) {
      return failed('write', err);
    }
  }

  async read(i: number): Promise<Timed> {
    // A multiplicative hash spreads consecutive reads over the code set instead of walking it in order.
    const code = this.c.codes[(i * 2654435761) % this.c.codes.length];
    try {
      const r = await this.shortener.resolve(code);
      return { kind: 'read', status: r.status, ...transfer(r), hops: 0 };
    } catch (err) {
      return failed('read', err);
    }
  }
}

/** Bytes over every exchange of the request (each hop's request and answer). */
function transfer(info: CallInfo): { bytesIn: number; bytesOut: number } {
  let bytesIn = 0;
  let bytesOut = 0;
  for (const e of info.exchanges) {
    bytesIn += e.bytesIn;
    bytesOut += e.bytesOut;
  }
  return { bytesIn, bytesOut };
}

/** An error answer keeps its status; no answer at all is status 0 with the error text (as vegeta). */
function failed(kind: RequestKind, err: unknown): Timed {
  if (!(err instanceof ShortenerError)) throw err;
  const status = err instanceof ApiError ? err.status : 0;
  const result: Timed = { kind, status, ...transfer(err), hops: err.hops };
  if (status === 0) result.error = err.message;
  return result;
}
