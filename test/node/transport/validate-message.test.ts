// Every rule of the transport's message check, one at a time, on a message that passes all the
// others: what a peer sends is refused with a reason before the consensus core sees it.
import { describe, expect, it } from 'vitest';
import { encodeMemberContext } from '../../../src/node/members.js';
import type { ProtoMessage, ProtoMessageBatch } from '../../../src/node/transport/raft-proto.js';
import {
  MESSAGE_LIMITS,
  validateBatch,
  validateMessage,
  type ValidationContext,
} from '../../../src/node/transport/validate-message.js';
import { ConfChangeType, encodeConfChange } from '../../../src/raft/confchange.js';
import { EntryType, MessageType } from '../../../src/raft/types.js';
import { encodeCommand, isDecodableCommand } from '../../../src/shortener/commands.js';

const ME = 2;
const LEADER = 1;
const ctx: ValidationContext = {
  nodeId: ME,
  clusterId: 'c1',
  peers: { isMember: (id) => id === 1 || id === 2 || id === 3, leaderId: () => LEADER },
  isValidCommand: isDecodableCommand,
};

const command = encodeCommand({ type: 'create', code: 'abc', url: 'https://example.com/', createdAt: 1 });

/** An AppendEntries from the leader with three consecutive entries after index 10 (term 4). */
function app(over: Partial<ProtoMessage> = {}): ProtoMessage {
  return {
    type: MessageType.App,
    from: LEADER,
    to: ME,
    term: 5,
    logTerm: 4,
    index: 10,
    entries: [
      { term: 4, index: 11, type: EntryType.Normal, data: command },
      { term: 5, index: 12, type: EntryType.Normal, data: new Uint8Array(0) },
      {
        term: 5,
        index: 13,
        type: EntryType.ConfChange,
        data: encodeConfChange({
          type: ConfChangeType.AddLearner,
          nodeId: 4,
          context: encodeMemberContext({ id: 4, httpUrl: 'http://127.0.0.1:4', raftAddr: '127.0.0.1:5' }),
        }),
      },
    ],
    commit: 9,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(0),
    snapshot: null,
    ...over,
  };
}

function batch(over: Partial<ProtoMessageBatch> = {}): ProtoMessageBatch {
  return { clusterId: 'c1', from: LEADER, messages: [app()], ...over };
}

const check = (m: ProtoMessage, from = m.from) => validateMessage(m, from, ctx);

describe('validateBatch', () => {
  it('accepts a batch of a current member of this cluster', () => {
    expect(validateBatch(batch(), ctx)).toBeUndefined();
  });

  it('refuses another cluster, a non-member, itself, and an oversized batch', () => {
    expect(validateBatch(batch({ clusterId: 'c2' }), ctx)).toBe('wrong_cluster');
    expect(validateBatch(batch({ from: 9 }), ctx)).toBe('not_member');
    expect(validateBatch(batch({ from: 0 }), ctx)).toBe('not_member');
    expect(validateBatch(batch({ from: ME }), ctx)).toBe('from_self');
    const many = Array.from({ length: MESSAGE_LIMITS.messagesPerBatch + 1 }, () => app());
    expect(validateBatch(batch({ messages: many }), ctx)).toBe('too_many_messages');
  });
});

describe('validateMessage', () => {
  it('accepts a well-formed AppendEntries with commands, a no-op and a membership change', () => {
    expect(check(app())).toBeUndefined();
  });

  it('refuses a message whose from differs from the stream, or addressed to another node', () => {
    expect(validateMessage(app(), 3, ctx)).toBe('sender_mismatch');
    expect(check(app({ to: 3 }))).toBe('misaddressed');
  });

  it('refuses unknown message types and snapshot notices on the message stream', () => {
    expect(check(app({ type: 42, entries: [] }))).toBe('unknown_type');
    expect(check(app({ type: MessageType.Snapshot, entries: [] }))).toBe('snapshot_on_stream');
    const meta = { index: 100, term: 5, confState: { voters: [1, 2], learners: [] } };
    expect(check(app({ type: MessageType.Heartbeat, entries: [], snapshot: meta }))).toBe(
      'snapshot_on_stream',
    );
  });

  it('refuses terms and indexes beyond 2^53 (uint64 rounded on decode) in any field', () => {
    const huge = 2 ** 64;
    for (const field of ['term', 'logTerm', 'index', 'commit', 'rejectHint', 'hintTerm'] as const) {
      expect(check(app({ [field]: huge, entries: [] })), field).toBe('unsafe_number');
    }
    expect(check(app({ term: Number.MAX_SAFE_INTEGER + 1, entries: [] }))).toBe('unsafe_number');
    expect(check(app({ term: Number.MAX_SAFE_INTEGER, entries: [] }))).toBeUndefined();
    const entries = app().entries.map((e) => ({ ...e }));
    entries[1]!.term = huge;
    expect(check(app({ entries }))).toBe('unsafe_number');
  });

  it('refuses an oversized context', () => {
    expect(check(app({ context: new Uint8Array(MESSAGE_LIMITS.contextBytes + 1) }))).toBe(
      'context_too_large',
    );
  });

  it('refuses entries on anything but AppendEntries, and too many of them', () => {
    expect(check(app({ type: MessageType.Heartbeat }))).toBe('unexpected_entries');
    expect(check(app({ type: MessageType.Vote }))).toBe('unexpected_entries');
    const many = Array.from({ length: MESSAGE_LIMITS.entriesPerMessage + 1 }, (_, i) => ({
      term: 5,
      index: 11 + i,
      type: EntryType.Normal,
      data: new Uint8Array(0),
    }));
    expect(check(app({ entries: many }))).toBe('too_many_entries');
  });

  it('refuses entries that do not follow index, one by one', () => {
    const entries = app().entries;
    expect(check(app({ index: 11 }))).toBe('entries_not_consecutive'); // first must be index+1
    expect(check(app({ entries: [entries[0]!, entries[2]!] }))).toBe('entries_not_consecutive'); // a gap
    expect(check(app({ entries: [entries[0]!, entries[0]!] }))).toBe('entries_not_consecutive'); // a repeat
  });

  it('refuses entry terms that decrease, precede logTerm, or exceed the message term', () => {
    const [a, b, c] = app().entries;
    expect(check(app({ entries: [a!, { ...b!, term: 3 }, c!] }))).toBe('entry_terms');
    expect(check(app({ logTerm: 5 }))).toBe('entry_terms'); // entry 11 has term 4 < logTerm
    expect(check(app({ entries: [a!, b!, { ...c!, term: 6 }] }))).toBe('entry_terms');
  });

  it('refuses unknown entry types, undecodable commands and membership changes', () => {
    const [a, b, c] = app().entries;
    expect(check(app({ entries: [a!, { ...b!, type: 7 }, c!] }))).toBe('unknown_entry_type');
    expect(check(app({ entries: [{ ...a!, data: new Uint8Array([99, 1, 2]) }, b!, c!] }))).toBe(
      'bad_command',
    );
    for (const data of [
      new Uint8Array([1, 0]), // too short
      new Uint8Array([9, 0, 0, 0, 4]), // unknown change type
      new Uint8Array([ConfChangeType.AddVoter, 0, 0, 0, 0]), // id 0
      encodeConfChange({ type: ConfChangeType.AddVoter, nodeId: 4, context: Buffer.from('{not json') }),
      encodeConfChange({ type: ConfChangeType.AddVoter, nodeId: 4, context: Buffer.from('null') }),
    ]) {
      expect(check(app({ entries: [a!, b!, { ...c!, data }] }))).toBe('bad_conf_change');
    }
  });

  it('accepts TimeoutNow only from the node this one believes is the leader', () => {
    const timeoutNow = (from: number) => app({ type: MessageType.TimeoutNow, from, entries: [] });
    expect(check(timeoutNow(LEADER))).toBeUndefined();
    expect(check(timeoutNow(3))).toBe('timeout_now_not_from_leader');
    const noLeader: ValidationContext = { ...ctx, peers: { ...ctx.peers, leaderId: () => 0 } };
    expect(validateMessage(timeoutNow(LEADER), LEADER, noLeader)).toBe('timeout_now_not_from_leader');
  });
});
