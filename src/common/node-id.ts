// A node (member) id travels as a uint32 on the wire (proto/raft.proto, conf change entries), and
// 0 means "no node" in the consensus core. Anything outside 1..2^32-1 would wrap or alias another
// member once encoded, so every place an id enters the system checks it with this one rule.

export const MAX_NODE_ID = 0xffff_ffff;

export const NODE_ID_RULE = `an integer from 1 to ${MAX_NODE_ID}`;

export function isNodeId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_NODE_ID;
}
