// The URL store's side of snapshots, as the Raft runtime sees it: capture the durable state as a
// byte stream, receive one from the leader into a verified file, install it, and find it again
// after a crash. Files live in <data>/snapshots:
//   snap-<index>-<term>.snap   a complete, verified, fsynced snapshot waiting to be installed
//   incoming-*.tmp             a transfer in progress (deleted at start: it was never acknowledged)
// A received file is kept until its contents are durable in LMDB, so that a crash between the
// WAL recording the snapshot and LMDB installing it can finish the install at the next start.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdirDurable, syncDirectory } from '../../common/sync-directory.js';
import type { SnapshotHeader, SnapshotMember } from './format.js';
import { SnapshotContentCheck } from './content-check.js';
import { SnapshotParser } from './parser.js';
import type { UrlStore } from '../url-store.js';

export interface SnapshotDescriptor {
  index: number;
  term: number;
  confState: { voters: number[]; learners: number[] };
}

export interface ReceivedSnapshot {
  path: string;
  header: SnapshotHeader;
}

export interface SnapshotCapture {
  readonly index: number;
  bytes(description: {
    term: number;
    confState: SnapshotDescriptor['confState'];
    members: SnapshotMember[];
  }): AsyncIterable<Uint8Array>;
  close(): void;
}

const FINAL_NAME = /^snap-([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

export class SnapshotFiles {
  constructor(
    readonly dir: string,
    private readonly store: UrlStore,
    private readonly clusterId: string,
  ) {
    mkdirDurable(dir);
    // A transfer cut by a crash: never acknowledged to the leader, which will send it again.
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
    }
  }

  pathFor(index: number, term: number): string {
    return join(this.dir, `snap-${hex16(index)}-${hex16(term)}.snap`);
  }

  /** A consistent capture of the store as of its last flush. Close it when done. */
  capture(): SnapshotCapture {
    const view = this.store.openSnapshotView();
    const clusterId = this.clusterId;
    return {
      index: view.index,
      bytes: (d) => view.frames({ ...d, clusterId }),
      close: () => view.close(),
    };
  }

  /**
   * Writes an incoming snapshot to a temporary file, verifying every frame and what the records
   * hold (content-check.ts) as they arrive, and that it describes `expected`; then fsyncs it and renames it into place. Only then is the
   * transfer acknowledged, so an acknowledged snapshot survives a crash.
   */
  async receive(expected: SnapshotDescriptor, data: AsyncIterable<Uint8Array>): Promise<ReceivedSnapshot> {
    const temp = join(this.dir, `incoming-${randomUUID()}.tmp`);
    const parser = new SnapshotParser(`received at ${temp}`);
    const content = new SnapshotContentCheck(`received at ${temp}`);
    const file = await open(temp, 'wx');
    let complete = false;
    try {
      for await (const chunk of data) {
        const at = parser.position;
        content.add(parser.push(chunk), at);
        await file.write(chunk);
      }
      const header = parser.finish();
      content.finish(parser.position);
      if (header.index !== expected.index || header.term !== expected.term) {
        throw new Error(
          `snapshot header says index ${header.index} term ${header.term}, the sender said ${expected.index}/${expected.term}`,
        );
      }
      await file.sync();
      await file.close();
      const path = this.pathFor(header.index, header.term);
      await rename(temp, path);
      await syncDirectory(this.dir);
      complete = true;
      return { path, header };
    } finally {
      if (!complete) {
        await file.close().catch(() => {});
        await unlink(temp).catch(() => {});
      }
    }
  }

  /** The stored snapshot for (index, term), if its file is there (not yet verified). */
  stored(index: number, term: number): string | undefined {
    const path = this.pathFor(index, term);
    return existsSync(path) ? path : undefined;
  }

  /** Replaces the store with the snapshot (verified again while reading); durable on resolve. */
  install(path: string): Promise<SnapshotHeader> {
    return this.store.installSnapshot(path);
  }

  /** Deletes snapshot files other than `keep` (installed ones, superseded ones). */
  async discardAllExcept(keep?: string): Promise<void> {
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (FINAL_NAME.test(name) && path !== keep) await unlink(path).catch(() => {});
    }
  }
}
