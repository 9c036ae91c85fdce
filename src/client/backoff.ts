// How long to wait before a retry: exponential backoff with full jitter (a random delay between 0
// and the exponential cap), so clients that failed together — every writer, when a leader dies —
// do not come back together. A server's Retry-After is a floor: it knows when trying again helps.
import type { RetryPolicy } from './types.js';

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 };

/** The delay before retry number `retry` (1 for the first retry). */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * cap);
  return Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}

export function retryPolicy(given: Partial<RetryPolicy> | false | undefined): RetryPolicy {
  if (given === false) return { ...DEFAULT_RETRY, attempts: 1 };
  const policy = { ...DEFAULT_RETRY, ...given };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw new TypeError(`retry.attempts must be a whole number >= 1, got ${policy.attempts}`);
  }
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= 0)) {
    throw new TypeError('retry delays must be >= 0');
  }
  return policy;
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
