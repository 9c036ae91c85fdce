// Shared helpers for the URL-store tests: temporary LMDB environments, entry builders and a full dump.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { encodeCommand, type UrlCommand } from '../../src/shortener/commands.js';
import { openStoreTables } from '../../src/shortener/store-layout.js';
import type { AppliedEntry } from '../../src/shortener/url-store.js';

/** A directory for one LMDB environment that can be opened, closed and reopened. */
export interface TempEnv {
  readonly path: string;
  open(): RootDatabase;
  /** Closes every environment opened here and deletes the directory. */
  dispose(): Promise<void>;
}

export async function createTempEnv(): Promise<TempEnv> {
  const path = await mkdtemp(join(tmpdir(), 'url-store-'));
  const opened: RootDatabase[] = [];
  return {
    path,
    open() {
      const root = open({ path });
      opened.push(root);
      return root;
    },
    async dispose() {
      // close() on an already closed environment is harmless.
      await Promise.all(opened.map((root) => root.close()));
      await rm(path, { recursive: true, force: true });
    },
  };
}

export function create(
  index: number,
  code: string,
  url: string,
  createdAt = 1_700_000_000_000 + index,
): AppliedEntry {
  return { index, data: encodeCommand({ type: 'create', code, url, createdAt }) };
}

/** Any command at `index`. */
export function entry(index: number, command: UrlCommand): AppliedEntry {
  return { index, data: encodeCommand(command) };
}

/** Raft's leader no-op or a membership entry: nothing for the store but its index. */
export function noop(index: number): AppliedEntry {
  return { index, data: new Uint8Array(0) };
}

/** Every key and value of every sub-database of the store, as raw bytes where the layout has them. */
export function dumpStore(root: RootDatabase) {
  const tables = openStoreTables(root);
  return {
    urls: [...tables.urls.getRange()].map(({ key, value }) => ({ key, value })),
    urlCodes: [...tables.urlCodes.getRange()].map(({ key, value }) => ({ key, value })),
    expiry: [...tables.expiry.getRange()].map(({ key, value }) => ({ key, value })),
    idempotency: [...tables.idempotency.getRange()].map(({ key, value }) => ({ key, value })),
    visits: [...tables.visits.getRange()].map(({ key, value }) => ({ key, value })),
    visitBatches: [...tables.visitBatches.getRange()].map(({ key, value }) => ({ key, value })),
    meta: [...tables.meta.getRange()].map(({ key, value }) => ({ key, value })),
  };
}
