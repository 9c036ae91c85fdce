// The commands the Raft log carries to the URL store, and their wire/disk encoding.
//
// Commands are plain data decided by the leader before proposing (code, createdAt), so applying
// them is deterministic. The encoding is binary rather than JSON because every command is
// written to the leader's log, sent to each follower and written again there.
//
// Layout (all integers big-endian):
//   byte 0      codec version (1)
//   byte 1      command type (1 = create)
//   create:     float64 createdAt | uint8 code length | code UTF-8 | uint32 url length | url UTF-8
//
// A node that meets a version or type it does not know must stop rather than skip the entry:
// skipping would make its store diverge from the others.

import { ByteReader, DecodeError } from './byte-reader.js';

export interface CreateCommand {
  type: 'create';
  code: string;
  /** The long URL, already validated and normalized by the leader. */
  url: string;
  /** Milliseconds since the epoch, decided by the leader at proposal time. */
  createdAt: number;
}

/** Grows with delete, alias, expiry, visit-count batches, purge. */
export type UrlCommand = CreateCommand;

export { DecodeError };

const CODEC_VERSION = 1;
const TYPE_CREATE = 1;

/**
 * Codes become LMDB keys, which are limited to ~1978 bytes. A one-byte length caps them at 255 bytes,
 * so no decodable command can fail in apply on key size (which would halt every node at that entry).
 */
const MAX_CODE_BYTES = 0xff;

export function encodeCommand(cmd: UrlCommand): Uint8Array {
  switch (cmd.type) {
    case 'create':
      return encodeCreate(cmd);
    default:
      return assertNever(cmd.type);
  }
}

export function decodeCommand(bytes: Uint8Array): UrlCommand {
  const reader = new ByteReader(bytes, 'command');
  const version = reader.uint8('codec version');
  if (version !== CODEC_VERSION) {
    throw reader.error(`unsupported codec version ${version} (this node understands ${CODEC_VERSION})`);
  }
  const type = reader.uint8('command type');
  switch (type) {
    case TYPE_CREATE:
      return decodeCreate(reader);
    default:
      throw reader.error(`unknown command type ${type}`);
  }
}

function encodeCreate({ code, url, createdAt }: CreateCommand): Uint8Array {
  const codeBytes = Buffer.byteLength(code, 'utf8');
  const urlBytes = Buffer.byteLength(url, 'utf8');
  if (codeBytes === 0 || codeBytes > MAX_CODE_BYTES) {
    throw new RangeError(`code must be 1..${MAX_CODE_BYTES} bytes, got ${codeBytes}`);
  }
  if (!Number.isFinite(createdAt))
    throw new RangeError(`createdAt must be a finite number, got ${createdAt}`);

  const out = Buffer.allocUnsafe(2 + 8 + 1 + codeBytes + 4 + urlBytes);
  let offset = out.writeUInt8(CODEC_VERSION, 0);
  offset = out.writeUInt8(TYPE_CREATE, offset);
  offset = out.writeDoubleBE(createdAt, offset);
  offset = out.writeUInt8(codeBytes, offset);
  offset += out.write(code, offset, 'utf8');
  offset = out.writeUInt32BE(urlBytes, offset);
  out.write(url, offset, 'utf8');
  return out;
}

function decodeCreate(reader: ByteReader): CreateCommand {
  const createdAt = reader.float64('createdAt');
  if (!Number.isFinite(createdAt)) throw reader.error('createdAt is not a finite number');
  const codeLength = reader.uint8('code length');
  if (codeLength === 0) throw reader.error('code is empty');
  const code = reader.utf8(codeLength, 'code');
  const url = reader.utf8(reader.uint32('url length'), 'url');
  reader.end();
  return { type: 'create', code, url, createdAt };
}

function assertNever(value: never): never {
  throw new Error(`unhandled command type ${String(value)}`);
}
