// Who this node is, which cluster it belongs to and its membership, kept in the node's data dir
// beside the Raft log (wal/), so identity, membership and log never come from different places.
import type { Database, RootDatabase } from 'lmdb';
import type { ConfState } from '../../raft/types.js';
import { CorruptMetaError } from './errors.js';
import { asRecord, count, decodeConfState, optionalText, text } from './meta-records.js';

export interface NodeIdentity {
  nodeId: number;
  clusterId: string;
  /**
   * Random, made when this data dir was first used: it binds the node id to this data. A node
   * whose data dir was lost comes back with another one, and its peers, which know the member's
   * UUID from the membership, refuse to count it. Missing in data dirs written before it existed.
   */
  nodeUuid?: string;
}

export interface Member {
  id: number;
  httpUrl: string;
  raftAddr: string;
  /** The member's node UUID (absent for members that joined before UUIDs existed). */
  nodeUuid?: string;
}

/**
 * A join that has begun but not finished: the UUID this node presents, and the cluster it joins
 * once known. A restart with --join resumes it under the same UUID, so the leader sees a retry.
 */
export interface PendingJoin {
  nodeUuid: string;
  clusterId?: string;
}

/**
 * Membership as of `appliedIndex`, the index of the last applied membership change: on restart
 * the runtime knows both who is in the cluster and from which log position that is true.
 */
export interface Membership {
  confState: ConfState;
  members: Member[];
  appliedIndex: number;
}

const IDENTITY_KEY = 'identity';
const MEMBERSHIP_KEY = 'membership';
const PENDING_JOIN_KEY = 'pending-join';

export class NodeMetaStore {
  private readonly meta: Database<unknown, string>;

  constructor(root: RootDatabase) {
    this.meta = root.openDB<unknown, string>({ name: 'node-meta', encoding: 'msgpack' });
  }

  getIdentity(): NodeIdentity | undefined {
    const value = this.meta.get(IDENTITY_KEY);
    if (value === undefined) return undefined;
    const record = asRecord(IDENTITY_KEY, value);
    return {
      nodeId: count(IDENTITY_KEY, record, 'nodeId'),
      clusterId: text(IDENTITY_KEY, record, 'clusterId'),
      ...optionalText(IDENTITY_KEY, record, 'nodeUuid'),
    };
  }

  /** Resolves once the identity is on disk; a pending join it completes is forgotten with it. */
  async setIdentity(identity: NodeIdentity): Promise<void> {
    await this.meta.transaction(() => {
      void this.meta.put(IDENTITY_KEY, {
        nodeId: identity.nodeId,
        clusterId: identity.clusterId,
        ...(identity.nodeUuid === undefined ? {} : { nodeUuid: identity.nodeUuid }),
      });
      void this.meta.remove(PENDING_JOIN_KEY);
    });
  }

  getPendingJoin(): PendingJoin | undefined {
    const value = this.meta.get(PENDING_JOIN_KEY);
    if (value === undefined) return undefined;
    const record = asRecord(PENDING_JOIN_KEY, value);
    return {
      nodeUuid: text(PENDING_JOIN_KEY, record, 'nodeUuid'),
      ...optionalText(PENDING_JOIN_KEY, record, 'clusterId'),
    };
  }

  /** Resolves once the pending join is on disk. */
  async setPendingJoin(pending: PendingJoin): Promise<void> {
    await this.meta.put(PENDING_JOIN_KEY, { ...pending });
  }

  getMembership(): Membership | undefined {
    const value = this.meta.get(MEMBERSHIP_KEY);
    if (value === undefined) return undefined;
    const record = asRecord(MEMBERSHIP_KEY, value);
    const members = record.members;
    if (!Array.isArray(members)) {
      throw new CorruptMetaError(MEMBERSHIP_KEY, `members is ${JSON.stringify(members)}`);
    }
    return {
      confState: decodeConfState(MEMBERSHIP_KEY, record.confState),
      members: members.map((member: unknown) => {
        const fields = asRecord(MEMBERSHIP_KEY, member);
        return {
          id: count(MEMBERSHIP_KEY, fields, 'id'),
          httpUrl: text(MEMBERSHIP_KEY, fields, 'httpUrl'),
          raftAddr: text(MEMBERSHIP_KEY, fields, 'raftAddr'),
          ...optionalText(MEMBERSHIP_KEY, fields, 'nodeUuid'),
        };
      }),
      appliedIndex: count(MEMBERSHIP_KEY, record, 'appliedIndex'),
    };
  }

  /** Resolves once the membership is on disk. */
  async setMembership(membership: Membership): Promise<void> {
    await this.meta.put(MEMBERSHIP_KEY, {
      confState: {
        voters: [...membership.confState.voters],
        learners: [...membership.confState.learners],
      },
      members: membership.members.map(({ id, httpUrl, raftAddr, nodeUuid }) => ({
        id,
        httpUrl,
        raftAddr,
        ...(nodeUuid === undefined ? {} : { nodeUuid }),
      })),
      appliedIndex: membership.appliedIndex,
    });
  }
}
