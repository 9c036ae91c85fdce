// The client's public shapes: how it is configured and what its calls return. The answers mirror
// the HTTP API (README "HTTP API", GET /openapi.json) with the status folded into typed fields.
import type { RedirectStatus } from '../domain/link-rules.js';
import type { Transport } from './transport.js';

export interface RetryPolicy {
  /** Tries per write, the first included; 1 turns retries off. Default 4. */
  attempts: number;
  /** The backoff before retry n is a random delay in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))]. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ShortenerClientOptions {
  /** Base URLs of the cluster's nodes, e.g. ["http://127.0.0.1:8081", …]. At least one. */
  nodes: string[];
  /** Where reads go (round robin). Default: `nodes`. */
  readNodes?: string[];
  /** The node believed to lead, if known; writes go there first. Default: the first node. */
  leaderUrl?: string;
  /** Sent as `Authorization: Bearer <key>` with writes, when the nodes require one. */
  apiKey?: string;
  /** Time allowed for one HTTP exchange (connect, headers and body). Default 10 s. */
  timeoutMs?: number;
  /** Retries of writes after timeouts, connection errors, 503 and 504. `false`: one attempt only. */
  retry?: Partial<RetryPolicy> | false;
  /** How many 409 not-leader answers one attempt follows to the leaderUrl they name. Default 3. */
  maxLeaderHops?: number;
  /**
   * How many other read nodes a read tries, at once, after a connection error or a timeout.
   * Default: all of them (readNodes.length - 1).
   */
  readFailover?: number;
  /**
   * Asked when a write's node is gone (connection refused or reset) or knows no leader (503): a
   * URL it returns other than `failedNode` is tried at once, as a hop. Default: none (the retry
   * policy moves to the next node instead).
   */
  findLeader?: (failedNode: string) => Promise<string | undefined>;
  /** Default: an undici Agent owned by the client (closed by close()). */
  transport?: Transport;
  /** Randomness of the backoff jitter, for tests. Default Math.random. */
  random?: () => number;
}

export interface CreateOptions {
  /** A custom code: 3–64 of 0-9 A-Z a-z _ -. Taken → AliasTakenError. */
  alias?: string;
  /** Expire this many seconds after the leader accepts the create. */
  ttlSeconds?: number;
  /** Expire at this instant (a Date, epoch milliseconds or an ISO 8601 string). */
  expiresAt?: Date | number | string;
  /**
   * Makes retries safe; every attempt of this create sends it. Default: a random UUID when
   * retries are on, none when they are off.
   */
  idempotencyKey?: string;
}

export type Consistency = 'local' | 'linearizable';

export interface ReadOptions {
  /** `linearizable` sees every write acknowledged before the call, on any node. Default local. */
  consistency?: Consistency;
}

/** One HTTP exchange made for a call: which node, what came back, and its size on the wire. */
export interface Exchange {
  node: string;
  /** 0 when no HTTP answer came (timeout, connection error). */
  status: number;
  bytesOut: number;
  bytesIn: number;
}

/** What every successful call reports about how it got its answer. */
export interface CallInfo {
  /** The node that gave the final answer. */
  node: string;
  /** 409 not-leader answers followed, and leaders found through findLeader. */
  hops: number;
  /** Attempts made (1 when the first succeeded). */
  attempts: number;
  exchanges: Exchange[];
}

export interface ShortUrl {
  code: string;
  shortUrl: string;
  url: string;
  /** ISO 8601; present when the short URL expires. */
  expiresAt?: string;
}

export interface CreateResult extends ShortUrl, CallInfo {
  /** 201: a new code; false (200) when the URL already had a code, which is returned. */
  created: boolean;
  /** The answer is the replay of an earlier create with the same Idempotency-Key. */
  replayed: boolean;
  /** The key that was sent, if any (to retry this exact create later). */
  idempotencyKey?: string;
}

/** GET /:code, not followed. */
export type ResolveResult = CallInfo &
  (
    | {
        found: true;
        status: RedirectStatus;
        location: string;
        cacheControl?: string;
      }
    | {
        found: false;
        /** 404: unknown or deleted; 410: expired. */
        status: 404 | 410;
        error: string;
        message: string;
        /** ISO 8601, for 410. */
        expiresAt?: string;
      }
  );

/** GET /api/urls/:code. */
export interface UrlStats extends ShortUrl, CallInfo {
  /** ISO 8601. */
  createdAt: string;
  /** True for a custom alias. */
  alias: boolean;
  /** Redirects served, when the nodes count them (eventually consistent: nodes report in batches). */
  visits?: Visits;
}

export interface Visits {
  total: number;
  /** "2026-11-21" → visits that UTC day, for the last 90 days. */
  byDay: Record<string, number>;
}

export type DeleteResult = CallInfo;
