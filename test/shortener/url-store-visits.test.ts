// Apply semantics of the visits command: counts merge into the code's statistics, a batch counts
// once per batch id (origin, session, seq) however often it is delivered, counts for a code that
// is gone (or was taken again by another record) are dropped, deleting or purging a code drops
// its statistics, and the result is deterministic and survives a flush and a restart.
import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VisitCount, VisitsCommand } from '../../src/shortener/commands.js';
import { STORE_DB_NAMES } from '../../src/shortener/store-layout.js';
import { UrlStore, type AppliedEntry } from '../../src/shortener/url-store.js';
import { create, createTempEnv, dumpStore, entry, type TempEnv } from './store-fixtures.js';

const A = 'https://example.com/a';
const B = 'https://example.com/b';
const T0 = 1_700_000_000_000;
const DAY = 19_675; // 2023-11-14, the UTC day of T0

let env: TempEnv;
let root: RootDatabase;
let store: UrlStore;

beforeEach(async () => {
  env = await createTempEnv();
  root = env.open();
  store = new UrlStore(root);
});

afterEach(async () => {
  await env.dispose();
});

/** create(index, code, url) uses createdAt T0 + index. */
const createdAt = (index: number) => T0 + index;

function visits(
  index: number,
  id: { origin?: number; session?: number; seq: number },
  counts: Array<Partial<VisitCount> & { code: string; createdAt: number }>,
): AppliedEntry {
  const cmd: VisitsCommand = {
    type: 'visits',
    origin: id.origin ?? 2,
    session: id.session ?? 7,
    seq: id.seq,
    visits: counts.map((c) => ({ day: DAY, count: 1, ...c })),
  };
  return entry(index, cmd);
}

describe('visits', () => {
  it('merges a batch into each code, per day, and reports what it counted', () => {
    store.applyBatch([create(1, 'code001', A), create(2, 'code002', B)]);
    const out = store.applyBatch([
      visits(3, { seq: 1 }, [
        { code: 'code001', createdAt: createdAt(1), count: 3 },
        { code: 'code001', createdAt: createdAt(1), day: DAY - 1, count: 2 },
        { code: 'code002', createdAt: createdAt(2), count: 1 },
      ]),
      visits(4, { origin: 3, seq: 1 }, [{ code: 'code001', createdAt: createdAt(1), count: 10 }]),
    ]);
    expect(out).toEqual([
      { index: 3, result: { visitBatch: 'applied', counted: 6 } },
      { index: 4, result: { visitBatch: 'applied', counted: 10 } },
    ]);
    expect(store.visits('code001')).toEqual({
      total: 15,
      days: [
        [DAY - 1, 2],
        [DAY, 13],
      ],
    });
    expect(store.visits('code002')).toEqual({ total: 1, days: [[DAY, 1]] });
    expect(store.visits('nope')).toBeUndefined();
  });

  it('counts a batch once: the same id again (a retry), or an older seq of the session, is a duplicate', () => {
    store.applyBatch([create(1, 'code001', A)]);
    const batch = (index: number, seq: number, session = 7) =>
      visits(index, { seq, session }, [{ code: 'code001', createdAt: createdAt(1), count: 5 }]);
    const out = store.applyBatch([
      batch(2, 1),
      batch(3, 1), // the retry of seq 1 after a lost answer
      batch(4, 2),
      batch(5, 1), // seq 1 given up on by its sender, committed late: never counted twice
      batch(6, 1, 8), // the node restarted: a new session starts at seq 1 again
      batch(7, 1, 8),
      batch(8, 2), // a batch of the previous process still in flight when it died
      batch(9, 2, 8),
    ]);
    expect(out.map((o) => (o.result as { visitBatch: string }).visitBatch)).toEqual([
      'applied',
      'duplicate',
      'applied',
      'duplicate',
      'applied',
      'duplicate',
      'duplicate',
      'applied',
    ]);
    expect(store.visits('code001')!.total).toBe(20);
  });

  it('remembers the last 8 sessions of an origin', () => {
    store.applyBatch([create(1, 'code001', A)]);
    const count = [{ code: 'code001', createdAt: createdAt(1) }];
    const entries = Array.from({ length: 9 }, (_, s) => visits(2 + s, { session: 100 + s, seq: 1 }, count));
    store.applyBatch(entries);
    const again = store.applyBatch([
      visits(11, { session: 101, seq: 1 }, count), // the 8th most recent: still known
      visits(12, { session: 100, seq: 1 }, count), // the 9th: forgotten, so applied again
    ]);
    expect(again.map((o) => (o.result as { visitBatch: string }).visitBatch)).toEqual([
      'duplicate',
      'applied',
    ]);
  });

  it('keeps the batch marks of each origin apart', () => {
    store.applyBatch([create(1, 'code001', A)]);
    const count = [{ code: 'code001', createdAt: createdAt(1) }];
    store.applyBatch([
      visits(2, { origin: 2, seq: 5 }, count),
      visits(3, { origin: 3, seq: 1 }, count),
      visits(4, { origin: 2, seq: 5 }, count),
      visits(5, { origin: 3, seq: 2 }, count),
    ]);
    expect(store.visits('code001')!.total).toBe(3);
  });

  it('drops counts for a code that does not exist or now belongs to another record', () => {
    store.applyBatch([create(1, 'code001', A)]);
    const out = store.applyBatch([
      visits(2, { seq: 1 }, [
        { code: 'unknown', createdAt: createdAt(1), count: 4 },
        { code: 'code001', createdAt: createdAt(1) - 1, count: 4 }, // counted for an earlier record
        { code: 'code001', createdAt: createdAt(1), count: 1 },
      ]),
    ]);
    expect(out[0]!.result).toEqual({ visitBatch: 'applied', counted: 1 });
    expect(store.visits('unknown')).toBeUndefined();
    expect(store.visits('code001')!.total).toBe(1);
  });

  it('a delete drops the statistics (flushed or not); the code taken again starts from zero', async () => {
    store.applyBatch([
      create(1, 'code001', A),
      visits(2, { seq: 1 }, [{ code: 'code001', createdAt: createdAt(1), count: 3 }]),
    ]);
    await store.flush();
    store.applyBatch([entry(3, { type: 'delete', code: 'code001' })]);
    expect(store.visits('code001')).toBeUndefined();
    await store.flush();
    expect(dumpStore(root).visits).toEqual([]);

    store.applyBatch([
      entry(4, { type: 'create', code: 'code001', url: B, createdAt: T0 + 4, alias: true }),
      // Visits counted for the deleted record arrive late: dropped.
      visits(5, { seq: 2 }, [{ code: 'code001', createdAt: createdAt(1), count: 9 }]),
    ]);
    expect(store.visits('code001')).toBeUndefined();
  });

  it('a purge of an expired code drops its statistics', () => {
    store.applyBatch([
      entry(1, { type: 'create', code: 'exp0001', url: A, createdAt: T0, expiresAt: T0 + 10 }),
      visits(2, { seq: 1 }, [{ code: 'exp0001', createdAt: T0, count: 2 }]),
    ]);
    expect(store.visits('exp0001')!.total).toBe(2);
    store.applyBatch([entry(3, { type: 'purge', now: T0 + 20, expiredBefore: T0 + 20, limit: 10 })]);
    expect(store.visits('exp0001')).toBeUndefined();
  });

  it('writes statistics and batch marks with the applied index, and reads them back after a restart', async () => {
    store.applyBatch([
      create(1, 'code001', A),
      visits(2, { seq: 1 }, [{ code: 'code001', createdAt: createdAt(1), count: 3 }]),
    ]);
    await store.flush();
    const names = Object.values(STORE_DB_NAMES);
    expect(names).toContain('visits');
    expect(names).toContain('visit-batches');
    expect(dumpStore(root).visits).toHaveLength(1);
    expect(dumpStore(root).visitBatches).toHaveLength(1);
    await root.close();

    const reopened = new UrlStore(env.open());
    expect(reopened.appliedIndex).toBe(2);
    expect(reopened.visits('code001')).toEqual({ total: 3, days: [[DAY, 3]] });
    // The batch mark survived too: a retry of seq 1 after the restart is still a duplicate.
    const out = reopened.applyBatch([
      visits(3, { seq: 1 }, [{ code: 'code001', createdAt: createdAt(1), count: 3 }]),
    ]);
    expect(out[0]!.result).toEqual({ visitBatch: 'duplicate', counted: 0 });
  });

  it('ends byte-identical on two nodes that batch and flush differently', async () => {
    const history: AppliedEntry[] = [
      create(1, 'code001', A),
      create(2, 'code002', B),
      visits(3, { seq: 1 }, [{ code: 'code001', createdAt: createdAt(1), count: 2 }]),
      visits(4, { origin: 3, seq: 1 }, [
        { code: 'code001', createdAt: createdAt(1), day: DAY + 1 },
        { code: 'code002', createdAt: createdAt(2), day: DAY - 200 },
      ]),
      visits(5, { seq: 1 }, [{ code: 'code002', createdAt: createdAt(2) }]),
      entry(6, { type: 'delete', code: 'code002' }),
      visits(7, { seq: 2 }, [{ code: 'code001', createdAt: createdAt(1), day: DAY + 100, count: 4 }]),
    ];
    const otherEnv = await createTempEnv();
    try {
      const otherRoot = otherEnv.open();
      const other = new UrlStore(otherRoot, { flushIntervalMs: 1 });
      const oneBatch = store.applyBatch(history);
      const split: typeof oneBatch = [];
      for (const e of history) {
        split.push(...other.applyBatch([e]));
        if (e.index % 2 === 0) await other.flush();
      }
      expect(split).toEqual(oneBatch);
      await store.flush();
      await other.flush();
      expect(dumpStore(otherRoot)).toEqual(dumpStore(root));
      expect(store.visits('code001')).toEqual({ total: 7, days: [[DAY + 100, 4]] });
    } finally {
      await otherEnv.dispose();
    }
  });
});
