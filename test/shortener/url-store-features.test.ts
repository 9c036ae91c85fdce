// Apply semantics of aliases, expiry, delete, purge and idempotency keys: what each command does,
// that apply is deterministic (same entries → byte-identical stores, whatever the batching and
// flush timing) and idempotent per index, and that the overlay serves every change (including
// deletions) before the flush.
import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CreateCommand } from '../../src/shortener/commands.js';
import { UrlStore, type AppliedEntry } from '../../src/shortener/url-store.js';
import { create, createTempEnv, dumpStore, entry, noop, type TempEnv } from './store-fixtures.js';

const A = 'https://example.com/a';
const B = 'https://example.com/b';
const T0 = 1_700_000_000_000;

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

function createCmd(fields: Partial<CreateCommand> & { code: string; url: string }): CreateCommand {
  return { type: 'create', createdAt: T0, ...fields };
}

const alias = (index: number, code: string, url: string, more: Partial<CreateCommand> = {}) =>
  entry(index, createCmd({ code, url, alias: true, ...more }));
const expiring = (index: number, code: string, url: string, expiresAt: number, createdAt = T0) =>
  entry(index, createCmd({ code, url, expiresAt, createdAt }));
const del = (index: number, code: string) => entry(index, { type: 'delete', code });
const purge = (index: number, now: number, expiredBefore = now, limit = 1000) =>
  entry(index, { type: 'purge', now, expiredBefore, limit });
const keyed = (
  index: number,
  code: string,
  url: string,
  key: string,
  fingerprint: string,
  more: Partial<CreateCommand> = {},
) =>
  entry(
    index,
    createCmd({ code, url, idempotency: { key, fingerprint, expiresAt: T0 + 86_400_000 }, ...more }),
  );

describe('aliases', () => {
  it('creates an alias, case-sensitively, and answers alias_taken for a live one', () => {
    const out = store.applyBatch([
      alias(1, 'promo', A),
      alias(2, 'Promo', B),
      alias(3, 'promo', B),
      alias(4, 'promo', A),
    ]);
    expect(out.map((o) => o.result)).toEqual([
      { code: 'promo', url: A, createdAt: T0, alias: true, created: true },
      { code: 'Promo', url: B, createdAt: T0, alias: true, created: true },
      { error: 'alias_taken', code: 'promo' },
      // Even for the same URL: an alias request never dedups (retries use an Idempotency-Key).
      { error: 'alias_taken', code: 'promo' },
    ]);
    expect(store.get('promo')).toEqual({ code: 'promo', url: A, createdAt: T0, alias: true });
    expect(store.count()).toBe(2);
  });

  it('keeps aliases out of "same URL, same code": a plain create of the URL gets its own code', () => {
    const out = store.applyBatch([alias(1, 'promo', A), create(2, 'gen0001', A), create(3, 'gen0002', A)]);
    expect(out.map((o) => o.result)).toMatchObject([
      { code: 'promo', created: true },
      { code: 'gen0001', created: true },
      { code: 'gen0001', created: false },
    ]);
    expect(store.codeForUrl(A)).toBe('gen0001');
    // An alias may point at a URL that already has a generated code.
    expect(store.applyBatch([alias(4, 'second', A)])[0]!.result).toMatchObject({ created: true });
  });

  it('refuses an alias equal to a generated code, and a generated code equal to an alias', () => {
    const out = store.applyBatch([
      create(1, 'abcdefg', A),
      alias(2, 'abcdefg', B),
      alias(3, 'xyz1234', B),
      create(4, 'xyz1234', A),
    ]);
    expect(out.map((o) => o.result)).toMatchObject([
      { created: true },
      { error: 'alias_taken' },
      { created: true },
      // A is already deduplicated to abcdefg: dedup wins over the collision.
      { code: 'abcdefg', created: false },
    ]);
    expect(store.applyBatch([create(5, 'xyz1234', 'https://example.com/new')])[0]!.result).toEqual({
      error: 'code_taken',
      code: 'xyz1234',
    });
  });
});

describe('expiry', () => {
  it('stores the leader-fixed instant and keeps expiring creates out of the dedup', () => {
    const out = store.applyBatch([
      expiring(1, 'exp0001', A, T0 + 60_000),
      expiring(2, 'exp0002', A, T0 + 60_000),
      create(3, 'plain01', A),
    ]);
    expect(out.map((o) => o.result)).toEqual([
      { code: 'exp0001', url: A, createdAt: T0, expiresAt: T0 + 60_000, created: true },
      { code: 'exp0002', url: A, createdAt: T0, expiresAt: T0 + 60_000, created: true },
      { code: 'plain01', url: A, createdAt: T0 + 3, created: true },
    ]);
    // A plain create never returns an expiring code.
    expect(store.codeForUrl(A)).toBe('plain01');
    expect(store.get('exp0001')?.expiresAt).toBe(T0 + 60_000);
  });

  it('lets a code be taken again once its record expired before the new command (by the command instant, not a clock)', () => {
    store.applyBatch([alias(1, 'sale', A, { expiresAt: T0 + 1000 })]);
    // createdAt before the expiry: still taken.
    expect(store.applyBatch([alias(2, 'sale', B, { createdAt: T0 + 999 })])[0]!.result).toEqual({
      error: 'alias_taken',
      code: 'sale',
    });
    expect(store.applyBatch([alias(3, 'sale', B, { createdAt: T0 + 1000 })])[0]!.result).toMatchObject({
      code: 'sale',
      url: B,
      created: true,
    });
    expect(store.get('sale')).toEqual({ code: 'sale', url: B, createdAt: T0 + 1000, alias: true });
    expect(store.count()).toBe(1);
    // The replaced record's expiry is gone with it: a purge finds nothing.
    expect(store.hasPurgeable(T0 + 10_000, T0 + 10_000)).toBe(false);
  });
});

describe('delete', () => {
  it('removes the record and its dedup entry; the code then reads as unknown and may be taken again', async () => {
    store.applyBatch([create(1, 'gen0001', A), alias(2, 'promo', B)]);
    await store.flush(); // from LMDB: the tombstone must hide the flushed record
    const out = store.applyBatch([del(3, 'gen0001'), del(4, 'promo'), del(5, 'promo'), del(6, 'nothing')]);
    expect(out.map((o) => o.result)).toEqual([
      { deleted: true, code: 'gen0001' },
      { deleted: true, code: 'promo' },
      { deleted: false, code: 'promo' },
      { deleted: false, code: 'nothing' },
    ]);
    expect(store.get('gen0001')).toBeUndefined();
    expect(store.get('promo')).toBeUndefined();
    expect(store.codeForUrl(A)).toBeUndefined();
    expect(store.count()).toBe(0);

    // A plain create of A gets a new code; the alias can be created again.
    const again = store.applyBatch([create(7, 'gen0002', A), alias(8, 'promo', A)]);
    expect(again.map((o) => o.result)).toMatchObject([
      { code: 'gen0002', created: true },
      { code: 'promo', created: true },
    ]);
    await store.flush();
    const dump = dumpStore(root);
    expect(dump.urls.map((r) => r.key).sort()).toEqual(['gen0002', 'promo']);
    expect(dump.urlCodes.map((r) => r.value)).toEqual(['gen0002']);
    expect(store.codeForUrl(A)).toBe('gen0002');
  });

  it('handles create → delete → create of one URL between two flushes', async () => {
    store.applyBatch([
      create(1, 'gen0001', A),
      del(2, 'gen0001'),
      create(3, 'gen0002', A),
      del(4, 'gen0002'),
      create(5, 'gen0003', A),
    ]);
    expect(store.codeForUrl(A)).toBe('gen0003');
    await store.flush();
    const dump = dumpStore(root);
    expect(dump.urls.map((r) => r.key)).toEqual(['gen0003']);
    expect(dump.urlCodes.map((r) => r.value)).toEqual(['gen0003']);
  });
});

describe('purge', () => {
  it('removes exactly the records expired at or before expiredBefore and the keys ended at or before now', async () => {
    store.applyBatch([
      expiring(1, 'exp0001', A, T0 + 1000),
      expiring(2, 'exp0002', A, T0 + 2000),
      expiring(3, 'exp0003', B, T0 + 3000),
      keyed(4, 'key0001', 'https://example.com/k', 'k1', 'f1'),
      create(5, 'plain01', B),
    ]);
    await store.flush();
    expect(store.hasPurgeable(T0, T0)).toBe(false);
    expect(store.hasPurgeable(T0 + 2000, T0 + 2000)).toBe(true);

    const [p1] = store.applyBatch([purge(6, T0 + 2000)]);
    expect(p1!.result).toEqual({ purgedUrls: 2, purgedKeys: 0, more: false });
    expect(store.get('exp0001')).toBeUndefined();
    expect(store.get('exp0002')).toBeUndefined();
    expect(store.get('exp0003')?.url).toBe(B);
    expect(store.count()).toBe(3);

    // Keys end 24 h after their create; records can be kept past their expiry (expiredBefore < now).
    const [p2] = store.applyBatch([purge(7, T0 + 86_400_000, T0 - 1)]);
    expect(p2!.result).toEqual({ purgedUrls: 0, purgedKeys: 1, more: false });
    expect(store.idempotencyKey('k1')).toBeUndefined();
    expect(store.get('exp0003')).toBeDefined();
    await store.flush();
    expect(dumpStore(root).idempotency).toEqual([]);
    expect(dumpStore(root).expiry).toHaveLength(1);
  });

  it('purges oldest first, at most `limit`, over flushed and pending entries alike', async () => {
    // Instants chosen so flushed and pending entries interleave.
    store.applyBatch([expiring(1, 'e4', A, T0 + 4), expiring(2, 'e1', A, T0 + 1)]);
    await store.flush();
    store.applyBatch([
      expiring(3, 'e3', A, T0 + 3),
      expiring(4, 'e2', A, T0 + 2),
      expiring(5, 'e5', A, T0 + 5),
    ]);
    const [p] = store.applyBatch([purge(6, T0 + 10, T0 + 10, 3)]);
    expect(p!.result).toEqual({ purgedUrls: 3, purgedKeys: 0, more: true });
    expect(['e1', 'e2', 'e3', 'e4', 'e5'].filter((c) => store.get(c) !== undefined)).toEqual(['e4', 'e5']);
    const [q] = store.applyBatch([purge(7, T0 + 10, T0 + 10, 3)]);
    expect(q!.result).toEqual({ purgedUrls: 2, purgedKeys: 0, more: false });
    expect(store.count()).toBe(0);
    await store.flush();
    expect(dumpStore(root).urls).toEqual([]);
    expect(dumpStore(root).expiry).toEqual([]);
  });
});

describe('the last purge instant', () => {
  it('is the latest "now" of an applied purge, kept through a flush and a reopen', async () => {
    expect(store.lastPurgeNow).toBeUndefined();
    store.applyBatch([purge(1, T0 + 5000), purge(2, T0 + 1000)]);
    // A purge from a leader whose clock is behind never moves it back.
    expect(store.lastPurgeNow).toBe(T0 + 5000);
    await store.flush();
    expect(new UrlStore(root).lastPurgeNow).toBe(T0 + 5000);
  });
});

describe('idempotency keys', () => {
  it('replays the first result for the same key and fingerprint, even once the code is deleted', () => {
    const out = store.applyBatch([
      keyed(1, 'gen0001', A, 'k1', 'fp-a'),
      keyed(2, 'gen0002', A, 'k1', 'fp-a'), // a retry with another generated code
      keyed(3, 'gen0003', B, 'k1', 'fp-b'), // the same key for another request
    ]);
    expect(out.map((o) => o.result)).toEqual([
      { code: 'gen0001', url: A, createdAt: T0, created: true },
      { code: 'gen0001', url: A, createdAt: T0, created: true, replayed: true },
      { error: 'idempotency_key_reused', code: 'gen0001' },
    ]);
    expect(store.get('gen0002')).toBeUndefined();
    expect(store.count()).toBe(1);
    store.applyBatch([del(4, 'gen0001')]);
    expect(store.applyBatch([keyed(5, 'gen0004', A, 'k1', 'fp-a')])[0]!.result).toMatchObject({
      code: 'gen0001',
      replayed: true,
    });
    expect(store.count()).toBe(0);
  });

  it('remembers a dedup (created: false), an alias and an expiry, and replays them as they were', async () => {
    store.applyBatch([create(1, 'gen0001', A)]);
    store.applyBatch([
      keyed(2, 'gen0002', A, 'dedup', 'f'),
      keyed(3, 'promo', B, 'alias', 'f', { alias: true, expiresAt: T0 + 5000 }),
    ]);
    await store.flush(); // replays now come from LMDB
    const out = store.applyBatch([
      keyed(4, 'gen0003', A, 'dedup', 'f'),
      keyed(5, 'promo', B, 'alias', 'f', { alias: true, expiresAt: T0 + 6000 }),
    ]);
    expect(out.map((o) => o.result)).toEqual([
      { code: 'gen0001', url: A, createdAt: 1_700_000_000_001, created: false, replayed: true },
      {
        code: 'promo',
        url: B,
        createdAt: T0,
        alias: true,
        expiresAt: T0 + 5000,
        created: true,
        replayed: true,
      },
    ]);
  });

  it('does not remember a refused create: a retry after alias_taken acts again', () => {
    store.applyBatch([alias(1, 'promo', A)]);
    expect(store.applyBatch([keyed(2, 'promo', B, 'k', 'f', { alias: true })])[0]!.result).toEqual({
      error: 'alias_taken',
      code: 'promo',
    });
    expect(store.idempotencyKey('k')).toBeUndefined();
  });

  it('forgets a key whose lifetime ended before the command, purged or not', () => {
    store.applyBatch([keyed(1, 'gen0001', A, 'k', 'fp-a')]);
    const later = T0 + 86_400_000; // the key's expiresAt
    const out = store.applyBatch([
      keyed(2, 'gen0002', B, 'k', 'fp-b', {
        createdAt: later,
        idempotency: { key: 'k', fingerprint: 'fp-b', expiresAt: later + 86_400_000 },
      }),
    ]);
    expect(out[0]!.result).toMatchObject({ code: 'gen0002', created: true });
    expect(out[0]!.result).not.toHaveProperty('replayed');
    expect(store.idempotencyKey('k')?.fingerprint).toBe('fp-b');
    // The old key's expiry entry was replaced by the new one's.
    expect(store.hasPurgeable(later, 0)).toBe(false);
    expect(store.hasPurgeable(later + 86_400_000, 0)).toBe(true);
  });
});

describe('determinism and idempotency of the new commands', () => {
  const history: AppliedEntry[] = [
    create(1, 'gen0001', A),
    alias(2, 'promo', B),
    expiring(3, 'exp0001', A, T0 + 100),
    keyed(4, 'gen0002', 'https://example.com/k', 'k1', 'f'),
    noop(5),
    del(6, 'gen0001'),
    create(7, 'gen0003', A),
    alias(8, 'promo', A),
    keyed(9, 'gen0004', 'https://example.com/k', 'k1', 'f'),
    purge(10, T0 + 200),
    expiring(11, 'exp0002', B, T0 + 300),
    alias(12, 'exp0001', B, { createdAt: T0 + 150 }),
    purge(13, T0 + 86_400_001, T0 + 250, 1),
    purge(14, T0 + 86_400_001, T0 + 1000),
    del(15, 'promo'),
  ];

  it('ends byte-identical on two nodes that batch and flush differently, with the same outcomes', async () => {
    const otherEnv = await createTempEnv();
    try {
      const otherRoot = otherEnv.open();
      const other = new UrlStore(otherRoot, { flushIntervalMs: 1 });
      const oneBatch = store.applyBatch(history);
      const split: typeof oneBatch = [];
      for (const e of history) {
        split.push(...other.applyBatch([e]));
        if (e.index % 3 === 0) await other.flush(); // flushed at different points than `store`
      }
      expect(split).toEqual(oneBatch);
      await store.flush();
      await other.flush();
      expect(dumpStore(otherRoot)).toEqual(dumpStore(root));
      expect(other.count()).toBe(store.count());
    } finally {
      await otherEnv.dispose();
    }
  });

  it('applies each index once: a redelivered history changes nothing and returns no outcomes', async () => {
    store.applyBatch(history);
    await store.flush();
    const before = dumpStore(root);
    expect(store.applyBatch(history)).toEqual([]);
    await store.flush();
    expect(dumpStore(root)).toEqual(before);
  });

  it('after a crash before the flush, a replay from the flushed index rebuilds the same state', async () => {
    const reference = await createTempEnv();
    try {
      const refRoot = reference.open();
      const ref = new UrlStore(refRoot);
      ref.applyBatch(history);
      await ref.flush();

      store.applyBatch(history.slice(0, 7));
      await store.flush();
      store.applyBatch(history.slice(7)); // applied in memory only: lost in the "crash"
      await root.close();
      const reopened = new UrlStore(env.open());
      expect(reopened.appliedIndex).toBe(7);
      reopened.applyBatch(history); // the log from the start: 1..7 are skipped
      await reopened.flush();
      expect(dumpStore(env.open())).toEqual(dumpStore(refRoot));
    } finally {
      await reference.dispose();
    }
  });
});
