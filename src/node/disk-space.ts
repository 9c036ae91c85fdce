// Watches the free space of the file system holding a node's data. Below the floor the node
// refuses client writes (they would only grow the log towards a full disk, where a failed WAL
// write stops the node) and compacts its log; reads go on. Above it again, writes resume.
import { statfs } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';

export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;
const CHECK_INTERVAL_MS = 1_000;

export interface DiskSpaceOptions {
  dir: string;
  minFreeBytes: number;
  logger: Logger;
  registry?: Registry;
  /** Called at every check that finds the space below the floor. */
  onLow?: () => void;
  intervalMs?: number;
}

export class DiskSpaceMonitor {
  private freeBytes = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(private readonly options: DiskSpaceOptions) {
    if (options.registry) {
      const free = () => this.freeBytes;
      const low = () => this.low;
      new Gauge({
        name: 'disk_free_bytes',
        help: 'Bytes available to the node on the file system of its data dir',
        registers: [options.registry],
        collect() {
          if (Number.isFinite(free())) this.set(free());
        },
      });
      new Gauge({
        name: 'disk_space_low',
        help: '1 while free space is below --min-free-bytes (client writes are refused), else 0',
        registers: [options.registry],
        collect() {
          this.set(low() ? 1 : 0);
        },
      });
    }
  }

  /** Below the floor at the last check. */
  get low(): boolean {
    return this.freeBytes < this.options.minFreeBytes;
  }

  /** Why writes are refused now, or undefined while there is enough space. */
  problem(): string | undefined {
    if (!this.low) return undefined;
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    return (
      `the disk holding this node's data has ${mib(this.freeBytes)} free, below the floor of ` +
      `${mib(this.options.minFreeBytes)} (--min-free-bytes): writes are refused until space is freed; reads go on`
    );
  }

  /** Checks once now, then every interval until stop(). */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => {
      this.checking ??= this.check().finally(() => (this.checking = undefined));
    }, this.options.intervalMs ?? CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    const wasLow = this.low;
    try {
      const fs = await statfs(this.options.dir);
      // A file system that reports no size at all (some FUSE ones) tells nothing about its space.
      this.freeBytes = fs.blocks === 0 ? Number.POSITIVE_INFINITY : fs.bavail * fs.bsize;
    } catch (err) {
      // Keep the last reading: a failed statfs says nothing about the space.
      this.options.logger.warn({ err, dir: this.options.dir }, 'cannot read the free disk space');
      return;
    }
    const log = this.options.logger;
    if (this.low && !wasLow) log.warn({ freeBytes: this.freeBytes }, this.problem());
    if (!this.low && wasLow)
      log.info({ freeBytes: this.freeBytes }, 'disk space is above the floor again: writes resume');
    if (this.low) this.options.onLow?.();
  }
}
