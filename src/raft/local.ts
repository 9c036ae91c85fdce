// Inputs that come from this node itself rather than from a peer, stepped into the core like any
// message (etcd's MsgHup, MsgBeat, MsgCheckQuorum, MsgProp, MsgReadIndex, MsgTransferLeader,
// MsgSnapStatus). They are a type of their own, with string tags, so that nothing decoded from the
// wire (whose message types are numbers) can ever pass for one.
import type { EntryType, Message, NodeId } from './types.js';

export enum LocalMessageType {
  /** Start an election now: what an election timeout steps. */
  Hup = 'hup',
  /** Leader: send heartbeats now: what a heartbeat timeout steps. */
  Beat = 'beat',
  /** Leader: step down unless a majority was heard from since the last check. */
  CheckQuorum = 'check-quorum',
  /** Leader: append an entry to the log and replicate it. */
  Propose = 'propose',
  /** Ask for an index at which a read of the state machine is linearizable. */
  ReadIndex = 'read-index',
  /** Leader: hand leadership to another voter. */
  TransferLeader = 'transfer-leader',
  /** Leader: the runtime's report on a snapshot it streamed to a follower. */
  SnapStatus = 'snap-status',
}

export type LocalMessage =
  | { type: LocalMessageType.Hup }
  | { type: LocalMessageType.Beat }
  | { type: LocalMessageType.CheckQuorum }
  | { type: LocalMessageType.Propose; entryType: EntryType; data: Uint8Array }
  | { type: LocalMessageType.ReadIndex; context: Uint8Array }
  | { type: LocalMessageType.TransferLeader; to: NodeId }
  | { type: LocalMessageType.SnapStatus; from: NodeId; failed: boolean };

export function isLocalMessage(m: Message | LocalMessage): m is LocalMessage {
  return typeof m.type === 'string';
}
