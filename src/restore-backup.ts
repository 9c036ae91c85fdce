// Starts a new one-node cluster from a backup (a snapshot file from GET /cluster/snapshot), like
// `etcdutl snapshot restore`: the URLs come from the backup; the cluster, its log and its
// membership are new. The new log begins with a snapshot at index 1 (term 1) holding the backup,
// so a member that joins later gets the data by InstallSnapshot, like any follower that is behind.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Member, NodeIdentity, NodeMetaStore, WalLogStore } from './node/storage/index.js';
import type { SnapshotMeta } from './raft/index.js';
import type { UrlStore } from './shortener/url-store.js';

export async function bootstrapFromBackup(options: {
  file: string;
  self: Member & { nodeUuid: string };
  urlStore: UrlStore;
  logStore: WalLogStore;
  metaStore: NodeMetaStore;
  logger: Logger;
}): Promise<NodeIdentity & { nodeUuid: string }> {
  const { file, self, urlStore, logStore, metaStore, logger } = options;
  // Verifies every checksum before writing anything: a damaged backup is refused whole.
  const header = await urlStore.installSnapshot(file, { appliedIndex: 1 });
  const snapshot: SnapshotMeta = { index: 1, term: 1, confState: { voters: [self.id], learners: [] } };
  await logStore.compact(1, snapshot);
  await logStore.save({ term: 1, vote: 0, commit: 1 }, []);
  await metaStore.setMembership({ confState: snapshot.confState, members: [self], appliedIndex: 1 });
  const identity = { nodeId: self.id, clusterId: randomUUID(), nodeUuid: self.nodeUuid };
  // The identity is written last: it marks the restore as complete (a crash before it restarts it).
  await metaStore.setIdentity(identity);
  logger.info(
    {
      file,
      backupIndex: header.index,
      backupClusterId: header.clusterId,
      urls: urlStore.count(),
      clusterId: identity.clusterId,
    },
    'restored a backup into a new one-node cluster',
  );
  return identity;
}
