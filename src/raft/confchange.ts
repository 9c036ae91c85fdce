// Membership changes, one server at a time (Raft thesis §4.1). They ride in the log as entries of
// type ConfChange and take effect when applied, as in etcd.
import { EntryType, type ConfState, type Entry, type NodeId } from './types.js';

export enum ConfChangeType {
  AddLearner = 0,
  /** Adds a voter, or promotes an existing learner. */
  AddVoter = 1,
  RemoveNode = 2,
}

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to the core: the runtime puts the member's addresses here. */
  context: Uint8Array;
}

// Layout: [type u8][nodeId u32 BE][context...]. Fixed and tiny: these entries are rare.
export function encodeConfChange(cc: ConfChange): Uint8Array {
  // setUint32 would silently wrap a larger id onto another member's.
  if (!Number.isInteger(cc.nodeId) || cc.nodeId < 1 || cc.nodeId > 0xffff_ffff) {
    throw new RangeError(`node id ${cc.nodeId} does not fit a conf change (1..2^32-1)`);
  }
  const out = new Uint8Array(5 + cc.context.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, cc.type);
  view.setUint32(1, cc.nodeId);
  out.set(cc.context, 5);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < 5) throw new Error(`conf change entry too short (${data.length} bytes)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = view.getUint8(0);
  if (!(type in ConfChangeType)) throw new Error(`unknown conf change type ${type}`);
  return { type, nodeId: view.getUint32(1), context: data.subarray(5) };
}

/** The membership that results from applying `cc` to `cs`; never mutates `cs`. */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState {
  const voters = cs.voters.filter((id) => id !== cc.nodeId);
  const learners = cs.learners.filter((id) => id !== cc.nodeId);
  switch (cc.type) {
    case ConfChangeType.AddVoter:
      voters.push(cc.nodeId);
      break;
    case ConfChangeType.AddLearner:
      // Demoting a voter to learner is not a single-server-safe step we offer; keep it a voter.
      if (cs.voters.includes(cc.nodeId)) voters.push(cc.nodeId);
      else learners.push(cc.nodeId);
      break;
    case ConfChangeType.RemoveNode:
      break;
  }
  voters.sort((a, b) => a - b);
  learners.sort((a, b) => a - b);
  return { voters, learners };
}

/**
 * The membership after the conf-change entries among `entries` (in index order) up to index
 * `through` are applied over `base`; never mutates `base`.
 */
export function replayConfChanges(base: ConfState, entries: readonly Entry[], through: number): ConfState {
  let conf: ConfState = { voters: [...base.voters], learners: [...base.learners] };
  for (const e of entries) {
    if (e.index > through) break;
    if (e.type === EntryType.ConfChange) conf = applyConfChange(conf, decodeConfChange(e.data));
  }
  return conf;
}
