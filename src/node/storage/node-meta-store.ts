// Who this node is, which cluster it belongs to and its membership, kept in the node's data dir
// beside the Raft log (wal/), so identity, membership and log never come from different places.
import type { Database, RootDatabase } from 'lmdb';
import type { ConfState } from '../../raft/types.js';
import { CorruptMetaError } from './errors.js';
import { asRecord, count, decodeConfState, text } from './meta-records.js';

export interface NodeIdentity {
  nodeId: number;
  clusterId: string;
}

export interface Member {
  id: number;
  httpUrl: string;
  raftAddr: string;
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
    };
  }

  /** Resolves once the identity is on disk. */
  async setIdentity(identity: NodeIdentity): Promise<void> {
    await this.meta.put(IDENTITY_KEY, { nodeId: identity.nodeId, clusterId: identity.clusterId });
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
      members: membership.members.map(({ id, httpUrl, raftAddr }) => ({ id, httpUrl, raftAddr })),
      appliedIndex: membership.appliedIndex,
    });
  }
}
