// The export's view: every record as of one applied index, unchanged while apply and flushes go
// on; closed, it refuses to go on reading.
import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UrlStore } from '../../src/shortener/url-store.js';
import { create, createTempEnv, entry, type TempEnv } from './store-fixtures.js';

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

describe('UrlStore.openRecordsView', () => {
  it('reflects the flushed state at one index, whatever is applied and flushed after it opened', async () => {
    store.applyBatch([create(1, 'bbb', 'https://example.com/b'), create(2, 'aaa', 'https://example.com/a')]);
    await store.flush();
    const view = store.openRecordsView();
    try {
      store.applyBatch([
        create(3, 'ccc', 'https://example.com/c'),
        entry(4, { type: 'delete', code: 'aaa' }),
      ]);
      await store.flush();
      expect(view.index).toBe(2);
      expect([...view.records()].map((r) => [r.code, r.url])).toEqual([
        ['aaa', 'https://example.com/a'],
        ['bbb', 'https://example.com/b'],
      ]);
    } finally {
      view.close();
    }
    const later = store.openRecordsView();
    expect(later.index).toBe(4);
    expect([...later.records()].map((r) => r.code)).toEqual(['bbb', 'ccc']);
    later.close();
  });

  it('a closed view stops a reader mid-way', async () => {
    store.applyBatch([create(1, 'aaa', 'https://example.com/a'), create(2, 'bbb', 'https://example.com/b')]);
    await store.flush();
    const view = store.openRecordsView();
    const records = view.records();
    expect(records.next().value?.code).toBe('aaa');
    view.close();
    expect(() => records.next()).toThrow(/closed/);
  });
});
