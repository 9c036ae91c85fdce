// What a snapshot holds is checked before it replaces anything: a real store's snapshot (plain
// codes, aliases, expiring codes, idempotency keys, visits) passes; the same snapshot with one
// record or header field made wrong is refused, naming the defect, and the store it was meant to
// replace stays as it was. The same check guards a leader's snapshot and a --restore-from backup.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CreateCommand } from '../../src/shortener/commands.js';
import {
  FrameKind,
  jsonFrame,
  RecordsFrameBuilder,
  SNAPSHOT_MAGIC,
  SnapshotCorruptionError,
  type SnapshotHeader,
  type SnapshotRecord,
} from '../../src/shortener/snapshot/format.js';
import { SnapshotParser } from '../../src/shortener/snapshot/parser.js';
import { SnapshotFiles } from '../../src/shortener/snapshot/snapshot-files.js';
import { verifySnapshotFileSync } from '../../src/shortener/snapshot/store-snapshot.js';
import { EXPIRY_KIND_URL, expiryKey, sha256Url, STORE_DB_NAMES } from '../../src/shortener/store-layout.js';
import { encodeUrlRecord } from '../../src/shortener/url-record.js';
import { UrlStore } from '../../src/shortener/url-store.js';
import { createTempEnv, entry, type TempEnv } from './store-fixtures.js';

const T0 = 1_700_000_000_000;
const DESCRIPTION = {
  term: 3,
  confState: { voters: [1, 2], learners: [3] },
  members: [{ id: 1, httpUrl: 'http://127.0.0.1:1', raftAddr: '127.0.0.1:2' }],
  clusterId: 'test-cluster',
};

let env: TempEnv;
beforeEach(async () => {
  env = await createTempEnv();
});
afterEach(async () => {
  await env.dispose();
});

const create = (index: number, fields: Partial<CreateCommand> & { code: string; url: string }) =>
  entry(index, { type: 'create', createdAt: T0, ...fields });

/** A store with every kind of record, and its snapshot's header and records. */
async function realSnapshot(): Promise<{ header: SnapshotHeader; records: SnapshotRecord[] }> {
  const store = new UrlStore(env.open());
  store.applyBatch([
    create(1, { code: 'plain01', url: 'https://example.com/a' }),
    create(2, { code: 'sale', url: 'https://example.com/b', alias: true }),
    create(3, { code: 'exp0001', url: 'https://example.com/c', expiresAt: T0 + 60_000 }),
    create(4, {
      code: 'keyed01',
      url: 'https://example.com/d',
      idempotency: { key: 'k1', fingerprint: 'f1', expiresAt: T0 + 86_400_000 },
    }),
    entry(5, {
      type: 'visits',
      origin: 1,
      session: 7,
      seq: 1,
      visits: [{ code: 'plain01', day: 20_000, count: 3, createdAt: T0 }],
    }),
  ]);
  await store.flush();
  const view = store.openSnapshotView();
  const parser = new SnapshotParser('test');
  const records: SnapshotRecord[] = [];
  try {
    for await (const bytes of view.frames(DESCRIPTION)) {
      for (const f of parser.push(bytes)) if (f.kind === 'records') records.push(...f.records);
    }
  } finally {
    view.close();
  }
  return { header: parser.finish(), records };
}

function tableIndex(header: SnapshotHeader, name: string): number {
  return header.tables.indexOf(name);
}

/** The snapshot format around `records` (valid frames and checksums: only the content differs). */
function snapshotFile(header: SnapshotHeader, records: SnapshotRecord[]): string {
  const builder = new RecordsFrameBuilder();
  const parts = [SNAPSHOT_MAGIC, jsonFrame(FrameKind.Header, header)];
  for (const r of records) {
    const full = builder.add(r.table, r.key, r.value);
    if (full) parts.push(full);
  }
  const last = builder.take();
  if (last) parts.push(last);
  parts.push(jsonFrame(FrameKind.Footer, { records: records.length }));
  const path = join(env.path, `snap-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

function refusal(path: string): string {
  try {
    verifySnapshotFileSync(path);
  } catch (err) {
    expect(err).toBeInstanceOf(SnapshotCorruptionError);
    return (err as Error).message;
  }
  return 'accepted';
}

/** The records with the value of table `name`'s record whose key is `key` replaced. */
function withValue(
  header: SnapshotHeader,
  records: SnapshotRecord[],
  name: string,
  key: string,
  value: Buffer,
) {
  const table = tableIndex(header, name);
  return records.map((r) => (r.table === table && r.key.toString() === key ? { ...r, value } : r));
}

describe('snapshot content check', () => {
  it("accepts a real store's snapshot with every kind of record", async () => {
    const { header, records } = await realSnapshot();
    const tables = new Set(records.map((r) => header.tables[r.table]));
    for (const name of ['urls', 'url-codes', 'expiry', 'idempotency', 'visits', 'visit-batches', 'sm-meta'])
      expect(tables, name).toContain(name);
    expect(refusal(snapshotFile(header, records))).toBe('accepted');
  });

  it('refuses stored URLs that are not a valid http(s) Location', async () => {
    const { header, records } = await realSnapshot();
    for (const [url, why] of [
      ['javascript:alert(1)', 'not http(s)'],
      ['https://example.com/a\r\nSet-Cookie: x=1', 'header injection'],
      ['HTTPS://Example.com/a', 'not the normalized form the API stores'],
      ['/relative', 'not absolute'],
    ]) {
      const value = encodeUrlRecord({ url: url!, createdAt: T0 });
      expect(
        refusal(snapshotFile(header, withValue(header, records, 'urls', 'plain01', value))),
        why,
      ).toMatch(/not a valid http\(s\) URL/);
    }
  });

  it('refuses records of an unknown format', async () => {
    const { header, records } = await realSnapshot();
    const bad = withValue(header, records, 'urls', 'sale', Buffer.from([9, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(refusal(snapshotFile(header, bad))).toMatch(/corrupt or of an unknown version/);
    const badVisits = withValue(header, records, 'visits', 'plain01', Buffer.from([1, 2, 3]));
    expect(refusal(snapshotFile(header, badVisits))).toMatch(/corrupt|unknown/);
  });

  it('refuses index entries that point at no record', async () => {
    const { header, records } = await realSnapshot();
    const urls = tableIndex(header, STORE_DB_NAMES.urls);
    // The record of a plain code gone, its url-codes entry left: applying a create of the same URL
    // would throw ("url-codes points at missing code") and stop the node.
    const noPlain = records.filter((r) => !(r.table === urls && r.key.toString() === 'plain01'));
    expect(refusal(snapshotFile(header, noPlain))).toMatch(/points at code "plain01", which has no record/);
    const urlCodes = tableIndex(header, STORE_DB_NAMES.urlCodes);
    const stray = {
      table: urlCodes,
      key: sha256Url('https://example.com/zz'),
      value: Buffer.from('nobody1'),
    };
    expect(refusal(snapshotFile(header, [...records, stray]))).toMatch(/"nobody1", which has no record/);
    const expiry = tableIndex(header, STORE_DB_NAMES.expiry);
    const strayExpiry = {
      table: expiry,
      key: expiryKey(EXPIRY_KIND_URL, T0, 'gone001'),
      value: Buffer.from([1]),
    };
    expect(refusal(snapshotFile(header, [...records, strayExpiry]))).toMatch(
      /"gone001", which has no record/,
    );
    const idem = tableIndex(header, STORE_DB_NAMES.idempotency);
    const noKey = records.filter((r) => r.table !== idem);
    expect(refusal(snapshotFile(header, noKey))).toMatch(/idempotency key "k1", which has no record/);
  });

  it('refuses member ids outside 1..2^32-1, an empty membership, and unknown tables', async () => {
    const { header, records } = await realSnapshot();
    const variants: Array<[Partial<SnapshotHeader>, RegExp]> = [
      [{ confState: { voters: [1, 2 ** 32], learners: [] } }, /is damaged at byte/],
      [{ confState: { voters: [1], learners: [0] } }, /is damaged at byte/],
      [{ confState: { voters: [], learners: [1] } }, /no voter/],
      [
        { members: [{ id: 2 ** 32 + 2, httpUrl: 'http://evil.example', raftAddr: '127.0.0.1:2' }] },
        /is damaged at byte/,
      ],
      [{ tables: [...header.tables, 'mystery'] }, /"mystery" is not one this version knows/],
    ];
    for (const [patch, expected] of variants) {
      expect(refusal(snapshotFile({ ...header, ...patch }, records)), JSON.stringify(patch)).toMatch(
        expected,
      );
    }
  });

  it('a refused snapshot leaves the store it was to replace as it was', async () => {
    const { header, records } = await realSnapshot();
    const bad = withValue(
      header,
      records,
      'urls',
      'plain01',
      encodeUrlRecord({ url: 'javascript:x', createdAt: T0 }),
    );
    const file = snapshotFile(header, bad);
    const other = await createTempEnv();
    try {
      const root: RootDatabase = other.open();
      const store = new UrlStore(root);
      store.applyBatch([create(1, { code: 'mine001', url: 'https://example.org/kept' })]);
      await store.flush();
      // The restore path (--restore-from) and the install path both go through installSnapshot.
      await expect(store.installSnapshot(file, { appliedIndex: 1 })).rejects.toThrow(
        /not a valid http\(s\) URL/,
      );
      expect(store.get('mine001')?.url).toBe('https://example.org/kept');
      expect(store.get('plain01')).toBeUndefined();
    } finally {
      await other.dispose();
    }
  });

  it('a snapshot received from a leader is refused before it is stored', async () => {
    const { header, records } = await realSnapshot();
    const bad = withValue(
      header,
      records,
      'urls',
      'sale',
      encodeUrlRecord({ url: 'ftp://x.example/', createdAt: T0 }),
    );
    const bytes = (await import('node:fs')).readFileSync(snapshotFile(header, bad));
    const dir = join(env.path, 'snapshots');
    const files = new SnapshotFiles(dir, new UrlStore(env.open()), 'c');
    async function* chunks() {
      for (let at = 0; at < bytes.length; at += 100) yield bytes.subarray(at, at + 100);
    }
    await expect(
      files.receive({ index: header.index, term: header.term, confState: header.confState }, chunks()),
    ).rejects.toThrow(SnapshotCorruptionError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('the snapshot parser', () => {
  it('copies each byte a bounded number of times, however small the chunks (no quadratic growth)', () => {
    // One large frame fed in small chunks: joining everything so far on every chunk would copy
    // about frame²/(2·chunk) bytes (here ~2 GiB); joining the pieces once the frame is whole copies
    // each byte a few times.
    const value = Buffer.alloc(1024 * 1024, 7);
    // Larger than the frame target: add() hands the frame back at once.
    const records = new RecordsFrameBuilder().add(0, Buffer.from('k'), value)!;
    const header = {
      format: 1,
      index: 1,
      term: 1,
      confState: { voters: [1], learners: [] },
      members: [],
      tables: ['urls'],
      clusterId: 'c',
      createdAt: '',
    };
    const bytes = Buffer.concat([
      SNAPSHOT_MAGIC,
      jsonFrame(FrameKind.Header, header),
      records,
      jsonFrame(FrameKind.Footer, { records: 1 }),
    ]);
    const concat = Buffer.concat;
    const from = Buffer.from;
    let copied = 0;
    Buffer.concat = ((list: readonly Uint8Array[], length?: number) => {
      const out = concat(list, length);
      copied += out.length;
      return out;
    }) as typeof Buffer.concat;
    Buffer.from = ((...args: Parameters<typeof Buffer.from>) => {
      const out = (from as (...a: unknown[]) => Buffer)(...args);
      if (args[0] instanceof Uint8Array) copied += out.length;
      return out;
    }) as typeof Buffer.from;
    let frames = 0;
    try {
      const parser = new SnapshotParser('test');
      for (let at = 0; at < bytes.length; at += 256)
        frames += parser.push(bytes.subarray(at, at + 256)).length;
      parser.finish();
    } finally {
      Buffer.concat = concat;
      Buffer.from = from;
    }
    expect(frames).toBe(3);
    expect(copied).toBeLessThan(4 * bytes.length);
  });
});
