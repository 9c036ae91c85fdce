// How the open-loop scheduler sleeps until the next request is due. Every ms of oversleep is added to
// the latency of the requests that were waiting, so precision matters; but this machine has 2 cores
// shared with the cluster under test, so busy-waiting costs the service a core. Three ways:
//  - 'worker' (default): a worker thread blocks in Atomics.wait (sub-ms precision, no CPU) and posts
//    a message when the time has come, which wakes the main event loop at once.
//  - 'spin': setTimeout for the bulk of the wait, then setImmediate until due. Precise, but at
//    >= 1000 req/s the gaps are all < 1 ms, so it keeps one core busy.
//  - 'coarse': setTimeout only: ~1 ms granularity, so about +0.5 ms on average to every latency.
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

export type TimerKind = 'worker' | 'spin' | 'coarse';
export const TIMER_KINDS: readonly TimerKind[] = ['worker', 'spin', 'coarse'];

export interface Ticker {
  /**
   * Calls `wake` once, when performance.now() reaches about `atMs` (possibly a little early: the
   * caller re-checks the time and sleeps again). One sleep at a time.
   */
  sleepUntil(atMs: number, wake: () => void): void;
  close(): Promise<void>;
}

export async function createTicker(kind: TimerKind): Promise<Ticker> {
  if (kind === 'worker') return WorkerTicker.start();
  return kind === 'spin' ? spinTicker() : coarseTicker();
}

function coarseTicker(): Ticker {
  return {
    sleepUntil: (atMs, wake) => void setTimeout(wake, Math.max(0, atMs - performance.now())),
    close: async () => undefined,
  };
}

function spinTicker(): Ticker {
  const sleep = (atMs: number, wake: () => void): void => {
    const wait = atMs - performance.now();
    if (wait <= 0) wake();
    // setTimeout wakes up to ~1 ms late: ask for 1.5 ms early and yield-spin the rest.
    else if (wait > 2) setTimeout(() => sleep(atMs, wake), wait - 1.5);
    else setImmediate(() => sleep(atMs, wake));
  };
  return { sleepUntil: sleep, close: async () => undefined };
}

// Plain JS (eval'd) so it runs the same from the compiled dist/ and from TypeScript sources in tests.
// Times cross threads as epoch ms (timeOrigin + now), because each thread has its own timeOrigin.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const cell = new Int32Array(new SharedArrayBuffer(4));
parentPort.on('message', (atEpochMs) => {
  const wait = atEpochMs - (performance.timeOrigin + performance.now());
  if (wait > 0) Atomics.wait(cell, 0, 0, wait);
  parentPort.postMessage(0);
});
`;

class WorkerTicker implements Ticker {
  private wake: (() => void) | undefined;
  private dead = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', () => this.fire());
    // The scheduler must never hang on a dead worker: wake it now, and use timers from then on.
    const die = (): void => {
      this.dead = true;
      this.fire();
    };
    worker.on('error', die);
    worker.on('exit', die);
  }

  private fire(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  static async start(): Promise<WorkerTicker> {
    // Not unref'd: while the scheduler sleeps, this worker is what keeps the process alive.
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    await once(worker, 'online');
    return new WorkerTicker(worker);
  }

  sleepUntil(atMs: number, wake: () => void): void {
    const wait = atMs - performance.now();
    if (this.dead) return void setTimeout(wake, Math.max(0, wait));
    // The last stretch (about one message round trip) is yield-spun here: cheaper than being late.
    if (wait <= WorkerTicker.LEAD_MS) return void setImmediate(wake);
    this.wake = wake;
    this.worker.postMessage(performance.timeOrigin + atMs - WorkerTicker.LEAD_MS);
  }

  /** How early the worker wakes us: the typical cost of its message reaching the main event loop. */
  private static readonly LEAD_MS = 0.15;

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
