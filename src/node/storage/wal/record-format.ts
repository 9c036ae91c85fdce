// The byte format of a WAL segment, and the parser that splits a segment into records.
//
// A segment is a sequence of records, nothing else (no file header, no padding):
//
//   offset 0   uint32 LE  payload length n (>= 1)
//   offset 4   uint32 LE  CRC32 (zlib's, as in entry-codec.ts) of the n payload bytes
//   offset 8   n bytes    payload = [uint8 record type][body]
//
// Little endian because every machine we run on is, so the header is read without swapping;
// the entry record inside keeps entry-codec's own big-endian CRC (it is opaque bytes here).
//
// Record types and bodies (varints are entry-codec's unsigned LEB128, safe integers only):
//   1 entry       varint index, then encodeEntry(entry) (carries its own CRC, term and index;
//                 decodeEntry checks the index stored inside against the one in front)
//   2 hard state  varint term, varint vote, varint commit
//   3 snapshot    varint index, varint term, varint #voters, voters..., varint #learners, learners...
// A body must be consumed exactly; anything left over or missing is 'malformed'.
import { crc32 } from 'node:zlib';
import type { Entry, HardState, SnapshotMeta } from '../../../raft/types.js';
import { decodeEntry, encodeEntry } from '../entry-codec.js';
import { CorruptEntryError } from '../errors.js';
import { readVarint, varintLength, writeVarint } from '../varint.js';
import { WalCorruptionError, type WalDefect } from './wal-errors.js';

export const RECORD_HEADER_BYTES = 8;

export enum RecordType {
  Entry = 1,
  HardState = 2,
  Snapshot = 3,
}

export type WalRecord =
  | { type: RecordType.Entry; entry: Entry }
  | { type: RecordType.HardState; hardState: HardState }
  | { type: RecordType.Snapshot; snapshot: SnapshotMeta };

/** One record's payload, ready to be framed. Built synchronously, from the caller's data. */
export type EncodedPayload = Uint8Array;

export function encodeEntryPayload(entry: Entry): EncodedPayload {
  const record = encodeEntry(entry); // validates term, index, type
  const payload = Buffer.allocUnsafe(1 + varintLength(entry.index) + record.length);
  payload[0] = RecordType.Entry;
  const offset = writeVarint(payload, 1, entry.index);
  payload.set(record, offset);
  return payload;
}

export function encodeHardStatePayload(hardState: HardState): EncodedPayload {
  const fields = [hardState.term, hardState.vote, hardState.commit];
  fields.forEach((value, i) => assertCount(`hardState.${['term', 'vote', 'commit'][i]}`, value));
  return encodeCounts(RecordType.HardState, fields);
}

export function encodeSnapshotPayload(snapshot: SnapshotMeta): EncodedPayload {
  const { voters, learners } = snapshot.confState;
  const fields = [snapshot.index, snapshot.term, voters.length, ...voters, learners.length, ...learners];
  fields.forEach((value) => assertCount('snapshot field', value));
  return encodeCounts(RecordType.Snapshot, fields);
}

/** Frames payloads into one buffer: what one save() writes with one write call. */
export function frameRecords(payloads: readonly EncodedPayload[]): Buffer {
  let size = 0;
  for (const payload of payloads) size += RECORD_HEADER_BYTES + payload.length;
  const buffer = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const payload of payloads) {
    buffer.writeUInt32LE(payload.length, offset);
    buffer.writeUInt32LE(crc32(payload), offset + 4);
    buffer.set(payload, offset + RECORD_HEADER_BYTES);
    offset += RECORD_HEADER_BYTES + payload.length;
  }
  return buffer;
}

/** Where and why the parse of a segment stopped short of its end. */
export interface SegmentDefect {
  offset: number;
  defect: WalDefect;
  detail: string;
}

export interface ParsedSegment {
  records: Array<{ offset: number; record: WalRecord }>;
  /** Bytes from the start that hold whole, valid records. */
  validBytes: number;
  /** Set when bytes after validBytes are not a valid record (the caller decides: torn or corrupt). */
  defect?: SegmentDefect;
}

/**
 * Splits a segment into records. A framing defect (short header, overlong record, CRC mismatch,
 * zero length) ends the parse and is reported, not thrown: in the last segment it is a torn tail.
 * A record whose CRC holds but whose content is wrong (including an entry failing its own
 * checksum) is corruption wherever it is, and is thrown as WalCorruptionError.
 */
export function parseSegment(file: string, bytes: Buffer): ParsedSegment {
  const records: ParsedSegment['records'] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const framing = checkFraming(bytes, offset);
    if ('defect' in framing) return { records, validBytes: offset, defect: framing };
    records.push({ offset, record: decodePayload(file, offset, framing.payload) });
    offset = framing.next;
  }
  return { records, validBytes: offset };
}

/** The record at `offset` if its framing and CRC are sound, else what is wrong with it. */
export function checkFraming(
  bytes: Buffer,
  offset: number,
): { payload: Buffer; next: number } | SegmentDefect {
  const remaining = bytes.length - offset;
  if (remaining < RECORD_HEADER_BYTES) {
    return { offset, defect: 'truncated', detail: `${remaining} bytes left, less than a record header` };
  }
  const length = bytes.readUInt32LE(offset);
  if (length === 0) {
    const zeros = isAllZero(bytes, offset);
    return {
      offset,
      defect: 'zero-length',
      detail: zeros
        ? `${remaining} zero bytes instead of a record`
        : 'record length 0 followed by non-zero bytes',
    };
  }
  if (length > remaining - RECORD_HEADER_BYTES) {
    return {
      offset,
      defect: 'truncated',
      detail: `record of ${length} payload bytes runs past the end (${remaining - RECORD_HEADER_BYTES} left)`,
    };
  }
  const payload = bytes.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + length);
  const stored = bytes.readUInt32LE(offset + 4);
  const actual = crc32(payload);
  if (stored !== actual) {
    return { offset, defect: 'checksum', detail: `stored crc32 ${hex(stored)}, computed ${hex(actual)}` };
  }
  return { payload, next: offset + RECORD_HEADER_BYTES + length };
}

function decodePayload(file: string, offset: number, payload: Buffer): WalRecord {
  const malformed = (detail: string, index?: number, cause?: unknown) =>
    new WalCorruptionError(file, offset, 'malformed', detail, index, { cause });
  const type = payload[0];
  if (type === RecordType.Entry) {
    const index = readVarint(payload, 1);
    if (!index) throw malformed('entry record with an unreadable index');
    try {
      return { type, entry: decodeEntry(index.value, payload.subarray(index.next)) };
    } catch (err) {
      if (!(err instanceof CorruptEntryError)) throw err;
      // The record's CRC held, so this was written wrong, not torn: corruption even at the tail.
      throw malformed(err.message, index.value, err);
    }
  }
  if (type === RecordType.HardState) {
    const fields = readCounts(payload, 3);
    if (!fields) throw malformed('hard state record does not hold exactly 3 varints');
    return { type, hardState: { term: fields[0], vote: fields[1], commit: fields[2] } };
  }
  if (type === RecordType.Snapshot) {
    const snapshot = decodeSnapshotBody(payload);
    if (!snapshot) throw malformed('snapshot record does not decode');
    return { type, snapshot };
  }
  throw malformed(`unknown record type ${type}`);
}

function decodeSnapshotBody(payload: Buffer): SnapshotMeta | undefined {
  const reader = new CountReader(payload, 1);
  const index = reader.next();
  const term = reader.next();
  const voters = reader.list();
  const learners = reader.list();
  if (index === undefined || term === undefined || !voters || !learners || !reader.atEnd()) return undefined;
  return { index, term, confState: { voters, learners } };
}

function readCounts(payload: Buffer, count: number): number[] | undefined {
  const reader = new CountReader(payload, 1);
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const value = reader.next();
    if (value === undefined) return undefined;
    values.push(value);
  }
  return reader.atEnd() ? values : undefined;
}

class CountReader {
  constructor(
    private readonly bytes: Buffer,
    private offset: number,
  ) {}

  next(): number | undefined {
    const read = readVarint(this.bytes, this.offset);
    if (!read) return undefined;
    this.offset = read.next;
    return read.value;
  }

  list(): number[] | undefined {
    const length = this.next();
    // Each element takes at least one byte: a length beyond the bytes left is garbage.
    if (length === undefined || length > this.bytes.length - this.offset) return undefined;
    const values: number[] = [];
    for (let i = 0; i < length; i++) {
      const value = this.next();
      if (value === undefined) return undefined;
      values.push(value);
    }
    return values;
  }

  atEnd(): boolean {
    return this.offset === this.bytes.length;
  }
}

function encodeCounts(type: RecordType, values: readonly number[]): EncodedPayload {
  let size = 1;
  for (const value of values) size += varintLength(value);
  const payload = Buffer.allocUnsafe(size);
  payload[0] = type;
  let offset = 1;
  for (const value of values) offset = writeVarint(payload, offset, value);
  return payload;
}

function assertCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative safe integer, got ${value}`);
  }
}

function isAllZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
