import type { ChildProcess } from 'node:child_process';

/** SIGTERM by PID, then SIGKILL if the child has not exited within `graceMs`; resolves once it has. */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<unknown>,
  graceMs: number,
): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
