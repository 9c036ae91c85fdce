// The update command and tags/visit limits on create: what apply does to the record and to the
// "same URL, same code" and expiry indexes, that it is deterministic whatever the flush timing,
// and the codecs (old record versions still read; bad tag lists refused on decode).
import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeCommand,
  encodeCommand,
  type CreateCommand,
  type UpdateCommand,
} from '../../src/shortener/commands.js';
import { decodeUrlRecord, encodeUrlRecord } from '../../src/shortener/url-record.js';
import { UrlStore, type AppliedEntry } from '../../src/shortener/url-store.js';
import { create, createTempEnv, dumpStore, entry, type TempEnv } from './store-fixtures.js';

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

const update = (
  index: number,
  code: string,
  fields: Omit<UpdateCommand, 'type' | 'code' | 'updatedAt'>,
  updatedAt = T0 + 10,
) => entry(index, { type: 'update', code, updatedAt, ...fields });
const createWith = (index: number, code: string, url: string, more: Partial<CreateCommand>) =>
  entry(index, { type: 'create', code, url, createdAt: T0 + index, ...more });

describe('update', () => {
  it('changes the target in place and moves the code in "same URL, same code" (before and after a flush)', async () => {
    store.applyBatch([create(1, 'gen0001', A, T0)]);
    const [outcome] = store.applyBatch([update(2, 'gen0001', { url: B })]);
    expect(outcome!.result).toEqual({ updated: { code: 'gen0001', url: B, createdAt: T0 } });
    expect(store.get('gen0001')?.url).toBe(B);
    expect(store.codeForUrl(A)).toBeUndefined();
    expect(store.codeForUrl(B)).toBe('gen0001');
    await store.flush();
    expect(store.codeForUrl(A)).toBeUndefined();
    expect(store.codeForUrl(B)).toBe('gen0001');
    // A plain create of the old URL now makes a new code; of the new URL it finds the edited one.
    const [a, b] = store.applyBatch([create(3, 'gen0002', A), create(4, 'gen0003', B)]);
    expect(a!.result).toMatchObject({ code: 'gen0002', created: true });
    expect(b!.result).toMatchObject({ code: 'gen0001', created: false });
  });

  it('does not take over a URL that already has a plain code; leaves the index when it gains an expiry or a limit', async () => {
    store.applyBatch([create(1, 'gen0001', A), create(2, 'gen0002', B)]);
    await store.flush();
    store.applyBatch([update(3, 'gen0001', { url: B })]);
    expect(store.codeForUrl(B)).toBe('gen0002');
    expect(store.codeForUrl(A)).toBeUndefined();
    store.applyBatch([update(4, 'gen0002', { maxVisits: 5 })]);
    expect(store.codeForUrl(B)).toBeUndefined();
    // Removing the limit again makes it eligible; B has no plain code now, so it enters.
    store.applyBatch([update(5, 'gen0002', { maxVisits: null })]);
    expect(store.codeForUrl(B)).toBe('gen0002');
    store.applyBatch([update(6, 'gen0002', { expiresAt: T0 + 1000 })]);
    expect(store.codeForUrl(B)).toBeUndefined();
    expect(store.hasPurgeable(T0 + 1000, T0 + 1000)).toBe(true);
    store.applyBatch([update(7, 'gen0002', { expiresAt: null })]);
    expect(store.hasPurgeable(T0 + 1000, T0 + 1000)).toBe(false);
    expect(store.get('gen0002')).toEqual({ code: 'gen0002', url: B, createdAt: T0 + 2 });
  });

  it('sets and removes tags and limits; refuses an unknown code and a record expired at the command instant', () => {
    store.applyBatch([create(1, 'gen0001', A, T0), createWith(2, 'exp0001', B, { expiresAt: T0 + 5 })]);
    store.applyBatch([update(3, 'gen0001', { tags: ['a', 'b'], maxVisits: 3 })]);
    expect(store.get('gen0001')).toEqual({
      code: 'gen0001',
      url: A,
      createdAt: T0,
      tags: ['a', 'b'],
      maxVisits: 3,
    });
    store.applyBatch([update(4, 'gen0001', { tags: [] })]);
    expect(store.get('gen0001')?.tags).toBeUndefined();
    const [missing, expired, live] = store.applyBatch([
      update(5, 'nope', { tags: ['a'] }),
      update(6, 'exp0001', { expiresAt: null }, T0 + 5),
      update(7, 'exp0001', { tags: ['x'] }, T0 + 4),
    ]);
    expect(missing!.result).toEqual({ error: 'not_found', code: 'nope' });
    expect(expired!.result).toEqual({ error: 'expired', code: 'exp0001', expiresAt: T0 + 5 });
    expect(live!.result).toMatchObject({ updated: { code: 'exp0001', tags: ['x'], expiresAt: T0 + 5 } });
  });

  it('keeps the visit statistics of the edited code', () => {
    store.applyBatch([create(1, 'gen0001', A, T0)]);
    store.applyBatch([
      entry(2, {
        type: 'visits',
        origin: 1,
        session: 1,
        seq: 1,
        visits: [{ code: 'gen0001', createdAt: T0, day: 1, count: 4 }],
      }),
      update(3, 'gen0001', { url: B }),
    ]);
    expect(store.visits('gen0001')?.total).toBe(4);
  });
});

describe('tags and limits on create', () => {
  it('never deduplicates a create with tags or a limit; a tagged code answers a later plain create of its URL', () => {
    const [tagged, limited, plain] = store.applyBatch([
      createWith(1, 'gen0001', A, { tags: ['x'] }),
      createWith(2, 'gen0002', A, { maxVisits: 2 }),
      create(3, 'gen0003', A),
    ]);
    expect(tagged!.result).toMatchObject({ code: 'gen0001', created: true, tags: ['x'] });
    expect(limited!.result).toMatchObject({ code: 'gen0002', created: true, maxVisits: 2 });
    expect(plain!.result).toMatchObject({ code: 'gen0001', created: false });
    // A limited code is never the answer of "same URL, same code".
    store.applyBatch([createWith(4, 'gen0004', B, { maxVisits: 2 })]);
    expect(store.codeForUrl(B)).toBeUndefined();
  });
});

describe('determinism', () => {
  const history: AppliedEntry[] = [
    create(1, 'gen0001', A, T0),
    createWith(2, 'gen0002', B, { tags: ['b', 'c'], maxVisits: 9 }),
    update(3, 'gen0001', { url: B, tags: ['z'] }),
    update(4, 'gen0002', { expiresAt: T0 + 50, maxVisits: null }),
    create(5, 'gen0003', A),
    update(6, 'gen0003', { url: 'https://example.com/c' }),
    entry(7, { type: 'delete', code: 'gen0001' }),
    entry(8, { type: 'purge', now: T0 + 100, expiredBefore: T0 + 100, limit: 10 }),
  ];

  it('ends byte-identical on two nodes that flush at different points', async () => {
    const otherEnv = await createTempEnv();
    try {
      const otherRoot = otherEnv.open();
      const other = new UrlStore(otherRoot);
      const together = store.applyBatch(history);
      const apart = [];
      for (const e of history) {
        apart.push(...other.applyBatch([e]));
        if (e.index % 2 === 0) await other.flush();
      }
      expect(apart).toEqual(together);
      await store.flush();
      await other.flush();
      expect(dumpStore(otherRoot)).toEqual(dumpStore(root));
      expect(store.codeForUrl(A)).toBeUndefined();
      expect(store.codeForUrl('https://example.com/c')).toBe('gen0003');
      expect(store.get('gen0002')).toBeUndefined(); // purged
    } finally {
      await otherEnv.dispose();
    }
  });
});

describe('codecs', () => {
  it('round-trips updates and tagged creates; refuses unsorted or invalid tags on decode', () => {
    const cmds: Array<UpdateCommand | CreateCommand> = [
      { type: 'update', code: 'c', updatedAt: 1, url: A },
      { type: 'update', code: 'c', updatedAt: 1, expiresAt: null, maxVisits: null, tags: [] },
      { type: 'update', code: 'c', updatedAt: 1, expiresAt: 5, maxVisits: 7, tags: ['a', 'b.c'] },
      { type: 'create', code: 'c', url: A, createdAt: 1, tags: ['x'], maxVisits: 1 },
    ];
    for (const cmd of cmds) expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
    expect(() => encodeCommand({ type: 'update', code: 'c', updatedAt: 1 })).toThrow(/must change something/);
    expect(() => encodeCommand({ type: 'update', code: 'c', updatedAt: 1, tags: ['b', 'a'] })).toThrow(
      RangeError,
    );
    const bytes = Buffer.from(encodeCommand({ type: 'update', code: 'c', updatedAt: 1, tags: ['a', 'b'] }));
    bytes[bytes.length - 1] = 'A'.charCodeAt(0); // 'b' → 'A': invalid and out of order
    expect(() => decodeCommand(bytes)).toThrow(/tags/);
  });

  it('writes records without tags or a limit as before (v1/v2) and reads version 3', () => {
    expect(encodeUrlRecord({ url: A, createdAt: T0 })[0]).toBe(1);
    expect(encodeUrlRecord({ url: A, createdAt: T0, alias: true })[0]).toBe(2);
    const full = {
      code: 'c',
      url: A,
      createdAt: T0,
      expiresAt: T0 + 1,
      alias: true,
      tags: ['a', 'b'],
      maxVisits: 3,
    };
    const bytes = encodeUrlRecord(full);
    expect(bytes[0]).toBe(3);
    expect(decodeUrlRecord('c', bytes)).toEqual(full);
    expect(decodeUrlRecord('c', encodeUrlRecord({ url: A, createdAt: T0, maxVisits: 1 }))).toEqual({
      code: 'c',
      url: A,
      createdAt: T0,
      maxVisits: 1,
    });
  });
});
