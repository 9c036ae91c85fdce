// The fault filesystem (tools/faultfs/faultfs.py, FUSE) as something a test or the chaos runner
// can mount, steer and unmount: a power cut that loses every write no fsync made durable, slow
// or failing fsyncs and writes, and a disk that fills up.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './node-process.js';

/** Debian's python3-fusepy lives in the system interpreter, not in whatever python3 is first on PATH. */
const PYTHON = process.env.FAULTFS_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(projectRoot(), 'tools', 'faultfs', 'faultfs.py');

/** Latency added to an operation: a fixed part, plus a random spike with some probability. */
export interface DelaySpec {
  ms?: number;
  spikeMs?: [number, number];
  spikeProbability?: number;
}

export interface FaultSpec {
  /** Only paths containing this string are affected (all when empty). */
  path?: string;
  fsyncDelay?: DelaySpec;
  writeDelay?: DelaySpec;
  /** An errno name, e.g. 'EIO', returned by every fsync (or write) from now on. */
  fsyncError?: string;
  writeError?: string;
  /** Bytes by which files may still grow; once used up, writes answer ENOSPC. */
  spaceBytes?: number;
}

export interface FaultFsStats {
  writes: number;
  fsyncs: number;
  fsyncdirs: number;
  dsyncWrites: number;
  losses: number;
  injectedErrors: number;
  enospc: number;
  delayedMs: number;
  dirtyFiles: number;
  dirtyBytes: number;
  pendingOps: number;
}

export interface LossReport {
  filesRestored: number;
  bytesUndone: number;
  opsUndone: number;
}

export class FaultFs {
  private exitCode: Promise<number | null>;
  private exited = false;

  private constructor(
    /** Where the files appear: put the node's data dir under here. */
    readonly mountpoint: string,
    private readonly root: string,
    private readonly socketPath: string,
    private readonly child: ChildProcess,
  ) {
    this.exitCode = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.exited = true;
        resolve(code);
      });
    });
  }

  /**
   * Mounts a fresh, empty fault filesystem at `mountpoint` (created if missing; default: in the
   * filesystem's own temp dir, which also holds its backing files).
   */
  static async mount(options: { label?: string; mountpoint?: string } = {}): Promise<FaultFs> {
    const root = mkdtempSync(join(tmpdir(), `${options.label ?? 'faultfs'}-`));
    const paths = {
      backing: join(root, 'backing'),
      mnt: options.mountpoint ?? join(root, 'mnt'),
      trash: join(root, 'trash'),
      sock: join(root, 'control.sock'),
    };
    for (const dir of [paths.backing, paths.mnt]) mkdirSync(dir, { recursive: true });
    const child = spawn(
      PYTHON,
      [SCRIPT, paths.backing, paths.mnt, '--control', paths.sock, '--trash', paths.trash],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, FAULTFS_PARENT_PID: String(process.pid) },
      },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const fs = new FaultFs(paths.mnt, root, paths.sock, child);
    try {
      await waitFor(
        `faultfs to mount ${paths.mnt}`,
        async () => {
          if (fs.exited) throw new Error(`faultfs exited: ${stderr.trim()}`);
          if (!isMounted(paths.mnt) || !existsSync(paths.sock)) return undefined;
          await fs.control({ cmd: 'ping' });
          return true;
        },
        15_000,
      );
    } catch (err) {
      await fs.unmount();
      throw err;
    }
    return fs;
  }

  /** Sends one command; resolves with the answer, rejects with the filesystem's error. */
  control(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.socketPath);
      let buffered = '';
      socket.setTimeout(30_000, () => socket.destroy(new Error(`faultfs: no answer to ${request.cmd}`)));
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        buffered += chunk.toString();
        const nl = buffered.indexOf('\n');
        if (nl < 0) return;
        socket.end();
        const answer = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        if (answer.ok) resolve(answer);
        else reject(new Error(`faultfs ${String(request.cmd)}: ${String(answer.error)}`));
      });
      socket.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** The power cut: every write and namespace change not yet durable is undone. */
  async lose(): Promise<LossReport> {
    return (await this.control({ cmd: 'lose' })) as unknown as LossReport;
  }

  /** Replaces every fault setting (an empty spec clears them all). */
  async setFaults(spec: FaultSpec): Promise<void> {
    await this.control({ cmd: 'faults', faults: spec });
  }

  /** Makes everything durable as it is now (e.g. after an operator wiped a dir on purpose). */
  async syncAll(): Promise<void> {
    await this.control({ cmd: 'sync-all' });
  }

  async stats(): Promise<FaultFsStats> {
    return (await this.control({ cmd: 'stats' })) as unknown as FaultFsStats;
  }

  /**
   * Unmounts (lazily if something still holds it), stops the filesystem process and removes its
   * temp dir. Safe to call more than once and after a failed mount.
   */
  async unmount(): Promise<void> {
    if (isMounted(this.mountpoint)) {
      const plain = spawnSync('fusermount3', ['-u', this.mountpoint], { stdio: 'ignore' });
      if (plain.status !== 0 && isMounted(this.mountpoint)) {
        spawnSync('umount', ['-l', this.mountpoint], { stdio: 'ignore' });
      }
    }
    if (!this.exited) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      this.child.kill('SIGTERM');
      await this.exitCode;
      clearTimeout(timer);
    }
    // Only our own temp dir: a mountpoint the caller chose is the caller's to remove.
    if (!isMounted(this.mountpoint)) rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Why a fault filesystem cannot be mounted here (undefined when it can): mounts and unmounts one.
 * Tests skip with this reason; CI installs fuse3 and python3-fusepy so that it is undefined there.
 */
export async function faultFsUnavailable(): Promise<string | undefined> {
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse on this machine';
  if (!existsSync(PYTHON)) return `no ${PYTHON} (the interpreter python3-fusepy installs into)`;
  const probe = spawnSync(PYTHON, ['-c', 'import fusepy'], { encoding: 'utf8' });
  if (probe.status !== 0) return `python3-fusepy is not installed (apt-get install fuse3 python3-fusepy)`;
  try {
    const fs = await FaultFs.mount({ label: 'faultfs-probe' });
    await fs.unmount();
    return undefined;
  } catch (err) {
    return `cannot mount a FUSE filesystem here: ${(err as Error).message}`;
  }
}

function isMounted(mountpoint: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === mountpoint);
}

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json) above fault-fs');
    dir = parent;
  }
  return dir;
}
