import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry } from '../../../src/node/storage/entry-codec.js';
import { CorruptEntryError } from '../../../src/node/storage/errors.js';
import { EntryType, type Entry } from '../../../src/raft/types.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function corruptionOf(index: number, record: Uint8Array): CorruptEntryError {
  try {
    decodeEntry(index, record);
  } catch (error) {
    if (error instanceof CorruptEntryError) return error;
    throw error;
  }
  throw new Error('decodeEntry accepted a bad record');
}

/** Re-seals a hand-edited record with a valid checksum, to reach the checks after the CRC. */
function reseal(record: Buffer): Buffer {
  record.writeUInt32BE(crc32(record.subarray(4)), 0);
  return record;
}

describe('entry codec', () => {
  it.each<Entry>([
    { term: 1, index: 1, type: EntryType.Normal, data: bytes('{"code":"abc"}') },
    { term: 7, index: 42, type: EntryType.Normal, data: new Uint8Array(0) },
    { term: 3, index: 2 ** 32 + 5, type: EntryType.ConfChange, data: Uint8Array.of(0, 255, 1) },
    {
      term: Number.MAX_SAFE_INTEGER,
      index: Number.MAX_SAFE_INTEGER,
      type: EntryType.Normal,
      data: bytes('x'),
    },
  ])('round-trips term $term index $index', (entry) => {
    const record = encodeEntry(entry);
    expect(decodeEntry(entry.index, record)).toEqual(entry);
  });

  it('is compact: a small entry costs a few header bytes beyond its data', () => {
    const data = bytes('{"code":"abc","longUrl":"https://example.com/"}');
    const record = encodeEntry({ term: 5, index: 1000, type: EntryType.Normal, data });
    // 4 crc + 1 version + 1 type + 1 term + 2 index
    expect(record.length - data.length).toBe(9);
  });

  it('returns data that does not alias the stored record', () => {
    const record = encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: bytes('abc') });
    const decoded = decodeEntry(1, record);
    record.fill(0);
    expect(decoded.data).toEqual(bytes('abc'));
  });

  it('detects every single flipped byte, naming the index', () => {
    const record = encodeEntry({ term: 9, index: 77, type: EntryType.Normal, data: bytes('payload') });
    for (let offset = 0; offset < record.length; offset++) {
      const damaged = Buffer.from(record);
      damaged[offset] ^= 0x01;
      const error = corruptionOf(77, damaged);
      expect(error.index).toBe(77);
      expect(error.defect).toBe('checksum');
      expect(error.message).toContain('index 77');
    }
  });

  it('detects a torn (truncated) record', () => {
    const record = encodeEntry({ term: 2, index: 5, type: EntryType.Normal, data: bytes('0123456789') });
    expect(corruptionOf(5, record.subarray(0, record.length - 3)).defect).toBe('checksum');
    expect(corruptionOf(5, record.subarray(0, 3)).defect).toBe('malformed');
  });

  it('detects a record stored under the wrong index', () => {
    const record = encodeEntry({ term: 2, index: 5, type: EntryType.Normal, data: bytes('a') });
    const error = corruptionOf(6, record);
    expect(error.index).toBe(6);
    expect(error.defect).toBe('index-mismatch');
  });

  it('rejects unknown format versions and entry types even with a valid checksum', () => {
    const record = encodeEntry({ term: 2, index: 5, type: EntryType.Normal, data: bytes('a') });
    const newerFormat = Buffer.from(record);
    newerFormat[4] = 2;
    expect(corruptionOf(5, reseal(newerFormat)).defect).toBe('unknown-format');
    const strangeType = Buffer.from(record);
    strangeType[5] = 9;
    expect(corruptionOf(5, reseal(strangeType)).defect).toBe('unknown-type');
  });

  it('refuses to encode what it could not decode', () => {
    const entry = { term: 1, index: 1, type: EntryType.Normal, data: bytes('a') };
    expect(() => encodeEntry({ ...entry, index: -1 })).toThrow(RangeError);
    expect(() => encodeEntry({ ...entry, term: 1.5 })).toThrow(RangeError);
    expect(() => encodeEntry({ ...entry, index: 2 ** 53 })).toThrow(RangeError);
    expect(() => encodeEntry({ ...entry, type: 7 as EntryType })).toThrow(RangeError);
  });
});
