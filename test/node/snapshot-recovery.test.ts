// Receiving snapshots into files, and finishing an install that a crash interrupted: the WAL
// already starts after a snapshot the URL store does not hold yet.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeMetaStore } from '../../src/node/storage/index.js';
import type { SnapshotMeta } from '../../src/raft/index.js';
import { SnapshotCorruptionError } from '../../src/shortener/snapshot/format.js';
import { SnapshotFiles } from '../../src/shortener/snapshot/snapshot-files.js';
import { UrlStore } from '../../src/shortener/url-store.js';
import { finishInterruptedInstall, MissingSnapshotError } from '../../src/snapshot-recovery.js';
import { create, createTempEnv, type TempEnv } from '../shortener/store-fixtures.js';

const logger = pino({ level: 'silent' });
const CONF = { voters: [1, 2, 3], learners: [] };
const MEMBERS = [1, 2, 3].map((id) => ({
  id,
  httpUrl: `http://127.0.0.1:${id}`,
  raftAddr: `127.0.0.1:${id}`,
}));

let leaderEnv: TempEnv;
let followerEnv: TempEnv;

beforeEach(async () => {
  leaderEnv = await createTempEnv();
  followerEnv = await createTempEnv();
});

afterEach(async () => {
  await leaderEnv.dispose();
  await followerEnv.dispose();
});

/** A leader-side capture of 200 URLs at index 200, as the byte chunks a transfer would carry. */
async function capturedSnapshot(): Promise<{ meta: SnapshotMeta; chunks: Buffer[] }> {
  const store = new UrlStore(leaderEnv.open());
  store.applyBatch(
    Array.from({ length: 200 }, (_, i) => create(i + 1, `c${i + 1}`, `https://example.com/${i + 1}`)),
  );
  await store.flush();
  const files = new SnapshotFiles(join(leaderEnv.path, 'snapshots'), store, 'cluster-x');
  const capture = files.capture();
  const chunks: Buffer[] = [];
  for await (const frame of capture.bytes({ term: 4, confState: CONF, members: MEMBERS })) {
    // Re-cut into odd sizes, as a network would.
    for (let at = 0; at < frame.length; at += 777) chunks.push(Buffer.from(frame.subarray(at, at + 777)));
  }
  capture.close();
  return { meta: { index: capture.index, term: 4, confState: CONF }, chunks };
}

async function* stream(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

function follower() {
  const root = followerEnv.open();
  const store = new UrlStore(root);
  const files = new SnapshotFiles(join(followerEnv.path, 'snapshots'), store, 'cluster-x');
  return { root, store, files, metaStore: new NodeMetaStore(root) };
}

describe('receiving a snapshot', () => {
  it('stores a verified file named after its index and term', async () => {
    const { meta, chunks } = await capturedSnapshot();
    const f = follower();
    const received = await f.files.receive(meta, stream(chunks));
    expect(received.path).toBe(f.files.pathFor(200, 4));
    expect(received.header.members).toEqual(MEMBERS);
    expect(readdirSync(f.files.dir)).toEqual([received.path.split('/').pop()]);
  });

  it('refuses a damaged stream and leaves no file behind', async () => {
    const { meta, chunks } = await capturedSnapshot();
    chunks[Math.floor(chunks.length / 2)]![100] ^= 1;
    const f = follower();
    await expect(f.files.receive(meta, stream(chunks))).rejects.toThrow(SnapshotCorruptionError);
    expect(readdirSync(f.files.dir)).toEqual([]);
  });

  it('refuses a stream that ends early', async () => {
    const { meta, chunks } = await capturedSnapshot();
    const f = follower();
    await expect(f.files.receive(meta, stream(chunks.slice(0, -2)))).rejects.toThrow(/cut short|ends inside/);
    expect(readdirSync(f.files.dir)).toEqual([]);
  });

  it('refuses a snapshot that is not the one announced', async () => {
    const { meta, chunks } = await capturedSnapshot();
    const f = follower();
    await expect(f.files.receive({ ...meta, index: 999 }, stream(chunks))).rejects.toThrow(/index 200/);
  });

  it('deletes transfers cut by a crash at the next start', async () => {
    const f = follower();
    writeFileSync(join(f.files.dir, 'incoming-123.tmp'), 'half a snapshot');
    const again = new SnapshotFiles(f.files.dir, f.store, 'cluster-x');
    expect(readdirSync(again.dir)).toEqual([]);
  });
});

describe('finishing an interrupted install at start', () => {
  it('installs the stored snapshot the WAL points at, then deletes the file', async () => {
    const { meta, chunks } = await capturedSnapshot();
    const f = follower();
    const received = await f.files.receive(meta, stream(chunks));
    // The crash came after the WAL recorded the snapshot, before LMDB held it.
    expect(f.store.durableAppliedIndex).toBe(0);
    await finishInterruptedInstall({
      snapshot: meta,
      urlStore: f.store,
      snapshotFiles: f.files,
      metaStore: f.metaStore,
      logger,
    });
    expect(f.store.durableAppliedIndex).toBe(200);
    expect(f.store.get('c77')?.url).toBe('https://example.com/77');
    expect(f.metaStore.getMembership()).toMatchObject({
      confState: CONF,
      members: MEMBERS,
      appliedIndex: 200,
    });
    expect(existsSync(received.path)).toBe(false);
  });

  it('stops with a message naming the missing file and what to do', async () => {
    const f = follower();
    const meta = { index: 500, term: 7, confState: CONF };
    const error = await finishInterruptedInstall({
      snapshot: meta,
      urlStore: f.store,
      snapshotFiles: f.files,
      metaStore: f.metaStore,
      logger,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingSnapshotError);
    expect((error as Error).message).toContain(f.files.pathFor(500, 7));
    expect((error as Error).message).toMatch(/remove its data directory/);
  });

  it('refuses a damaged stored snapshot, naming it, and changes nothing', async () => {
    const { meta, chunks } = await capturedSnapshot();
    const f = follower();
    f.store.applyBatch([create(1, 'mine', 'https://mine.example/')]);
    await f.store.flush();
    const received = await f.files.receive(meta, stream(chunks));
    const bytes = readFileSync(received.path);
    bytes[bytes.length - 30] ^= 0xff;
    writeFileSync(received.path, bytes);
    const error = await finishInterruptedInstall({
      snapshot: meta,
      urlStore: f.store,
      snapshotFiles: f.files,
      metaStore: f.metaStore,
      logger,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotCorruptionError);
    expect((error as Error).message).toContain(received.path);
    expect(f.store.get('mine')?.url).toBe('https://mine.example/');
  });

  it('does nothing but tidy up when the store already holds the snapshot', async () => {
    const { meta, chunks } = await capturedSnapshot();
    const f = follower();
    const received = await f.files.receive(meta, stream(chunks));
    await f.store.installSnapshot(received.path);
    await finishInterruptedInstall({
      snapshot: meta,
      urlStore: f.store,
      snapshotFiles: f.files,
      metaStore: f.metaStore,
      logger,
    });
    expect(existsSync(received.path)).toBe(false);
    expect(f.store.durableAppliedIndex).toBe(200);
  });
});
