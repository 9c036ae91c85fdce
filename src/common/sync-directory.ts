// fsync of a directory: what makes a file's creation, rename or deletion in it survive a crash
// (the file's own fsync covers only its contents). Used by the WAL and the snapshot files.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
