// The list indexes (link-index.ts) through UrlStore.list: newest first, pages that never repeat or
// skip a link under concurrent writes, tag and text filters, a bounded scan per page; the same
// answers from the overlay and from LMDB; rebuilt from a snapshot and for a data dir from before
// the indexes existed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListQuery } from '../../src/domain/records.js';
import type { CreateCommand } from '../../src/shortener/commands.js';
import { LIST_INDEX_DB_NAMES, META_LIST_INDEX_VERSION, positionOf } from '../../src/shortener/link-index.js';
import { openStoreTables } from '../../src/shortener/store-layout.js';
import { UrlStore } from '../../src/shortener/url-store.js';
import { createTempEnv, entry, type TempEnv } from './store-fixtures.js';

const T0 = 1_700_000_000_000;

let env: TempEnv;
let root: RootDatabase;
let store: UrlStore;
let index = 0;

beforeEach(async () => {
  env = await createTempEnv();
  root = env.open();
  store = new UrlStore(root);
  index = 0;
});

afterEach(async () => {
  await env.dispose();
});

function add(code: string, createdAt: number, more: Partial<CreateCommand> = {}): void {
  store.applyBatch([
    entry(++index, { type: 'create', code, url: `https://example.com/${code}`, createdAt, ...more }),
  ]);
}

const page = (q: Partial<ListQuery> = {}) => store.list({ limit: 10, scanLimit: 10_000, ...q });
const codes = (q: Partial<ListQuery> = {}) => page(q).records.map((r) => r.code);

/** Every page from the start, following the cursor. */
function walk(q: Partial<ListQuery>, between?: (pageNo: number) => void): string[] {
  const seen: string[] = [];
  let cursor: Buffer | undefined;
  for (let n = 0; n < 1000; n++) {
    const p = page({ ...q, ...(cursor ? { cursor } : {}) });
    seen.push(...p.records.map((r) => r.code));
    if (p.next === undefined) return seen;
    cursor = p.next;
    between?.(n);
  }
  throw new Error('no end');
}

describe('order and pages', () => {
  it('lists newest first (ties by code), the same before and after a flush', async () => {
    add('b', T0 + 1);
    add('a', T0 + 1);
    add('old', T0);
    add('neg', -5);
    add('new', T0 + 2);
    const expected = ['new', 'a', 'b', 'old', 'neg'];
    expect(codes()).toEqual(expected);
    await store.flush();
    expect(codes()).toEqual(expected);
    // A page of two, then the rest from its cursor.
    const first = page({ limit: 2 });
    expect(first.records.map((r) => r.code)).toEqual(['new', 'a']);
    expect(codes({ cursor: first.next! })).toEqual(['b', 'old', 'neg']);
    expect(page({ limit: 5 }).next).toBeUndefined();
  });

  it('walks every link once while links are created and deleted between pages, flushed or not', async () => {
    for (let i = 0; i < 30; i++) add(`c${String(i).padStart(2, '0')}`, T0 + i);
    await store.flush();
    add('p00', T0 + 100); // pending, newer than all
    const survivors = new Set(Array.from({ length: 30 }, (_, i) => `c${String(i).padStart(2, '0')}`));
    const seen = walk({ limit: 4 }, (n) => {
      // Newer links appear at the top (before every cursor); an older one is deleted ahead of the walk.
      add(`n${n}`, T0 + 200 + n);
      const victim = `c${String(n).padStart(2, '0')}`;
      store.applyBatch([entry(++index, { type: 'delete', code: victim })]);
      survivors.delete(victim);
      if (n % 2 === 0) void store.flush();
    });
    await store.flush();
    expect(new Set(seen).size).toBe(seen.length); // nothing twice
    for (const code of survivors) expect(seen).toContain(code); // nothing that stayed is skipped
    expect(seen.filter((c) => c.startsWith('n'))).toEqual([]); // created after the walk began: above it
  });
});

describe('filters', () => {
  beforeEach(() => {
    add('red1', T0 + 1, { tags: ['red'] });
    add('both', T0 + 2, { tags: ['blue', 'red'] });
    add('blue', T0 + 3, { tags: ['blue'] });
    add('none', T0 + 4, { url: 'https://EXAMPLE.org/Findme' });
  });

  it('by tag, from the tag index, following edits and deletes', async () => {
    expect(codes({ tag: 'red' })).toEqual(['both', 'red1']);
    await store.flush();
    store.applyBatch([entry(++index, { type: 'update', code: 'both', updatedAt: T0 + 9, tags: ['blue'] })]);
    expect(codes({ tag: 'red' })).toEqual(['red1']);
    expect(codes({ tag: 'blue' })).toEqual(['blue', 'both']);
    store.applyBatch([entry(++index, { type: 'delete', code: 'blue' })]);
    await store.flush();
    expect(codes({ tag: 'blue' })).toEqual(['both']);
    expect(codes({ tag: 'green' })).toEqual([]);
  });

  it('by text in the code or the URL, case-insensitively, with the tag', () => {
    expect(codes({ q: 'findME' })).toEqual(['none']);
    expect(codes({ q: 'BLU' })).toEqual(['blue']);
    expect(codes({ q: 'example.com', tag: 'red' })).toEqual(['both', 'red1']);
  });

  it('reads at most scanLimit entries for a page: fewer matches, and a cursor to go on', () => {
    const first = page({ q: 'red1', scanLimit: 2 });
    expect(first.records).toEqual([]);
    expect(first.next).toBeDefined();
    expect(walk({ q: 'red1', scanLimit: 2 })).toEqual(['red1']);
  });
});

describe('rebuilt, not shipped', () => {
  it('a snapshot installed elsewhere lists the same, and a data dir from before the indexes is indexed on open', async () => {
    add('x1', T0 + 1, { tags: ['t'] });
    add('x2', T0 + 2);
    await store.flush();
    const view = store.openSnapshotView();
    const parts: Buffer[] = [];
    for await (const frame of view.frames({
      term: 1,
      confState: { voters: [1], learners: [] },
      members: [{ id: 1, httpUrl: 'http://127.0.0.1:1', raftAddr: '127.0.0.1:2' }],
      clusterId: 'c',
    }))
      parts.push(frame);
    view.close();
    const file = join(env.path, 'snap');
    writeFileSync(file, Buffer.concat(parts));
    const other = await createTempEnv();
    try {
      const otherStore = new UrlStore(other.open());
      await otherStore.installSnapshot(file);
      expect(otherStore.list({ limit: 10, scanLimit: 100 }).records.map((r) => r.code)).toEqual(['x2', 'x1']);
      expect(otherStore.list({ limit: 10, scanLimit: 100, tag: 't' }).records.map((r) => r.code)).toEqual([
        'x1',
      ]);
    } finally {
      await other.dispose();
    }

    // An older node's data: no index tables, no version mark.
    await root.transaction(() => {
      for (const name of Object.values(LIST_INDEX_DB_NAMES)) {
        root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' }).clearSync();
      }
      openStoreTables(root).meta.removeSync(META_LIST_INDEX_VERSION);
    });
    expect(new UrlStore(root).list({ limit: 10, scanLimit: 100 }).records.map((r) => r.code)).toEqual([
      'x2',
      'x1',
    ]);
  });

  it('positions sort like the numbers, negatives and zero included, newest first', () => {
    const times = [-1e12, -1, -0.5, 0, 0.5, 1, T0, 8.64e15];
    const keys = times.map((t) => positionOf(t, 'c'));
    const sorted = [...keys].sort(Buffer.compare);
    expect(sorted.map((k) => times[keys.indexOf(k)])).toEqual([...times].reverse());
  });
});
