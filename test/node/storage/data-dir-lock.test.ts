// One process per data directory: the LOCK file refuses a second owner and is taken over from a
// dead one (or from a PID now used by something that is not a node).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from '../../../src/node/storage/data-dir-lock.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lock-test-'));
  dirs.push(dir);
  return dir;
}

/** A long-running child process; `node` makes it look like a node to the lock. */
function startChild(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' });
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await exited(child);
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('lockDataDir', () => {
  it('holds the directory until released, also against a second taker in this process', () => {
    const dir = tempDir();
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    release();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    lockDataDir(dir)();
  });

  it('refuses a directory a running node holds, naming its PID; takes it over once it is dead', async () => {
    const dir = tempDir();
    const other = startChild(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    writeFileSync(join(dir, 'LOCK'), `${other.pid}\n`);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${other.pid}`));

    other.kill('SIGKILL');
    await exited(other);
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('takes over a LOCK whose PID now belongs to something else, or that holds no PID', () => {
    const dir = tempDir();
    const sleeper = startChild('sleep', ['30']);
    for (const stale of [`${sleeper.pid}\n`, 'not a pid\n']) {
      writeFileSync(join(dir, 'LOCK'), stale);
      const release = lockDataDir(dir);
      expect(readFileSync(join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
      expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
      release();
      expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    }
    // The process that looked like an owner is left alone.
    expect(sleeper.exitCode).toBeNull();
  });
});
