// How one short URL is stored as the value under its code in the `urls` sub-database.
//
// Version 1 (a plain generated code; written as before so old data and new agree byte for byte):
//   byte 0      record version (1)
//   bytes 1..8  float64 big-endian createdAt
//   bytes 9..   url UTF-8 (the rest of the value; the code is the key, so it is not repeated)
// Version 2 (an alias, or a record with an expiry):
//   byte 0      record version (2)
//   bytes 1..8  float64 big-endian createdAt
//   byte 9      flags: 1 = custom alias, 2 = expires
//   [8 bytes    float64 big-endian expiresAt, when flags & 2]
//   rest        url UTF-8
// Version 3 (a record with tags or a visit limit; older versions are still read as they are, and
// records without either are still written as version 1 or 2):
//   byte 0      record version (3)
//   bytes 1..8  float64 big-endian createdAt
//   byte 9      flags: 1 = custom alias, 2 = expires, 4 = tags, 8 = max visits
//   [8 bytes    float64 big-endian expiresAt, when flags & 2]
//   [4 bytes    uint32 big-endian maxVisits, when flags & 8]
//   [uint8 n | n x (uint8 length | tag UTF-8), when flags & 4]
//   rest        url UTF-8
//
// Decoding runs on every GET /:code, so it is a few fixed-offset reads and one string copy.

import type { UrlRecord } from '../domain/records.js';

const RECORD_V1 = 1;
const RECORD_V2 = 2;
const RECORD_V3 = 3;
const V1_HEADER_BYTES = 1 + 8;
const FLAG_ALIAS = 1;
const FLAG_EXPIRES = 2;
const FLAG_TAGS = 4;
const FLAG_MAX_VISITS = 8;
const V3_FLAGS = FLAG_ALIAS | FLAG_EXPIRES | FLAG_TAGS | FLAG_MAX_VISITS;

export function encodeUrlRecord(record: Omit<UrlRecord, 'code'>): Buffer {
  const { url, createdAt, expiresAt, alias } = record;
  if (hasTags(record) || record.maxVisits !== undefined) return encodeV3(record);
  const urlBytes = Buffer.byteLength(url, 'utf8');
  if (!alias && expiresAt === undefined) {
    const out = Buffer.allocUnsafe(V1_HEADER_BYTES + urlBytes);
    out.writeUInt8(RECORD_V1, 0);
    out.writeDoubleBE(createdAt, 1);
    out.write(url, V1_HEADER_BYTES, 'utf8');
    return out;
  }
  const header = V1_HEADER_BYTES + 1 + (expiresAt !== undefined ? 8 : 0);
  const out = Buffer.allocUnsafe(header + urlBytes);
  out.writeUInt8(RECORD_V2, 0);
  out.writeDoubleBE(createdAt, 1);
  out.writeUInt8((alias ? FLAG_ALIAS : 0) | (expiresAt !== undefined ? FLAG_EXPIRES : 0), 9);
  if (expiresAt !== undefined) out.writeDoubleBE(expiresAt, 10);
  out.write(url, header, 'utf8');
  return out;
}

function hasTags(record: Omit<UrlRecord, 'code'>): boolean {
  return record.tags !== undefined && record.tags.length > 0;
}

function encodeV3(record: Omit<UrlRecord, 'code'>): Buffer {
  const { url, createdAt, expiresAt, alias, maxVisits } = record;
  const tags = hasTags(record) ? record.tags! : [];
  const flags =
    (alias ? FLAG_ALIAS : 0) |
    (expiresAt !== undefined ? FLAG_EXPIRES : 0) |
    (tags.length > 0 ? FLAG_TAGS : 0) |
    (maxVisits !== undefined ? FLAG_MAX_VISITS : 0);
  const tagBytes = tags.map((t) => Buffer.byteLength(t, 'utf8'));
  const size =
    V1_HEADER_BYTES +
    1 +
    (expiresAt !== undefined ? 8 : 0) +
    (maxVisits !== undefined ? 4 : 0) +
    (tags.length > 0 ? 1 + tagBytes.reduce((sum, n) => sum + 1 + n, 0) : 0) +
    Buffer.byteLength(url, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let offset = out.writeUInt8(RECORD_V3, 0);
  offset = out.writeDoubleBE(createdAt, offset);
  offset = out.writeUInt8(flags, offset);
  if (expiresAt !== undefined) offset = out.writeDoubleBE(expiresAt, offset);
  if (maxVisits !== undefined) offset = out.writeUInt32BE(maxVisits, offset);
  if (tags.length > 0) {
    offset = out.writeUInt8(tags.length, offset);
    tags.forEach((tag, i) => {
      offset = out.writeUInt8(tagBytes[i]!, offset);
      offset += out.write(tag, offset, 'utf8');
    });
  }
  out.write(url, offset, 'utf8');
  return out;
}

function decodeV3(code: string, bytes: Buffer): UrlRecord | undefined {
  const flags = bytes[9]!;
  if ((flags & ~V3_FLAGS) !== 0) return undefined;
  let offset = V1_HEADER_BYTES + 1;
  const need = (n: number) => bytes.length >= offset + n;
  let expiresAt: number | undefined;
  let maxVisits: number | undefined;
  if (flags & FLAG_EXPIRES) {
    if (!need(8)) return undefined;
    expiresAt = bytes.readDoubleBE(offset);
    offset += 8;
  }
  if (flags & FLAG_MAX_VISITS) {
    if (!need(4)) return undefined;
    maxVisits = bytes.readUInt32BE(offset);
    offset += 4;
  }
  let tags: string[] | undefined;
  if (flags & FLAG_TAGS) {
    if (!need(1)) return undefined;
    const n = bytes[offset++]!;
    tags = [];
    for (let i = 0; i < n; i++) {
      if (!need(1)) return undefined;
      const length = bytes[offset++]!;
      if (!need(length)) return undefined;
      tags.push(bytes.toString('utf8', offset, offset + length));
      offset += length;
    }
  }
  const record: UrlRecord = {
    code,
    url: bytes.toString('utf8', offset, bytes.length),
    createdAt: bytes.readDoubleBE(1),
  };
  if (expiresAt !== undefined) record.expiresAt = expiresAt;
  if (flags & FLAG_ALIAS) record.alias = true;
  if (tags !== undefined) record.tags = tags;
  if (maxVisits !== undefined) record.maxVisits = maxVisits;
  return record;
}

export function decodeUrlRecord(code: string, value: Uint8Array): UrlRecord {
  const bytes = Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  // Every string read names its end: values from lmdb's getBinaryFast are views of a reused buffer
  // whose length is the value's but whose byteLength is the whole buffer, and newer Node versions
  // default toString's end to the byteLength.
  if (bytes.length >= V1_HEADER_BYTES && bytes[0] === RECORD_V1) {
    return {
      code,
      url: bytes.toString('utf8', V1_HEADER_BYTES, bytes.length),
      createdAt: bytes.readDoubleBE(1),
    };
  }
  if (bytes.length >= V1_HEADER_BYTES + 1 && bytes[0] === RECORD_V2) {
    const flags = bytes[9]!;
    const expires = (flags & FLAG_EXPIRES) !== 0;
    const header = V1_HEADER_BYTES + 1 + (expires ? 8 : 0);
    if ((flags & ~(FLAG_ALIAS | FLAG_EXPIRES)) === 0 && bytes.length >= header) {
      const record: UrlRecord = {
        code,
        url: bytes.toString('utf8', header, bytes.length),
        createdAt: bytes.readDoubleBE(1),
      };
      if (expires) record.expiresAt = bytes.readDoubleBE(10);
      if (flags & FLAG_ALIAS) record.alias = true;
      return record;
    }
  }
  if (bytes.length >= V1_HEADER_BYTES + 1 && bytes[0] === RECORD_V3) {
    const record = decodeV3(code, bytes);
    if (record !== undefined) return record;
  }
  // Only this module writes records; anything else is corruption or a newer node's data.
  throw new Error(`stored record for code ${JSON.stringify(code)} is corrupt or of an unknown version`);
}
