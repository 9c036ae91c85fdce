import type { NodeId } from './types.js';

/** A proposal reached a node that is not the leader. `leaderId` is NONE (0) when no leader is known. */
export class NotLeaderError extends Error {
  constructor(readonly leaderId: NodeId) {
    super(leaderId ? `not the leader; the leader is node ${leaderId}` : 'not the leader; no leader is known');
    this.name = 'NotLeaderError';
  }
}

/** A request the core refuses as it stands (e.g. a second membership change while one is pending). */
export class ProposalRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProposalRejectedError';
  }
}
