// What a simulated snapshot is: an image of the state machine at one applied index, plus the
// harness's own bookkeeping (prefix ids) that lets the checker keep comparing logs across it. The
// core never sees any of it, only the SnapshotMeta describing it.
import type { ConfChange } from '../../../src/raft/confchange.js';
import type { NodeId, SnapshotMeta } from '../../../src/raft/types.js';

/** A state machine's contents, as stored durably or shipped to a follower. Never mutated. */
export interface SmImage {
  /** Index of the last entry applied. */
  readonly applied: number;
  /** Prefix id of the entries applied, in order: equal to the log's prefix id at `applied`. */
  readonly digest: number;
  readonly payloads: readonly string[];
  readonly confChanges: readonly ConfChange[];
}

/** A snapshot stream from a leader's runtime to a follower's, in flight in the simulated network. */
export interface SnapshotTransfer {
  readonly id: number;
  readonly from: NodeId;
  readonly to: NodeId;
  /** Only the runtime that started the transfer hears how it ended (a restart forgets it). */
  readonly fromIncarnation: number;
  /** snapshotMetaAt(image.applied) on the leader when it captured the image. */
  readonly meta: SnapshotMeta;
  readonly image: SmImage;
  /** Prefix ids 0..meta.index of the leader's log: the follower's disk takes them over. */
  readonly prefixIds: readonly number[];
  /** Whether the sender already reported on it (a duplicated stream reports once). */
  reported: boolean;
}

/** A received snapshot the follower has stored, waiting for its core to hand it out. */
export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly image: SmImage;
  readonly prefixIds: readonly number[];
}

export function snapshotKey(meta: { index: number; term: number }): string {
  return `${meta.index}:${meta.term}`;
}

export function copyMeta(meta: SnapshotMeta): SnapshotMeta {
  return {
    index: meta.index,
    term: meta.term,
    confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] },
  };
}

export function describeMeta(meta: SnapshotMeta): string {
  const cs = meta.confState;
  return `${meta.index}/t${meta.term} voters=[${cs.voters.join(',')}]${cs.learners.length ? ` learners=[${cs.learners.join(',')}]` : ''}`;
}
