// Message helpers shared by the network, the driver and the scenarios.
import { MessageType, type Entry, type Message } from '../../../src/raft/types.js';

/**
 * A deep copy, as a real wire would make: the receiver must never share arrays or bytes with the
 * sender, or a core that mutates what it received (or what it sent) would corrupt another node.
 */
export function cloneMessage(m: Message): Message {
  const copy: Message = {
    ...m,
    entries: m.entries.map(cloneEntry),
    context: m.context.slice(),
  };
  if (m.snapshot) {
    copy.snapshot = {
      ...m.snapshot,
      confState: { voters: [...m.snapshot.confState.voters], learners: [...m.snapshot.confState.learners] },
    };
  }
  return copy;
}

export function cloneEntry(e: Entry): Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() };
}

/** Bytes as a string key (each byte one char): exact, and cheap for the short payloads we use. */
export function bytesKey(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]);
  return s;
}

export function textBytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** One line for the event log: the fields that matter for this type. */
export function describeMessage(m: Message): string {
  const head = `${MessageType[m.type]} ${m.from}->${m.to} t${m.term}`;
  switch (m.type) {
    case MessageType.App: {
      const ents = m.entries.length
        ? ` ents[${m.entries[0].index}..${m.entries[m.entries.length - 1].index}]`
        : '';
      return `${head} prev=${m.index}/t${m.logTerm}${ents} commit=${m.commit}`;
    }
    case MessageType.AppResp:
      return `${head} index=${m.index}${m.reject ? ` REJECT hint=${m.rejectHint}/t${m.hintTerm}` : ''}`;
    case MessageType.Vote:
    case MessageType.PreVote:
      return `${head} last=${m.index}/t${m.logTerm}`;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      return `${head} ${m.reject ? 'reject' : 'grant'}`;
    case MessageType.Heartbeat:
    case MessageType.HeartbeatResp:
      return `${head} commit=${m.commit}${m.context.length ? ` ctx=${bytesKey(m.context)}` : ''}`;
    case MessageType.ReadIndex:
    case MessageType.ReadIndexResp:
      return `${head} index=${m.index} ctx=${bytesKey(m.context)}`;
    case MessageType.Snapshot:
      return m.snapshot ? `${head} snap=${m.snapshot.index}/t${m.snapshot.term}` : `${head} (no meta)`;
    default:
      return head;
  }
}
