// Checks every Raft message that arrives from a peer before any of it reaches the consensus core.
// The core trusts its input (it throws on a log that is not contiguous, and a throw in the middle
// of step() leaves it half changed), so whatever a buggy, stale or hostile peer sends must be
// refused here, whole, with a reason that can be counted: a node never exits because of a peer.

import { ConfChangeType, decodeConfChange } from '../../raft/confchange.js';
import { EntryType, MessageType } from '../../raft/types.js';
import { decodeMemberContext } from '../members.js';
import type { ProtoEntry, ProtoMessage, ProtoMessageBatch } from './raft-proto.js';

/** Why a message was refused: the label of the refusal counter on /metrics. */
export type RefusalReason =
  | 'wrong_cluster'
  | 'not_member'
  | 'from_self'
  | 'sender_mismatch'
  | 'misaddressed'
  | 'too_many_messages'
  | 'unknown_type'
  | 'snapshot_on_stream'
  | 'unsafe_number'
  | 'context_too_large'
  | 'unexpected_entries'
  | 'too_many_entries'
  | 'entries_not_consecutive'
  | 'entry_terms'
  | 'unknown_entry_type'
  | 'bad_conf_change'
  | 'bad_command'
  | 'timeout_now_not_from_leader';

/** What the receiver knows about the cluster right now (answers change as membership does). */
export interface PeerDirectory {
  /** Whether `id` is a current member (voter or learner) in this node's view. */
  isMember(id: number): boolean;
  /** The leader this node currently believes in (0: none). */
  leaderId(): number;
}

export interface ValidationContext {
  nodeId: number;
  clusterId: string;
  peers: PeerDirectory;
  /** Checks a normal entry's command bytes; without it only their presence is checked. */
  isValidCommand?: (data: Uint8Array) => boolean;
}

/**
 * Bounds far above what a well-behaved peer sends (the core batches at most a few thousand
 * entries, the sender queues at most a few thousand messages per peer), low enough that a
 * hostile batch cannot make the core loop for long.
 */
export const MESSAGE_LIMITS = {
  messagesPerBatch: 16_384,
  entriesPerMessage: 65_536,
  /** Read-index and campaign contexts are a few bytes. */
  contextBytes: 256,
} as const;

const MAX_NODE_ID = 2 ** 32 - 1;

export function isNodeId(id: unknown): id is number {
  return Number.isInteger(id) && (id as number) >= 1 && (id as number) <= MAX_NODE_ID;
}

/**
 * uint64 on the wire: proto-loader rounds values of 2^53 and more to the nearest double, so any
 * value that is not a safe integer was not sent exactly and must not be used.
 */
function isIndex(n: unknown): boolean {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/** A refusal of the whole batch (nothing in it may be delivered), or undefined. */
export function validateBatch(batch: ProtoMessageBatch, ctx: ValidationContext): RefusalReason | undefined {
  if (batch.clusterId !== ctx.clusterId) return 'wrong_cluster';
  if (batch.from === ctx.nodeId) return 'from_self';
  if (!isNodeId(batch.from) || !ctx.peers.isMember(batch.from)) return 'not_member';
  if (!Array.isArray(batch.messages) || batch.messages.length > MESSAGE_LIMITS.messagesPerBatch)
    return 'too_many_messages';
  return undefined;
}

/** A refusal of one message of an accepted batch (sent by `batchFrom`), or undefined. */
export function validateMessage(
  m: ProtoMessage,
  batchFrom: number,
  ctx: ValidationContext,
): RefusalReason | undefined {
  if (m.from !== batchFrom) return 'sender_mismatch';
  if (m.to !== ctx.nodeId) return 'misaddressed';
  if (MessageType[m.type] === undefined) return 'unknown_type';
  // Snapshots travel on InstallSnapshot, verified and stored before the core hears of them; a
  // snapshot notice on Send would make the core install one this node never received.
  if (m.type === MessageType.Snapshot || m.snapshot != null) return 'snapshot_on_stream';
  for (const n of [m.term, m.logTerm, m.index, m.commit, m.rejectHint, m.hintTerm]) {
    if (!isIndex(n)) return 'unsafe_number';
  }
  if (!(m.context instanceof Uint8Array) || m.context.byteLength > MESSAGE_LIMITS.contextBytes)
    return 'context_too_large';
  if (!Array.isArray(m.entries)) return 'unexpected_entries';
  if (m.entries.length > 0) {
    if (m.type !== MessageType.App) return 'unexpected_entries';
    const refused = validateEntries(m, ctx);
    if (refused) return refused;
  }
  // Leadership transfer makes this node start an election at once: only the leader may ask.
  if (m.type === MessageType.TimeoutNow && m.from !== ctx.peers.leaderId())
    return 'timeout_now_not_from_leader';
  return undefined;
}

function validateEntries(m: ProtoMessage, ctx: ValidationContext): RefusalReason | undefined {
  if (m.entries.length > MESSAGE_LIMITS.entriesPerMessage) return 'too_many_entries';
  // A log's terms never decrease, and no entry is newer than the leader sending it.
  let previousTerm = m.logTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (!isIndex(e.term) || !isIndex(e.index)) return 'unsafe_number';
    if (e.index !== m.index + 1 + i) return 'entries_not_consecutive';
    if (e.term < previousTerm || e.term > m.term) return 'entry_terms';
    previousTerm = e.term;
    const refused = validateEntryData(e, ctx);
    if (refused) return refused;
  }
  return undefined;
}

function validateEntryData(e: ProtoEntry, ctx: ValidationContext): RefusalReason | undefined {
  if (!(e.data instanceof Uint8Array)) return 'bad_command';
  if (e.type === EntryType.Normal) {
    // Empty data is the leader's no-op at the start of its term.
    if (e.data.byteLength === 0 || ctx.isValidCommand === undefined) return undefined;
    return ctx.isValidCommand(e.data) ? undefined : 'bad_command';
  }
  if (e.type === EntryType.ConfChange) return isValidConfChange(e.data) ? undefined : 'bad_conf_change';
  return 'unknown_entry_type';
}

/** The runtime decodes these when applying them; a throw there would stop the node. */
function isValidConfChange(data: Uint8Array): boolean {
  try {
    const cc = decodeConfChange(data);
    if (!isNodeId(cc.nodeId)) return false;
    if (cc.type !== ConfChangeType.RemoveNode) decodeMemberContext(cc.nodeId, cc.context);
    return true;
  } catch {
    return false;
  }
}
