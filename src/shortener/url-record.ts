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
//
// Decoding runs on every GET /:code, so it is a few fixed-offset reads and one string copy.

import type { UrlRecord } from '../domain/records.js';

const RECORD_V1 = 1;
const RECORD_V2 = 2;
const V1_HEADER_BYTES = 1 + 8;
const FLAG_ALIAS = 1;
const FLAG_EXPIRES = 2;

export function encodeUrlRecord(record: Omit<UrlRecord, 'code'>): Buffer {
  const { url, createdAt, expiresAt, alias } = record;
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
  // Only this module writes records; anything else is corruption or a newer node's data.
  throw new Error(`stored record for code ${JSON.stringify(code)} is corrupt or of an unknown version`);
}
