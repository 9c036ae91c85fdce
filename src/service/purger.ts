// Removes what has expired — records past their retention, idempotency keys past their lifetime —
// through the log, so every node removes the same entries. Only the leader purges; followers answer
// 410 for an expired record until the purge reaches them.
import { Role } from '../raft/index.js';
import type { PurgeResult, UrlStore } from '../shortener/url-store.js';
import { PurgeClock } from './purge-clock.js';
import { proposeCommand, type UrlRuntime } from './runtime-calls.js';

export interface PurgerOptions {
  /** How often the leader looks for expired records and keys. Default 60 s. */
  intervalMs?: number;
  /** Expired records keep answering 410 this long before a purge removes them (then 404). Default 1 h. */
  expiredRetentionMs?: number;
  /** At most this many removals per purge entry; the leader proposes more while some are left. Default 5,000. */
  batchLimit?: number;
  /** Told about a purge that failed (e.g. leadership moved); the next interval tries again. */
  onError?: (err: unknown) => void;
  /** Told about each applied purge. */
  onPurged?: (result: PurgeResult) => void;
  /** Told when the wall clock runs ahead of the last purge by more than this leader measured. */
  onClockAhead?: (info: ClockAhead) => void;
}

export interface ClockAhead {
  heldBackMs: number;
  purgeNow: number;
}

export const DEFAULT_PURGE_INTERVAL_MS = 60_000;
export const DEFAULT_EXPIRED_RETENTION_MS = 60 * 60_000;
const DEFAULT_BATCH_LIMIT = 5_000;

/** Several purge entries in a row at most per interval, so a backlog cannot crowd out client writes. */
const MAX_PURGES_PER_ROUND = 20;

export class Purger {
  private timer: NodeJS.Timeout | undefined;
  private purging = false;
  private readonly clock = new PurgeClock();

  constructor(
    private readonly runtime: Pick<UrlRuntime, 'propose' | 'role' | 'member'>,
    private readonly store: Pick<UrlStore, 'lastPurgeNow' | 'hasPurgeable'>,
  ) {}

  /**
   * Proposes one purge if this node leads and its store has something to purge; resolves with the
   * applied result, or undefined when there was nothing to do. `wallNow` is this leader's clock,
   * held back when it runs ahead of what this leader has measured since the last purge
   * (purge-clock.ts): every node applies the same instants.
   */
  async purgeExpired(
    wallNow: number,
    expiredRetentionMs: number,
    limit: number,
    onClockAhead?: (info: ClockAhead) => void,
  ): Promise<PurgeResult | undefined> {
    if (this.runtime.role !== Role.Leader) return undefined;
    const { now, heldBackMs } = this.clock.decide(wallNow, this.store.lastPurgeNow, expiredRetentionMs);
    if (heldBackMs > 0) onClockAhead?.({ heldBackMs, purgeNow: now });
    const expiredBefore = now - expiredRetentionMs;
    if (!this.store.hasPurgeable(now, expiredBefore)) return undefined;
    const result = await proposeCommand(this.runtime, { type: 'purge', now, expiredBefore, limit });
    if (!result || !('purgedUrls' in result)) {
      throw new Error('the state machine returned no purge result for a purge command');
    }
    return result;
  }

  /** Every intervalMs, on the leader only: purge until nothing is left or the round's cap is reached. */
  start(options: PurgerOptions = {}): void {
    this.stop();
    const intervalMs = options.intervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    const retention = options.expiredRetentionMs ?? DEFAULT_EXPIRED_RETENTION_MS;
    const limit = options.batchLimit ?? DEFAULT_BATCH_LIMIT;
    this.timer = setInterval(() => {
      if (this.purging) return;
      this.purging = true;
      void (async () => {
        try {
          for (let round = 0; round < MAX_PURGES_PER_ROUND; round++) {
            const result = await this.purgeExpired(Date.now(), retention, limit, options.onClockAhead);
            if (result === undefined) break;
            options.onPurged?.(result);
            if (!result.more) break;
          }
        } catch (err) {
          options.onError?.(err);
        } finally {
          this.purging = false;
        }
      })();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
