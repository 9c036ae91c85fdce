/** The exit code of a node that stopped because it cannot continue safely (EX_SOFTWARE). */
export const EXIT_FATAL = 70;

/** Long enough for the event loop to run what lmdb-js's write thread is waiting for. */
const GRACE_MS = 100;

let exiting = false;

/**
 * Ends the process with EXIT_FATAL, after one short grace rather than at once. process.exit()
 * runs exit(), where libuv joins its thread pool; lmdb-js's write thread lives there and, inside a
 * transaction, waits for this thread to run the transaction's callback. An exit at once could wait
 * for that thread for good (seen as a node that logged its fatal failure yet stayed alive, its main
 * thread in a futex wait). During the grace the pending callback runs and its commit completes or
 * fails; nothing it writes is wrong, since the store holds only applied, committed entries.
 */
export function exitFatal(): void {
  if (exiting) return;
  exiting = true;
  process.exitCode = EXIT_FATAL;
  setTimeout(() => process.exit(EXIT_FATAL), GRACE_MS);
}
