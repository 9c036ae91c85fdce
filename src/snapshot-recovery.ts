// Start-up check that the URL store and the Raft log agree after a crash. The log may start after
// a snapshot the store does not hold yet: a follower recorded a snapshot from the leader in its WAL
// and crashed before (or while) installing it in LMDB. The snapshot file was stored before the WAL
// record, so the install can be finished now; without the file the node cannot know its state.
import type { Logger } from 'pino';
import { inConf } from './node/members.js';
import type { NodeMetaStore } from './node/storage/index.js';
import type { SnapshotMeta } from './raft/index.js';
import type { SnapshotFiles } from './shortener/snapshot/snapshot-files.js';
import type { UrlStore } from './shortener/url-store.js';

export class MissingSnapshotError extends Error {
  constructor(meta: SnapshotMeta, path: string, storeIndex: number) {
    super(
      `the Raft log starts after a snapshot at index ${meta.index} (term ${meta.term}), but the URL store ` +
        `only holds entries up to ${storeIndex} and the snapshot file ${path} is missing. This node's data is ` +
        'incomplete: stop it, remove its data directory, and add it to the cluster again as a new member ' +
        '(or restore it from a backup).',
    );
    this.name = 'MissingSnapshotError';
  }
}

export async function finishInterruptedInstall(options: {
  snapshot: SnapshotMeta | undefined;
  urlStore: UrlStore;
  snapshotFiles: SnapshotFiles;
  metaStore: NodeMetaStore;
  logger: Logger;
}): Promise<void> {
  const { snapshot, urlStore, snapshotFiles, metaStore, logger } = options;
  const storeIndex = urlStore.durableAppliedIndex;
  if (snapshot === undefined || snapshot.index <= storeIndex) {
    // Nothing interrupted: any stored snapshot file is left over from a finished install.
    await snapshotFiles.discardAllExcept();
    return;
  }
  const path = snapshotFiles.stored(snapshot.index, snapshot.term);
  if (path === undefined) {
    throw new MissingSnapshotError(
      snapshot,
      snapshotFiles.pathFor(snapshot.index, snapshot.term),
      storeIndex,
    );
  }
  logger.warn({ index: snapshot.index, path }, 'finishing the install of a snapshot interrupted by a crash');
  // Verifies every checksum before changing anything; a damaged file stops the node here.
  const header = await snapshotFiles.install(path);
  await metaStore.setMembership({
    confState: snapshot.confState,
    members: header.members.filter((m) => inConf(snapshot.confState, m.id)),
    appliedIndex: snapshot.index,
  });
  await snapshotFiles.discardAllExcept();
}
