/**
 * What made an LMDB commit fail. lmdb-js rejects a failed commit with "Commit failed" and puts the
 * write's own error in `commitError`, sometimes as a promise rejected with it; awaiting that
 * promise here also keeps its rejection from going unhandled.
 */
export async function lmdbCommitCause(err: unknown): Promise<unknown> {
  const commitError = (err as { commitError?: unknown } | undefined)?.commitError;
  if (commitError === undefined) return err;
  if (typeof (commitError as { then?: unknown }).then === 'function') {
    try {
      await commitError;
    } catch (cause) {
      return cause;
    }
    return err;
  }
  return commitError;
}

/**
 * True for the write error of a disk that is full (errno 28, ENOSPC). A full disk leaves LMDB
 * usable: the failed transaction never reached the meta page, so the database is as of the last
 * good commit and the same write can simply be tried again.
 */
export function isDiskFullError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return code === 28 || code === 'ENOSPC' || /No space left on device/.test(err.message);
}

/** True when an LMDB commit (or lmdb-js's leftover copy of one) failed because the disk is full. */
export async function isLmdbDiskFull(err: unknown): Promise<boolean> {
  return isDiskFullError(await lmdbCommitCause(err));
}
