// CPU seconds a process has used (user + system), read from /proc so the loader does not have to
// ask the servers anything. Linux only; elsewhere the figure is reported as unknown.
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing ")" are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
