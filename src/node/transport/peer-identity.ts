// Which data a peer runs on. Every node has a random node UUID, made when its data dir was first
// used and recorded with its id in the membership. A node whose data dir was lost (a replaced
// volume, a wiped disk) restarts under its old id with a new UUID: it has forgotten its votes and
// its log, so nothing it says may count. Each stream carries the sender's UUID in its metadata,
// and the receiver compares it, for every batch, with the UUID the membership records for the
// sender's id (per batch, because a member removed and re-added under its id gets a new UUID
// while an old stream may still be open).

import type { Metadata } from '@grpc/grpc-js';
import { isNodeId } from '../../common/node-id.js';

export const NODE_UUID_METADATA_KEY = 'x-raft-node-uuid';

/** The UUID the membership records for member `id`; undefined when none is known. */
export type MemberUuidLookup = (id: number) => string | undefined;

/** Adds this node's UUID to the metadata of a stream it opens. */
export function withNodeUuid(metadata: Metadata, nodeUuid: string | undefined): Metadata {
  if (nodeUuid !== undefined) metadata.set(NODE_UUID_METADATA_KEY, nodeUuid);
  return metadata;
}

/** The UUID a stream's sender presented, if any. */
export function presentedUuid(metadata: Metadata): string | undefined {
  const value = metadata.get(NODE_UUID_METADATA_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Why traffic from node `from`, which presented `presented`, must be refused; undefined when it
 * may be delivered. A member the membership records no UUID for (not known here yet, e.g. while
 * this node joins, or a member from before UUIDs) is not checked: there is nothing to compare.
 */
export function identityProblem(
  from: number,
  presented: string | undefined,
  memberUuid: MemberUuidLookup | undefined,
): string | undefined {
  if (!isNodeId(from)) return `sender id ${from} is not a node id`;
  const recorded = memberUuid?.(from);
  if (recorded === undefined || recorded === presented) return undefined;
  return (
    `node ${from} runs on other data than the member the cluster knows (node UUID ${presented ?? 'none'}, ` +
    `recorded ${recorded}): its data dir was lost or replaced; remove member ${from} and join the node again`
  );
}
