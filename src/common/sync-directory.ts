// fsync of a directory: what makes a file's creation, rename or deletion in it survive a crash
// (the file's own fsync covers only its contents). Used by the WAL, the snapshot files and the
// node's database and data dir.
import { closeSync, constants, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** syncDirectory for start-up code that runs before anything is served. */
export function syncDirectorySync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * mkdir -p whose result survives a power cut: every directory it creates is made durable in its
 * parent. Without this, a node's first start could leave files that were fsynced but sit in a
 * directory whose own entry was never written, and a cut would take them all.
 */
export function mkdirDurable(dir: string): void {
  const target = resolve(dir);
  const created = mkdirSync(target, { recursive: true });
  if (created === undefined) return;
  for (let d = target; ; d = dirname(d)) {
    syncDirectorySync(dirname(d));
    if (d === resolve(created)) break;
  }
}
