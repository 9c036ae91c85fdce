// The on-disk form of one Raft log entry.
//
//   offset 0   uint32 BE  CRC32 of every byte after it
//   offset 4   uint8      format version (1)
//   offset 5   uint8      entry type (EntryType)
//   offset 6   varint     term
//   ...        varint     index
//   ...        bytes      data, to the end of the record (LMDB stores the record length)
//
// LMDB itself never exposes a half-written transaction (copy-on-write pages, meta page switched
// last), so the checksum is not for LMDB's crash safety: it catches what LMDB cannot — a flipped
// bit on disk, a bug or foreign process writing the wrong bytes — before the record is served to
// the state machine or to a follower. The index is stored inside the record too, so a record
// written under the wrong key is caught as well.
import { crc32 } from 'node:zlib';
import { EntryType, type Entry } from '../../raft/types.js';
import { CorruptEntryError } from './errors.js';
import { readVarint, varintLength, writeVarint } from './varint.js';

const FORMAT_VERSION = 1;
const CRC_BYTES = 4;
const FIXED_HEADER_BYTES = CRC_BYTES + 2;

export function encodeEntry(entry: Entry): Buffer {
  assertSafeCount('term', entry.term);
  assertSafeCount('index', entry.index);
  if (!isEntryType(entry.type)) throw new RangeError(`unknown entry type ${String(entry.type)}`);
  const size = FIXED_HEADER_BYTES + varintLength(entry.term) + varintLength(entry.index) + entry.data.length;
  const record = Buffer.allocUnsafe(size);
  record[CRC_BYTES] = FORMAT_VERSION;
  record[CRC_BYTES + 1] = entry.type;
  let offset = writeVarint(record, FIXED_HEADER_BYTES, entry.term);
  offset = writeVarint(record, offset, entry.index);
  record.set(entry.data, offset);
  record.writeUInt32BE(crc32(record.subarray(CRC_BYTES)), 0);
  return record;
}

/**
 * Decodes the record stored under `index`, verifying checksum, format and that the record is the
 * entry for that index. Throws CorruptEntryError naming `index` otherwise. The returned data is a
 * copy: LMDB's buffers point into memory that is reused by later reads.
 */
export function decodeEntry(index: number, record: Uint8Array): Entry {
  if (record.length < FIXED_HEADER_BYTES) {
    throw new CorruptEntryError(index, 'malformed', `record is ${record.length} bytes`);
  }
  const view = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const stored = view.readUInt32BE(0);
  const actual = crc32(view.subarray(CRC_BYTES));
  if (stored !== actual) {
    throw new CorruptEntryError(index, 'checksum', `stored crc32 ${hex(stored)}, computed ${hex(actual)}`);
  }
  const version = view[CRC_BYTES];
  if (version !== FORMAT_VERSION) {
    throw new CorruptEntryError(index, 'unknown-format', `format version ${version}`);
  }
  const type = view[CRC_BYTES + 1];
  if (!isEntryType(type)) throw new CorruptEntryError(index, 'unknown-type', `entry type ${type}`);
  const term = readVarint(view, FIXED_HEADER_BYTES);
  const recordIndex = term && readVarint(view, term.next);
  if (!term || !recordIndex) throw new CorruptEntryError(index, 'malformed', 'bad term/index varint');
  if (recordIndex.value !== index) {
    throw new CorruptEntryError(index, 'index-mismatch', `record holds index ${recordIndex.value}`);
  }
  return {
    term: term.value,
    index,
    type,
    data: new Uint8Array(view.subarray(recordIndex.next)),
  };
}

function isEntryType(type: number): type is EntryType {
  return type === EntryType.Normal || type === EntryType.ConfChange;
}

function assertSafeCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`entry ${field} must be a non-negative safe integer, got ${value}`);
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
