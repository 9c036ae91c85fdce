// The slow-CPU fault on a harmless child process: it is really stopped (state 'T' in /proc) and
// resumed, and after stop() it is running and stays running; a target that dies meanwhile ends the
// duty cycle cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DutyCyclePauser } from '../../loadtest/faults/pauser.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      process.kill(c.pid!, 'SIGCONT');
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
});

function idleChild(): ChildProcess {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

/** The process state letter from /proc/<pid>/stat: R, S, T (stopped), Z, … */
function state(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Polls the state every ~1 ms until `want` is seen or the deadline passes; returns what was seen. */
async function watchStates(
  pid: number,
  ms: number,
  until?: (seen: Set<string>) => boolean,
): Promise<Set<string>> {
  const seen = new Set<string>();
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    seen.add(state(pid));
    if (until?.(seen)) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  return seen;
}

describe('DutyCyclePauser', () => {
  it('stops and resumes the process in cycles, and leaves it running when stopped', async () => {
    const child = idleChild();
    const pid = child.pid!;
    await watchStates(pid, 5_000, (s) => s.has('S'));
    const pauser = await DutyCyclePauser.start(pid, { stopMs: 40, periodMs: 100 });
    try {
      // Both states show up while it runs: stopped (T), and running or sleeping in between.
      const seen = await watchStates(pid, 5_000, (s) => s.has('T') && (s.has('S') || s.has('R')));
      expect(seen.has('T')).toBe(true);
      expect(seen.has('S') || seen.has('R')).toBe(true);
      // Several cycles pass.
      await watchStates(pid, 5_000, () => pauser.cycles >= 3);
      expect(pauser.cycles).toBeGreaterThanOrEqual(3);
    } finally {
      const end = await pauser.stop();
      expect(end.gone).toBe(false);
    }
    // Resumed at once, and no SIGSTOP comes after stop() (a window of three periods).
    expect(state(pid)).not.toBe('T');
    const after = await watchStates(pid, 300);
    expect(after.has('T')).toBe(false);
  });

  it('always resumes, whenever in the cycle stop() comes', async () => {
    const child = idleChild();
    const pid = child.pid!;
    for (let i = 0; i < 5; i++) {
      // Long pauses, so a stop() most likely lands while the child is stopped.
      const pauser = await DutyCyclePauser.start(pid, { stopMs: 80, periodMs: 100 });
      await watchStates(pid, 2_000, (s) => s.has('T'));
      await pauser.stop();
      expect(state(pid)).not.toBe('T');
    }
  });

  it('ends cleanly when the target dies during the duty cycle', async () => {
    const child = idleChild();
    const pid = child.pid!;
    const exited = new Promise((r) => child.once('exit', r));
    const pauser = await DutyCyclePauser.start(pid, { stopMs: 20, periodMs: 50 });
    await watchStates(pid, 2_000, () => pauser.cycles >= 1);
    child.kill('SIGKILL');
    await exited;
    const end = await pauser.stop();
    expect(end.cycles).toBeGreaterThanOrEqual(1);
    await expect(DutyCyclePauser.start(pid)).rejects.toThrow(/ESRCH/);
  });

  it('rejects impossible duty cycles', async () => {
    await expect(DutyCyclePauser.start(process.pid, { stopMs: 100, periodMs: 100 })).rejects.toThrow(
      /need 0 < stopped < period/,
    );
  });
});
