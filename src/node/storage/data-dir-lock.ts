// One node process per data directory. LMDB lets several processes share an environment by
// design, and the WAL has no lock of its own: two nodes started on the same --data by mistake would
// both append to one log and corrupt it. A LOCK file holding the owner's PID refuses the second
// one. A LOCK left by a node that died (kill -9, power loss) names a process that no longer exists
// (or one that is not a node: its PID was reused) and is taken over.
import { openSync, readFileSync, closeSync, writeSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mkdirDurable } from '../../common/sync-directory.js';

export class DataDirInUseError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `data dir ${dir} is in use by process ${pid} (see ${join(dir, 'LOCK')}): stop that node first; ` +
        'if no node runs there, delete the LOCK file',
    );
    this.name = 'DataDirInUseError';
  }
}

/** Directories locked by this process: a second node in the same process is refused too. */
const heldHere = new Set<string>();

/** Takes the lock of `dir` (created if missing); returns the function that releases it. */
export function lockDataDir(dir: string): () => void {
  const absolute = resolve(dir);
  mkdirDurable(absolute);
  const file = join(absolute, 'LOCK');
  if (heldHere.has(absolute)) throw new DataDirInUseError(absolute, process.pid);
  // Two attempts: the second after removing a stale LOCK (a racing starter may win it).
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = ownerOf(file);
      if (owner !== undefined && owner !== process.pid && isRunningNode(owner)) {
        throw new DataDirInUseError(absolute, owner);
      }
      unlinkIfPresent(file);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    heldHere.add(absolute);
    return () => {
      if (!heldHere.delete(absolute)) return;
      if (ownerOf(file) === process.pid) unlinkIfPresent(file);
    };
  }
  throw new DataDirInUseError(absolute, ownerOf(file) ?? 0);
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The process exists and, where /proc tells, runs Node (a reused PID is someone else's). */
function isRunningNode(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true; // no /proc (not Linux), or not readable: assume it is the node it claims to be
  }
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
