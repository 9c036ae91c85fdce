// A slow CPU, simulated: a duty-cycled SIGSTOP/SIGCONT of one process (stopped `stopMs` of every
// `periodMs`). The loop runs in a worker thread that sleeps in Atomics.wait, so its timing does not
// depend on how busy the load generator's event loop is: a SIGCONT that came late because the main
// thread was sending requests would make the pauses longer than asked, and a pause longer than the
// election timeout is a different fault (a partition) than a slow CPU.
//
// Whatever happens, the target ends resumed: stop() wakes the worker, which sends SIGCONT before it
// exits, and stop() sends one more itself; resumeAllPaused() is for process-exit handlers.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

export interface DutyCycle {
  /** ms the process is stopped in each period. */
  stopMs: number;
  /** ms per cycle (stopped + running). */
  periodMs: number;
}

export const DEFAULT_DUTY_CYCLE: DutyCycle = { stopMs: 20, periodMs: 100 };

// Plain JS (eval'd) so it runs the same from dist/ and from the TypeScript sources under vitest.
// control[0]: 0 = run, 1 = stop asked. control[1]: cycles done (the main thread reads it).
const PAUSER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { pid, stopMs, periodMs, control } = workerData;
const cell = new Int32Array(control);
const signal = (s) => {
  try { process.kill(pid, s); return true; } catch { return false; }
};
let gone = false;
while (Atomics.load(cell, 0) === 0) {
  if (!signal('SIGSTOP')) { gone = true; break; }
  Atomics.add(cell, 1, 1);
  Atomics.wait(cell, 0, 0, stopMs); // returns early when stop() notifies
  if (!signal('SIGCONT')) { gone = true; break; }
  if (Atomics.load(cell, 0) !== 0) break;
  Atomics.wait(cell, 0, 0, periodMs - stopMs);
}
if (!gone) signal('SIGCONT');
parentPort.postMessage({ gone });
`;

const active = new Set<number>();

export class DutyCyclePauser {
  private readonly finished: Promise<{ gone: boolean }>;
  private stopped = false;

  private constructor(
    readonly pid: number,
    readonly cycle: DutyCycle,
    private readonly worker: Worker,
    private readonly control: Int32Array,
  ) {
    this.finished = new Promise((resolve) => {
      let gone = false;
      worker.on('message', (m: { gone: boolean }) => (gone = m.gone));
      // An error in the worker (it has none to throw, but) must not leave anyone waiting.
      worker.on('error', () => undefined);
      worker.once('exit', () => resolve({ gone }));
    });
    this.finished.then(() => active.delete(pid)).catch(() => undefined);
  }

  /** Starts the duty cycle on `pid` (the first SIGSTOP follows at once). */
  static async start(pid: number, cycle: DutyCycle = DEFAULT_DUTY_CYCLE): Promise<DutyCyclePauser> {
    validateDutyCycle(cycle);
    process.kill(pid, 0); // throws ESRCH for a process that is not there
    const control = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(PAUSER_SOURCE, {
      eval: true,
      workerData: { pid, stopMs: cycle.stopMs, periodMs: cycle.periodMs, control: control.buffer },
    });
    // Not unref'd: a pauser must be stopped, never abandoned mid-pause.
    const pauser = new DutyCyclePauser(pid, cycle, worker, control);
    active.add(pid);
    await once(worker, 'online');
    return pauser;
  }

  /** Pauses done so far. */
  get cycles(): number {
    return Atomics.load(this.control, 1);
  }

  /**
   * Ends the duty cycle and leaves the process running. Resolves once the worker has exited;
   * `gone` is true when the target had exited on its own (e.g. it was killed meanwhile).
   */
  async stop(): Promise<{ cycles: number; gone: boolean }> {
    if (!this.stopped) {
      this.stopped = true;
      Atomics.store(this.control, 0, 1);
      Atomics.notify(this.control, 0);
    }
    // The worker sees the flag within one wait; if it were somehow stuck, terminate it.
    const timer = setTimeout(() => void this.worker.terminate(), 2_000);
    const { gone } = await this.finished;
    clearTimeout(timer);
    resume(this.pid);
    return { cycles: this.cycles, gone };
  }
}

export function validateDutyCycle(c: DutyCycle): void {
  if (!(c.stopMs > 0 && c.periodMs > c.stopMs)) {
    throw new Error(`invalid duty cycle ${c.stopMs}ms/${c.periodMs}ms: need 0 < stopped < period`);
  }
  if (c.periodMs > 60_000) throw new Error(`invalid duty cycle: period ${c.periodMs}ms is over 1 minute`);
}

function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // gone: nothing to resume
  }
}

/**
 * Synchronous last resort for 'exit' handlers: SIGCONT to every process a pauser is working on.
 * (Worker threads die with the process, possibly between a SIGSTOP and its SIGCONT.)
 */
export function resumeAllPaused(): void {
  for (const pid of active) resume(pid);
}
