// How one short URL is stored as the value under its code in the `urls` sub-database.
//
//   byte 0      record version (1) — lets expiry or other fields be added without a migration
//   bytes 1..8  float64 big-endian createdAt
//   bytes 9..   url UTF-8 (the rest of the value; the code is the key, so it is not repeated)
//
// Decoding runs on every GET /:code, so it is two fixed-offset reads and one string copy.

import type { UrlRecord } from '../http/node-api.js';

const RECORD_VERSION = 1;
const HEADER_BYTES = 1 + 8;

export function encodeUrlRecord(url: string, createdAt: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + Buffer.byteLength(url, 'utf8'));
  out.writeUInt8(RECORD_VERSION, 0);
  out.writeDoubleBE(createdAt, 1);
  out.write(url, HEADER_BYTES, 'utf8');
  return out;
}

export function decodeUrlRecord(code: string, value: Uint8Array): UrlRecord {
  const bytes = Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (bytes.length < HEADER_BYTES || bytes[0] !== RECORD_VERSION) {
    // Only this module writes records; anything else is corruption or a newer node's data.
    throw new Error(`stored record for code ${JSON.stringify(code)} is corrupt or of an unknown version`);
  }
  return { code, url: bytes.toString('utf8', HEADER_BYTES), createdAt: bytes.readDoubleBE(1) };
}
