// Snapshot → install gives the same store, byte for byte; damaged files are refused whole.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotCorruptionError } from '../../src/shortener/snapshot/format.js';
import { SnapshotParser } from '../../src/shortener/snapshot/parser.js';
import { readSnapshotFileSync } from '../../src/shortener/snapshot/store-snapshot.js';
import { DUPSORT_DB_NAMES, STORE_DB_NAMES } from '../../src/shortener/store-layout.js';
import { UrlStore } from '../../src/shortener/url-store.js';
import { create, createTempEnv, entry, type TempEnv } from './store-fixtures.js';

const DESCRIPTION = {
  term: 3,
  confState: { voters: [1, 2, 3], learners: [] },
  members: [{ id: 1, httpUrl: 'http://127.0.0.1:1', raftAddr: '127.0.0.1:2' }],
  clusterId: 'test-cluster',
};

/** Every sub-database of the store as raw bytes (hex), whatever tables the layout has. */
function rawDump(root: RootDatabase): Record<string, Array<[string, string]>> {
  const out: Record<string, Array<[string, string]>> = {};
  for (const name of Object.values(STORE_DB_NAMES)) {
    const db = root.openDB<Buffer, Buffer>({
      name,
      keyEncoding: 'binary',
      encoding: 'binary',
      dupSort: DUPSORT_DB_NAMES.has(name),
    });
    out[name] = [...db.getRange()].map(({ key, value }) => [
      Buffer.from(key).toString('hex'),
      Buffer.from(value).toString('hex'),
    ]);
  }
  return out;
}

async function writeSnapshot(store: UrlStore, path: string, description = DESCRIPTION): Promise<number> {
  const view = store.openSnapshotView();
  const parts: Buffer[] = [];
  try {
    for await (const frame of view.frames(description)) parts.push(frame);
  } finally {
    view.close();
  }
  writeFileSync(path, Buffer.concat(parts));
  return view.index;
}

let source: TempEnv;
let target: TempEnv;

beforeEach(async () => {
  source = await createTempEnv();
  target = await createTempEnv();
});

afterEach(async () => {
  await source.dispose();
  await target.dispose();
});

async function filledStore(count: number): Promise<{ store: UrlStore; root: RootDatabase }> {
  const root = source.open();
  const store = new UrlStore(root);
  const entries = [];
  for (let i = 1; i <= count; i++) entries.push(create(i, `code${i}`, `https://example.com/${i}`));
  entries.push(entry(count + 1, { type: 'delete', code: 'code1' }));
  store.applyBatch(entries);
  await store.flush();
  return { store, root };
}

describe('store snapshots', () => {
  it('installs into another store byte for byte, at the captured applied index', async () => {
    const { store, root } = await filledStore(5_000);
    const file = join(source.path, 'snap');
    const index = await writeSnapshot(store, file);
    expect(index).toBe(5_001);

    const targetRoot = target.open();
    const other = new UrlStore(targetRoot);
    // Something applied but not flushed on the target is superseded by the snapshot.
    other.applyBatch([create(1, 'other', 'https://other.example/')]);
    const header = await other.installSnapshot(file);
    expect(header).toMatchObject({ index: 5_001, term: 3, clusterId: 'test-cluster' });
    expect(other.appliedIndex).toBe(5_001);
    expect(other.durableAppliedIndex).toBe(5_001);
    expect(other.get('other')).toBeUndefined();
    expect(other.get('code2')?.url).toBe('https://example.com/2');
    expect(other.get('code1')).toBeUndefined();
    expect(other.count()).toBe(store.count());
    expect(rawDump(targetRoot)).toEqual(rawDump(root));
  });

  it('is consistent at one index while writes go on', async () => {
    const { store } = await filledStore(100);
    const view = store.openSnapshotView();
    store.applyBatch([create(102, 'late', 'https://example.com/late')]);
    await store.flush();
    const parts: Buffer[] = [];
    for await (const frame of view.frames(DESCRIPTION)) parts.push(frame);
    view.close();
    const file = join(source.path, 'snap');
    writeFileSync(file, Buffer.concat(parts));
    const other = new UrlStore(target.open());
    await other.installSnapshot(file);
    expect(other.appliedIndex).toBe(101);
    expect(other.get('late')).toBeUndefined();
  });

  it('can overwrite the applied index (a restore into a new cluster)', async () => {
    const { store } = await filledStore(10);
    const file = join(source.path, 'snap');
    await writeSnapshot(store, file);
    const other = new UrlStore(target.open());
    await other.installSnapshot(file, { appliedIndex: 1 });
    expect(other.appliedIndex).toBe(1);
    expect(other.get('code5')?.url).toBe('https://example.com/5');
  });

  it('parses a stream fed in pieces of any size', async () => {
    const { store } = await filledStore(300);
    const file = join(source.path, 'snap');
    await writeSnapshot(store, file);
    const bytes = readFileSync(file);
    const parser = new SnapshotParser('stream');
    let records = 0;
    for (let at = 0; at < bytes.length; at += 7) {
      for (const f of parser.push(bytes.subarray(at, at + 7)))
        if (f.kind === 'records') records += f.records.length;
    }
    expect(parser.finish().index).toBe(301);
    expect(records).toBeGreaterThan(300);
  });
});

describe('damaged snapshots', () => {
  async function damaged(mutate: (bytes: Buffer) => Buffer): Promise<string> {
    const { store } = await filledStore(2_000);
    const file = join(source.path, 'snap');
    await writeSnapshot(store, file);
    writeFileSync(file, mutate(readFileSync(file)));
    return file;
  }

  it('refuses a flipped byte, naming the file and offset, and installs nothing', async () => {
    const file = await damaged((b) => {
      b[Math.floor(b.length / 2)] ^= 0x40;
      return b;
    });
    expect(() => readSnapshotFileSync(file)).toThrow(SnapshotCorruptionError);
    const targetRoot = target.open();
    const other = new UrlStore(targetRoot);
    other.applyBatch([create(1, 'kept', 'https://kept.example/')]);
    await other.flush();
    const error = await other.installSnapshot(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotCorruptionError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/checksum mismatch/);
    expect(other.get('kept')?.url).toBe('https://kept.example/');
  });

  it('refuses a file cut short', async () => {
    const file = await damaged((b) => b.subarray(0, b.length - 10));
    expect(() => readSnapshotFileSync(file)).toThrow(/cut short|ends inside a frame/);
  });

  it('refuses a file without its footer', async () => {
    // Cut at the last frame boundary: every frame checks out, but the footer is gone.
    const file = await damaged((b) => {
      const parser = new SnapshotParser('x');
      let end = 0;
      for (let at = 0; at < b.length; at += 1024) {
        const frames = parser.push(b.subarray(at, at + 1024));
        if (frames.some((f) => f.kind === 'footer')) break;
        end = parser.position;
      }
      return b.subarray(0, end);
    });
    expect(() => readSnapshotFileSync(file)).toThrow(/no footer/);
  });

  // Ids are uint32 on the wire: a header naming member 0 or 2^32+2 (≡ 2) must not become conf state.
  it.each([
    ['voter 0', { confState: { voters: [0, 1], learners: [] } }],
    ['a learner beyond 2^32-1', { confState: { voters: [1], learners: [4294967298] } }],
    [
      'a member id beyond 2^32-1',
      { members: [{ id: 4294967297, httpUrl: 'http://evil.example', raftAddr: '127.0.0.1:2' }] },
    ],
    ['a member without addresses', { members: [{ id: 1 }] }],
  ])('refuses a header with %s', async (_name, change) => {
    const { store } = await filledStore(3);
    const file = join(source.path, 'snap');
    await writeSnapshot(store, file, { ...DESCRIPTION, ...change } as typeof DESCRIPTION);
    expect(() => readSnapshotFileSync(file)).toThrow(/valid members or a valid confState/);
  });

  it('refuses something that is not a snapshot', async () => {
    const file = await damaged(() => Buffer.from('hello, world, this is not a snapshot'));
    expect(() => readSnapshotFileSync(file)).toThrow(/bad magic/);
  });
});
