// Message <-> wire object. Pure field mapping: the consensus core's types and raft.proto have the
// same fields, so the codec only renames nothing, widens nothing, and turns "absent" into the
// core's idea of absent. Entry data and context stay binary (Buffer is a Uint8Array).

import { EntryType, MessageType, type Entry, type Message, type SnapshotMeta } from '../../raft/types.js';
import type { ProtoEntry, ProtoMessage, ProtoMessageBatch, ProtoSnapshotMeta } from './raft-proto.js';

export function encodeBatch(clusterId: string, from: number, messages: Message[]): ProtoMessageBatch {
  return { clusterId, from, messages: messages.map(encodeMessage) };
}

export function encodeMessage(m: Message): ProtoMessage {
  const wire: ProtoMessage = {
    type: m.type,
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(encodeEntry),
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
    hintTerm: m.hintTerm,
    context: m.context,
  };
  if (m.snapshot !== undefined) wire.snapshot = encodeSnapshotMeta(m.snapshot);
  return wire;
}

/**
 * Throws on a type the core does not know (a newer peer, a corrupt sender): such a message must
 * never reach `step`, where it would be misread as some other type.
 */
export function decodeMessage(w: ProtoMessage): Message {
  if (MessageType[w.type] === undefined) throw new Error(`unknown message type ${w.type}`);
  const m: Message = {
    type: w.type,
    from: w.from,
    to: w.to,
    term: w.term,
    logTerm: w.logTerm,
    index: w.index,
    entries: w.entries.map(decodeEntry),
    commit: w.commit,
    reject: w.reject,
    rejectHint: w.rejectHint,
    hintTerm: w.hintTerm,
    context: w.context,
  };
  if (w.snapshot != null) m.snapshot = decodeSnapshotMeta(w.snapshot);
  return m;
}

function encodeEntry(e: Entry): ProtoEntry {
  return { term: e.term, index: e.index, type: e.type, data: e.data };
}

function decodeEntry(w: ProtoEntry): Entry {
  if (EntryType[w.type] === undefined) throw new Error(`unknown entry type ${w.type}`);
  // `data` is a view into the received frame (no copy): cheap for large batches; the frame is
  // freed once every entry of the batch has been dropped by the runtime.
  return { term: w.term, index: w.index, type: w.type, data: w.data };
}

function encodeSnapshotMeta(s: SnapshotMeta): ProtoSnapshotMeta {
  return {
    index: s.index,
    term: s.term,
    confState: { voters: s.confState.voters, learners: s.confState.learners },
  };
}

function decodeSnapshotMeta(w: ProtoSnapshotMeta): SnapshotMeta {
  return {
    index: w.index,
    term: w.term,
    confState: { voters: w.confState?.voters ?? [], learners: w.confState?.learners ?? [] },
  };
}
