// Errors of the Raft runtime that callers (the URL service) turn into HTTP answers.

/** The entry proposed at this index was replaced by another leader's entry: it will never apply. */
export class ProposalDroppedError extends Error {
  constructor(index: number) {
    super(`the write proposed at index ${index} was superseded by a leadership change; retry it`);
    this.name = 'ProposalDroppedError';
  }
}

/** The runtime is stopping: it takes no new work. */
export class RuntimeStoppedError extends Error {
  constructor() {
    super('the node is shutting down');
    this.name = 'RuntimeStoppedError';
  }
}

/** This node was removed from the cluster (and still runs): it can no longer serve linearizable reads. */
export class NotMemberError extends Error {
  constructor(nodeId: number) {
    super(`node ${nodeId} was removed from the cluster; send linearizable reads to a member`);
    this.name = 'NotMemberError';
  }
}

/** The disk holding this node's log is full: it takes no writes until there is space again. */
export class DiskFullError extends Error {
  constructor() {
    super(
      "this node's disk is full: it takes no writes until space is freed (reads go on); the write was not made",
    );
    this.name = 'DiskFullError';
  }
}
