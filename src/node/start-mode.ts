// How a node starts on its data dir, decided before anything is written to it. A node never
// founds a cluster by accident: after a lost volume, an implicit bootstrap would put a second,
// empty cluster behind the old node's address, acknowledging writes the real one never sees.
// So founding a cluster is asked for (--bootstrap, or --restore-from), only on an empty dir, and
// a dir that holds anything but a node identity is never silently reused.
import { readdirSync } from 'node:fs';

export type StartMode =
  /** The dir holds a node identity: come back with it (the flags that create one are ignored). */
  | 'restart'
  /** Found a new one-node cluster. */
  | 'bootstrap'
  /** Found a new one-node cluster holding a backup's URLs. */
  | 'restore'
  /** Join an existing cluster (or resume a join this dir began). */
  | 'join';

export interface StartRequest {
  dataDir: string;
  /** What the dir holds. */
  hasIdentity: boolean;
  hasPendingJoin: boolean;
  isEmpty: boolean;
  /** What the operator asked for. */
  bootstrap: boolean;
  join: boolean;
  restore: boolean;
}

export class StartRefusedError extends Error {
  override readonly name = 'StartRefusedError';
}

/** Files a fresh volume may hold without being "used": our lock and a file system's own. */
const IGNORED_ENTRIES = new Set(['LOCK', 'lost+found']);

/** True when `dir` is missing or holds nothing a node wrote (its LOCK aside). */
export function isEmptyDataDir(dir: string): boolean {
  try {
    return readdirSync(dir).every((name) => IGNORED_ENTRIES.has(name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

export function decideStartMode(r: StartRequest): StartMode {
  if (r.join && (r.bootstrap || r.restore)) {
    throw new StartRefusedError(
      '--join excludes --bootstrap and --restore-from: a node either joins a cluster or founds one',
    );
  }
  if (r.hasIdentity) return 'restart';
  const founding = r.restore ? '--restore-from' : '--bootstrap';
  if (r.join) {
    if (r.isEmpty || r.hasPendingJoin) return 'join';
    throw new StartRefusedError(
      `data dir ${r.dataDir} is not empty but holds no node identity (an interrupted bootstrap or ` +
        'restore, or files of another program): a node cannot join a cluster with them. Move them ' +
        'away and start again with an empty dir.',
    );
  }
  if (r.bootstrap || r.restore) {
    if (r.isEmpty) return r.restore ? 'restore' : 'bootstrap';
    throw new StartRefusedError(
      `refusing to found a new cluster (${founding}) over data dir ${r.dataDir}: it is not empty but ` +
        'holds no node identity. Found a cluster only on an empty dir; if this dir belongs to a ' +
        'node that should come back, its identity is lost: start it on an empty dir with --join ' +
        'after removing the old member.',
    );
  }
  if (r.hasPendingJoin) {
    throw new StartRefusedError(
      `data dir ${r.dataDir} holds a join that did not finish: start the node again with --join to complete it`,
    );
  }
  throw new StartRefusedError(
    r.isEmpty
      ? `data dir ${r.dataDir} is empty and neither --join nor --bootstrap was given. Start the ` +
          'first node of a new cluster with --bootstrap (BOOTSTRAP=1), and the others with ' +
          '--join <any member URL>. If this node was a member and lost its data, do not bootstrap: ' +
          'remove the old member (DELETE /cluster/members/<id>) and start it with --join.'
      : `data dir ${r.dataDir} holds no node identity and neither --join nor --bootstrap was ` +
          'given: it cannot be restarted. Start it on an empty dir with --join, or with ' +
          '--bootstrap for a new cluster.',
  );
}
