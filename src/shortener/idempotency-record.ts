// How one remembered Idempotency-Key is stored under the key in the `idempotency` sub-database:
// the fingerprint of the request it was first used with, until when it is remembered, and that
// request's result (enough to answer a retry with the same body and status, even if the short URL
// was deleted meanwhile).
//
//   byte 0      record version (1)
//   byte 1      flags: 1 = the first request created the code (201), 2 = alias, 4 = expires
//   bytes 2..9  float64 key expiresAt
//   bytes 10..17 float64 createdAt of the short URL
//   [8 bytes    float64 expiresAt of the short URL, when flags & 4]
//   uint8 fingerprint length | fingerprint UTF-8 | uint8 code length | code UTF-8 | url UTF-8 (rest)

import type { CreateResult } from '../domain/records.js';

export interface IdempotencyRecord {
  fingerprint: string;
  /** The key is forgotten after this instant (ms since the epoch, fixed by the leader). */
  expiresAt: number;
  /** The first request's result. */
  result: CreateResult;
}

const VERSION = 1;
const FLAG_CREATED = 1;
const FLAG_ALIAS = 2;
const FLAG_EXPIRES = 4;

export function encodeIdempotencyRecord({ fingerprint, expiresAt, result }: IdempotencyRecord): Buffer {
  const urlExpires = result.expiresAt !== undefined;
  const fpBytes = Buffer.byteLength(fingerprint, 'utf8');
  const codeBytes = Buffer.byteLength(result.code, 'utf8');
  const out = Buffer.allocUnsafe(
    2 + 8 + 8 + (urlExpires ? 8 : 0) + 1 + fpBytes + 1 + codeBytes + Buffer.byteLength(result.url, 'utf8'),
  );
  let offset = out.writeUInt8(VERSION, 0);
  offset = out.writeUInt8(
    (result.created ? FLAG_CREATED : 0) | (result.alias ? FLAG_ALIAS : 0) | (urlExpires ? FLAG_EXPIRES : 0),
    offset,
  );
  offset = out.writeDoubleBE(expiresAt, offset);
  offset = out.writeDoubleBE(result.createdAt, offset);
  if (urlExpires) offset = out.writeDoubleBE(result.expiresAt!, offset);
  offset = out.writeUInt8(fpBytes, offset);
  offset += out.write(fingerprint, offset, 'utf8');
  offset = out.writeUInt8(codeBytes, offset);
  offset += out.write(result.code, offset, 'utf8');
  out.write(result.url, offset, 'utf8');
  return out;
}

export function decodeIdempotencyRecord(key: string, value: Uint8Array): IdempotencyRecord {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const corrupt = () =>
    new Error(`stored idempotency record for key ${JSON.stringify(key)} is corrupt or of an unknown version`);
  if (b.length < 18 || b[0] !== VERSION) throw corrupt();
  const flags = b[1]!;
  let offset = 2;
  const expiresAt = b.readDoubleBE(offset);
  offset += 8;
  const createdAt = b.readDoubleBE(offset);
  offset += 8;
  let urlExpiresAt: number | undefined;
  if (flags & FLAG_EXPIRES) {
    if (b.length < offset + 8) throw corrupt();
    urlExpiresAt = b.readDoubleBE(offset);
    offset += 8;
  }
  if (b.length < offset + 1) throw corrupt();
  const fpLength = b[offset++]!;
  if (b.length < offset + fpLength + 1) throw corrupt();
  const fingerprint = b.toString('utf8', offset, offset + fpLength);
  offset += fpLength;
  const codeLength = b[offset++]!;
  if (b.length < offset + codeLength) throw corrupt();
  const code = b.toString('utf8', offset, offset + codeLength);
  offset += codeLength;
  const result: CreateResult = {
    code,
    // An explicit end: see decodeUrlRecord on lmdb's reused read buffer.
    url: b.toString('utf8', offset, b.length),
    createdAt,
    created: (flags & FLAG_CREATED) !== 0,
  };
  if (urlExpiresAt !== undefined) result.expiresAt = urlExpiresAt;
  if (flags & FLAG_ALIAS) result.alias = true;
  return { fingerprint, expiresAt, result };
}
