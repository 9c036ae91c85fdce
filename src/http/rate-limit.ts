// A per-client rate limit on writes (--write-rate-limit): a token bucket per client that holds
// `burst` tokens and refills at `perSecond`; a write takes one token, and a write with none left
// gets 429 rate_limited with Retry-After.
//
// Clients are told apart by IP address (IPv6 by its /64, which is what one host or customer
// usually gets), and by API key too when one is configured. The limit is per node: a client is
// refused by the node it writes to (the leader, for writes that succeed or are forwarded). Behind
// a reverse proxy every client has the proxy's address, so all would share one bucket, unless the
// proxy is trusted (--trust-proxy, client-address.ts) and names the client.
//
// Memory stays bounded: buckets idle long enough to be full again (burst / perSecond seconds) are
// the same as no bucket and are dropped, and beyond maxBuckets the least recently used ones go.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface WriteRateLimit {
  /** Writes per second per client, on average (fractions allowed: 0.5 = one every 2 s). */
  perSecond: number;
  /** Writes a client may make at once after being idle. Default: perSecond rounded up, at least 1. */
  burst?: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, monotonic). */
  at: number;
}

/** How often idle buckets are looked for, at most. */
const SWEEP_EVERY_MS = 1_000;

export class TokenBuckets {
  readonly perSecond: number;
  readonly burst: number;
  /** Idle this long, any bucket is full again. */
  private readonly refillMs: number;
  /** In order of last use, least recent first (a use moves a bucket to the end). */
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    limit: WriteRateLimit,
    private readonly maxBuckets = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.perSecond > 0) || !Number.isFinite(limit.perSecond)) {
      throw new RangeError(`perSecond must be a positive number, got ${limit.perSecond}`);
    }
    this.perSecond = limit.perSecond;
    this.burst = limit.burst ?? Math.max(1, Math.ceil(limit.perSecond));
    if (!Number.isInteger(this.burst) || this.burst < 1) {
      throw new RangeError(`burst must be a positive integer, got ${limit.burst}`);
    }
    this.refillMs = (this.burst / this.perSecond) * 1000;
  }

  get size(): number {
    return this.buckets.size;
  }

  take(key: string): TakeResult {
    const now = this.now();
    this.sweep(now);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, at: now };
    } else {
      this.buckets.delete(key);
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000);
      bucket.at = now;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)) };
  }

  private sweep(now: number): void {
    const over = this.buckets.size >= this.maxBuckets;
    if (!over && now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    // Least recently used first, so the loop stops at the first bucket still in use.
    for (const [key, bucket] of this.buckets) {
      if (this.buckets.size < this.maxBuckets && now - bucket.at < this.refillMs) break;
      this.buckets.delete(key);
    }
  }
}

/**
 * The bucket key of a request: its IP address (an IPv6 address by its /64), plus a hash of the
 * API key when `withApiKey` (only when keys are checked: otherwise a client could invent a new
 * key per request to get a fresh bucket each time).
 */
export function clientKey(
  req: IncomingMessage,
  withApiKey: boolean,
  address = req.socket.remoteAddress ?? 'unknown',
): string {
  const ip = addressKey(address);
  if (!withApiKey) return ip;
  // The key itself, however it was sent (as requireApiKey reads it): one client, one bucket.
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization?.trim() ?? '')?.[1];
  const key = bearer ?? (req.headers['x-api-key'] as string | undefined) ?? '';
  return `${ip} ${createHash('sha256').update(key).digest('base64url').slice(0, 16)}`;
}

export function addressKey(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7); // IPv4-mapped
  if (!address.includes(':')) return address;
  return ipv6Prefix64(address);
}

/** "2001:db8:1:2:3:4:5:6" → "2001:db8:1:2::/64". */
function ipv6Prefix64(address: string): string {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const gap = bare.indexOf('::');
  let groups: string[];
  if (gap === -1) {
    groups = bare.split(':');
  } else {
    const head = bare.slice(0, gap) === '' ? [] : bare.slice(0, gap).split(':');
    const tail = bare.slice(gap + 2) === '' ? [] : bare.slice(gap + 2).split(':');
    groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  }
  const prefix = groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16));
  return `${prefix.join(':')}::/64`;
}
