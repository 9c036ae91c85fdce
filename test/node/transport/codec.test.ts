import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeBatch, encodeMessage } from '../../../src/node/transport/codec.js';
import { raftService, type ProtoMessage } from '../../../src/node/transport/raft-proto.js';
import { EMPTY_BYTES, EntryType, MessageType, type Message } from '../../../src/raft/types.js';

/** Through the real protobuf encoder and decoder, exactly as on the wire. */
function viaWire(messages: Message[]): { clusterId: string; from: number; messages: Message[] } {
  const { requestSerialize, requestDeserialize } = raftService().Send;
  const bytes = requestSerialize(encodeBatch('cluster-a', 3, messages));
  const batch = requestDeserialize(bytes);
  return { clusterId: batch.clusterId, from: batch.from, messages: batch.messages.map(decodeMessage) };
}

/** Compares byte fields by content, whatever the Uint8Array subclass (Buffer on decode). */
function normalise(m: Message): unknown {
  return {
    ...m,
    context: Array.from(m.context),
    entries: m.entries.map((e) => ({ ...e, data: Array.from(e.data) })),
  };
}

const everyField: Message = {
  type: MessageType.Snapshot,
  from: 3,
  to: 4_000_000_000, // uint32 range
  term: 2 ** 40 + 1, // beyond 32 bits: uint64 must survive as an exact JS number
  logTerm: 2 ** 33,
  index: Number.MAX_SAFE_INTEGER,
  entries: [
    { term: 1, index: 10, type: EntryType.Normal, data: new Uint8Array([0, 1, 2, 255, 0]) },
    { term: 2, index: 11, type: EntryType.ConfChange, data: new Uint8Array([0x7b, 0x22]) }, // '{"' stays bytes
    { term: 2, index: 12, type: EntryType.Normal, data: EMPTY_BYTES }, // a no-op
  ],
  commit: 9,
  reject: true,
  rejectHint: 8,
  hintTerm: 5,
  context: new Uint8Array([9, 0, 9]),
  snapshot: { index: 100, term: 4, confState: { voters: [1, 2, 3], learners: [7] } },
};

describe('codec', () => {
  it('round-trips every field through protobuf, including binary entries and uint64 values', () => {
    const { clusterId, from, messages } = viaWire([everyField]);
    expect(clusterId).toBe('cluster-a');
    expect(from).toBe(3);
    expect(messages.map(normalise)).toEqual([normalise(everyField)]);
    expect(messages[0].entries[0].data).toBeInstanceOf(Uint8Array);
    expect(typeof messages[0].term).toBe('number');
  });

  it('keeps a multi-message batch in order and zero/absent fields as the core expects', () => {
    const heartbeat: Message = {
      type: MessageType.Heartbeat,
      from: 3,
      to: 1,
      term: 0,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      hintTerm: 0,
      context: EMPTY_BYTES,
    };
    const big: Message = {
      ...everyField,
      type: MessageType.App,
      snapshot: undefined,
      entries: Array.from({ length: 50 }, (_, i) => ({
        term: 3,
        index: i + 1,
        type: EntryType.Normal,
        data: Uint8Array.from({ length: 1000 }, (_, j) => (i * 31 + j) & 0xff),
      })),
    };
    delete big.snapshot;
    const { messages } = viaWire([heartbeat, everyField, big]);
    expect(messages.map(normalise)).toEqual([heartbeat, everyField, big].map(normalise));
    expect('snapshot' in messages[0]).toBe(false);
    expect(messages[0].context.length).toBe(0);
  });

  it('keeps every MessageType value', () => {
    const types = Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number');
    expect(types.length).toBe(12);
    const messages = types.map((type) => ({ ...everyField, type }));
    expect(viaWire(messages).messages.map((m) => m.type)).toEqual(types);
  });

  it('refuses a message type the core does not know', () => {
    const wire: ProtoMessage = { ...encodeMessage(everyField), type: 99 };
    expect(() => decodeMessage(wire)).toThrow(/unknown message type 99/);
  });
});
