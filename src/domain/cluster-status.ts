// What a node tells about its cluster: GET /cluster/status, the membership answers of join and
// remove, and what the launcher, the tools and the tests read back from those answers.

export type NodeRole = 'leader' | 'follower' | 'candidate' | 'pre-candidate';

export interface MemberInfo {
  id: number;
  httpUrl: string;
  raftAddr: string;
  /** Binds the id to the member's data (absent for members from before node UUIDs). */
  nodeUuid?: string;
  voter: boolean;
  /** Known on the leader only. */
  matchIndex?: number;
}

export interface ClusterStatus {
  id: number;
  /** Random id fixed when the cluster is bootstrapped; peers from another cluster are refused. */
  clusterId: string;
  role: NodeRole;
  term: number;
  leaderId: number;
  leaderUrl: string | null;
  commitIndex: number;
  appliedIndex: number;
  /** The log is compacted up to here: its first entry is the next one. */
  snapshotIndex: number;
  members: MemberInfo[];
}

export interface JoinRequest {
  id: number;
  httpUrl: string;
  raftAddr: string;
  /** The joining node's UUID, made when its data dir was first used. */
  nodeUuid?: string;
}
