// What each request is: a write (POST /shorten of a URL nobody sent before, sent to the leader and
// following 409s) or a read (GET /:code of a seeded code, spread round-robin over the read nodes,
// never following the 302). Produces RequestResults; timing is the caller's.
import type { HttpClient } from './client.js';
import type { RequestKind, RequestResult } from './recorder.js';

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
}

type Timed = Omit<RequestResult, 'dueMs' | 'startMs' | 'endMs'>;

export class Workload {
  leaderUrl: string;
  /** Codes of acknowledged writes, when collectAcked (for a durability check after a fault run). */
  readonly acked: string[] = [];
  private reads = 0;

  constructor(private readonly c: WorkloadConfig) {
    this.leaderUrl = c.leaderUrl;
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
      }
      return result;
    }
  }

  async read(i: number): Promise<Timed> {
    const node = this.c.readNodes[this.reads++ % this.c.readNodes.length];
    // A multiplicative hash spreads consecutive reads over the code set instead of walking it in order.
    const code = this.c.codes[(i * 2654435761) % this.c.codes.length];
    const r = await this.c.client.send('GET', `${node}/${code}`);
    return { kind: 'read', status: r.status, bytesIn: r.bytesIn, bytesOut: 0, hops: 0, error: r.error };
  }
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
