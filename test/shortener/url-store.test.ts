import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UrlStore } from '../../src/shortener/url-store.js';
import { create, createTempEnv, dumpStore, noop, type TempEnv } from './store-fixtures.js';

/** What LMDB holds once everything `store` applied is flushed. */
async function flushedDump(store: UrlStore, root: RootDatabase): Promise<ReturnType<typeof dumpStore>> {
  await store.flush();
  return dumpStore(root);
}

const A = 'https://example.com/a';
const B = 'https://example.com/b';
const C = 'https://example.com/c';

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

describe('UrlStore basics', () => {
  it('starts empty at applied index 0', () => {
    expect(store.appliedIndex).toBe(0);
    expect(store.count()).toBe(0);
    expect(store.get('abc1234')).toBeUndefined();
    expect(store.codeForUrl(A)).toBeUndefined();
    expect(store.applyBatch([])).toEqual([]);
  });

  it('applies a create and serves it from get and codeForUrl', () => {
    const outcomes = store.applyBatch([create(1, 'abc1234', A, 1234.5)]);

    expect(outcomes).toEqual([
      { index: 1, result: { code: 'abc1234', url: A, createdAt: 1234.5, created: true } },
    ]);
    expect(store.get('abc1234')).toEqual({ code: 'abc1234', url: A, createdAt: 1234.5 });
    expect(store.codeForUrl(A)).toBe('abc1234');
    expect(store.count()).toBe(1);
    expect(store.appliedIndex).toBe(1);
  });

  it('treats empty entries as no-ops that only advance the applied index', () => {
    const outcomes = store.applyBatch([noop(1), create(2, 'abc1234', A), noop(3)]);

    expect(outcomes.map((o) => o.index)).toEqual([2]);
    expect(store.appliedIndex).toBe(3);
    expect(store.count()).toBe(1);
  });

  it('stores and finds a URL far longer than an LMDB key', () => {
    const longUrl = `https://example.com/${'x'.repeat(8000)}`;
    expect(Buffer.byteLength(longUrl)).toBeGreaterThan(2048);

    store.applyBatch([create(1, 'long000', longUrl)]);
    const [again] = store.applyBatch([create(2, 'long001', longUrl)]);

    expect(store.get('long000')?.url).toBe(longUrl);
    expect(store.codeForUrl(longUrl)).toBe('long000');
    expect(again?.result).toMatchObject({ code: 'long000', created: false });
  });
});

describe('create semantics', () => {
  it('returns the existing record, not a new one, for a URL that already has a code', () => {
    store.applyBatch([create(1, 'first00', A, 100)]);
    const outcomes = store.applyBatch([create(2, 'second0', A, 200)]);

    expect(outcomes).toEqual([
      { index: 2, result: { code: 'first00', url: A, createdAt: 100, created: false } },
    ]);
    expect(store.get('second0')).toBeUndefined();
    expect(store.count()).toBe(1);
  });

  it('treats a re-proposal of the same URL with the same code as a dedup, not a collision', () => {
    store.applyBatch([create(1, 'abc1234', A, 100)]);
    const outcomes = store.applyBatch([create(2, 'abc1234', A, 200)]);

    expect(outcomes).toEqual([
      { index: 2, result: { code: 'abc1234', url: A, createdAt: 100, created: false } },
    ]);
  });

  it('dedups the same URL proposed twice within one batch', () => {
    const outcomes = store.applyBatch([create(1, 'first00', A, 100), create(2, 'second0', A, 200)]);

    expect(outcomes.map((o) => o.result)).toEqual([
      { code: 'first00', url: A, createdAt: 100, created: true },
      { code: 'first00', url: A, createdAt: 100, created: false },
    ]);
    expect(store.count()).toBe(1);
  });

  it('answers code_taken for a code owned by another URL and changes nothing but the applied index', async () => {
    store.applyBatch([create(1, 'same000', A)]);
    const before = await flushedDump(store, root);

    const outcomes = store.applyBatch([create(2, 'same000', B)]);

    expect(outcomes).toEqual([{ index: 2, result: { error: 'code_taken', code: 'same000' } }]);
    expect(store.get('same000')?.url).toBe(A);
    expect(store.codeForUrl(B)).toBeUndefined();
    expect(store.count()).toBe(1);
    const after = await flushedDump(store, root);
    expect(after.urls).toEqual(before.urls);
    expect(after.urlCodes).toEqual(before.urlCodes);
    expect(store.appliedIndex).toBe(2);
  });

  it('keeps URLs whose hashes collide apart by comparing the URL itself', async () => {
    const collidingEnv = await createTempEnv();
    try {
      const colliding = new UrlStore(collidingEnv.open(), { urlHasher: () => Buffer.from('same-hash') });

      const outcomes = colliding.applyBatch([
        create(1, 'codeA00', A),
        create(2, 'codeB00', B),
        create(3, 'codeX00', A),
        create(4, 'codeA00', C),
      ]);

      expect(outcomes.map((o) => o.result)).toEqual([
        expect.objectContaining({ code: 'codeA00', url: A, created: true }),
        expect.objectContaining({ code: 'codeB00', url: B, created: true }),
        expect.objectContaining({ code: 'codeA00', url: A, created: false }),
        { error: 'code_taken', code: 'codeA00' },
      ]);
      expect(colliding.codeForUrl(A)).toBe('codeA00');
      expect(colliding.codeForUrl(B)).toBe('codeB00');
      expect(colliding.codeForUrl(C)).toBeUndefined();
      expect(colliding.count()).toBe(2);
    } finally {
      await collidingEnv.dispose();
    }
  });
});

describe('idempotency and order', () => {
  it('applies nothing and returns no outcomes when the same batch comes again', async () => {
    const batch = [create(1, 'abc1234', A), noop(2), create(3, 'def5678', B)];
    store.applyBatch(batch);
    const before = await flushedDump(store, root);

    expect(store.applyBatch(batch)).toEqual([]);
    expect(await flushedDump(store, root)).toEqual(before);
  });

  it('applies only the part of an overlapping batch above the applied index', () => {
    store.applyBatch([create(1, 'abc1234', A), create(2, 'def5678', B)]);

    const outcomes = store.applyBatch([create(2, 'zzzzzzz', C), noop(3), create(4, 'ghi9012', C)]);

    expect(outcomes).toEqual([
      { index: 4, result: expect.objectContaining({ code: 'ghi9012', created: true }) },
    ]);
    expect(store.get('zzzzzzz')).toBeUndefined();
    expect(store.appliedIndex).toBe(4);
  });

  it('refuses a gap in the indexes and applies nothing of that batch', () => {
    expect(() => store.applyBatch([create(1, 'abc1234', A), create(3, 'def5678', B)])).toThrow(
      /cannot apply entry 3: the last applied entry is 1/,
    );
    expect(store.appliedIndex).toBe(0);
    expect(store.get('abc1234')).toBeUndefined();
  });

  it('rolls back the whole batch when an entry cannot be decoded', () => {
    const garbage = { index: 2, data: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]) };

    expect(() => store.applyBatch([create(1, 'abc1234', A), garbage])).toThrow(/cannot decode command/);
    expect(store.appliedIndex).toBe(0);
    expect(store.get('abc1234')).toBeUndefined();
    expect(store.count()).toBe(0);
  });
});

describe('determinism', () => {
  it('ends byte-identical on two nodes fed the same entries in different batches', async () => {
    const entries = [
      noop(1),
      create(2, 'abc1234', A),
      create(3, 'def5678', B),
      create(4, 'xyz0000', A), // dedup
      noop(5),
      create(6, 'abc1234', C), // code taken
      create(7, 'ghi9012', C),
      create(8, 'unicode', 'https://example.com/%C3%A9t%C3%A9'),
    ];
    const otherEnv = await createTempEnv();
    try {
      const otherRoot = otherEnv.open();
      const other = new UrlStore(otherRoot);

      const outcomes = store.applyBatch(entries);
      // The other node sees the entries one at a time, and some twice (a replay after a restart).
      const otherOutcomes = entries.flatMap((_, i) =>
        other.applyBatch(entries.slice(Math.max(0, i - 1), i + 1)),
      );

      expect(otherOutcomes).toEqual(outcomes);
      const dump = await flushedDump(store, root);
      expect(dump.urls).toHaveLength(4);
      expect(dump.urlCodes).toHaveLength(4);
      expect(await flushedDump(other, otherRoot)).toEqual(dump);
    } finally {
      await otherEnv.dispose();
    }
  });
});

describe('durability', () => {
  it('keeps the applied index and the data across closing and reopening the environment', async () => {
    const batch = [create(1, 'abc1234', A), noop(2), create(3, 'def5678', B)];
    store.applyBatch(batch);
    const before = await flushedDump(store, root);
    await root.close();

    const reopenedRoot = env.open();
    const reopened = new UrlStore(reopenedRoot);

    expect(reopened.appliedIndex).toBe(3);
    expect(reopened.count()).toBe(2);
    expect(reopened.get('def5678')).toEqual({ code: 'def5678', url: B, createdAt: 1_700_000_000_003 });
    expect(reopened.codeForUrl(A)).toBe('abc1234');
    expect(dumpStore(reopenedRoot)).toEqual(before);
    // A replay of the log after the restart must not apply anything twice.
    expect(reopened.applyBatch(batch)).toEqual([]);
  });
});

describe('the in-memory overlay and its flush to LMDB', () => {
  it('serves applied records before they are flushed, and from LMDB after', async () => {
    store.applyBatch([create(1, 'abc1234', A), noop(2)]);
    expect(store.get('abc1234')?.url).toBe(A);
    expect(store.codeForUrl(A)).toBe('abc1234');
    expect(store.appliedIndex).toBe(2);
    expect(dumpStore(root).urls).toHaveLength(0);
    expect(store.durableAppliedIndex).toBe(0);

    await store.flush();
    expect(dumpStore(root).urls).toHaveLength(1);
    expect(store.durableAppliedIndex).toBe(2);
    expect(store.get('abc1234')?.url).toBe(A);
    expect(store.applyBatch([create(3, 'zzz0000', A)])).toEqual([
      { index: 3, result: { code: 'abc1234', url: A, createdAt: 1_700_000_000_001, created: false } },
    ]);
  });

  it('flushes on its own within the interval', async () => {
    const fast = new UrlStore(root, { flushIntervalMs: 5 });
    fast.applyBatch([create(1, 'abc1234', A)]);
    const deadline = Date.now() + 5_000;
    while (fast.durableAppliedIndex < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(fast.durableAppliedIndex).toBe(1);
  });

  it('after a crash before the flush, resumes from the flushed index and a replay rebuilds the same state', async () => {
    const entries = [create(1, 'abc1234', A), create(2, 'def5678', B), create(3, 'ghi9012', A)];
    const outcomes = store.applyBatch(entries.slice(0, 1));
    await store.flush();
    outcomes.push(...store.applyBatch(entries.slice(1)));
    // "Crash": reopen without flushing; the unflushed entries are gone from the store.
    await root.close();
    root = env.open();
    const restarted = new UrlStore(root);
    expect(restarted.appliedIndex).toBe(1);
    expect(restarted.get('def5678')).toBeUndefined();
    // The Raft log replays everything above the flushed index: same outcomes, same state.
    expect(restarted.applyBatch(entries)).toEqual(outcomes.slice(1));
    const other = await createTempEnv();
    try {
      const otherRoot = other.open();
      const otherStore = new UrlStore(otherRoot);
      otherStore.applyBatch(entries);
      store = restarted;
      expect(await flushedDump(store, root)).toEqual(await flushedDump(otherStore, otherRoot));
    } finally {
      await other.dispose();
    }
  });

  it('rejects a batch with an undecodable entry and applies none of it', () => {
    const bad = { index: 2, data: new Uint8Array([0xff, 0xff, 0xff]) };
    expect(() => store.applyBatch([create(1, 'abc1234', A), bad])).toThrow();
    expect(store.appliedIndex).toBe(0);
    expect(store.get('abc1234')).toBeUndefined();
  });

  it('keeps the count across flushes and restarts', async () => {
    store.applyBatch([create(1, 'abc1234', A), create(2, 'def5678', B)]);
    await store.flush();
    store.applyBatch([create(3, 'ghi9012', C)]);
    expect(store.count()).toBe(3);
    await store.flush();
    await root.close();
    root = env.open();
    expect(new UrlStore(root).count()).toBe(3);
  });
});
