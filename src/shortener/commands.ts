// The commands the Raft log carries to the URL store, and their wire/disk encoding.
//
// Commands are plain data decided by the leader before proposing (code, createdAt, the expiry
// instant, the "now" of a purge), so applying them is deterministic. The encoding is binary rather
// than JSON because every command is written to the leader's log, sent to each follower and
// written again there.
//
// Layout (all integers big-endian):
//   byte 0      codec version (1)
//   byte 1      command type
//   1 create:     float64 createdAt | uint8 code length | code UTF-8 | uint32 url length | url UTF-8
//   2 create-ext: float64 createdAt | uint8 flags | uint8 code length | code | uint32 url length | url
//                 | [flags & 2: float64 expiresAt]
//                 | [flags & 4: uint8 key length | key | uint8 fingerprint length | fingerprint
//                               | float64 key expiresAt]
//                 | [flags & 8: tags] | [flags & 16: uint32 maxVisits]
//                 flags: 1 = the code is a custom alias, 2 = expires, 4 = carries an idempotency key,
//                 8 = tags, 16 = a visit limit
//   3 delete:     uint8 code length | code UTF-8
//   4 purge:      float64 now | float64 expiredBefore | uint32 limit
//   5 visits:     uint32 origin node | uint32 session | float64 seq | uint32 n
//                 | n x (uint8 code length | code UTF-8 | float64 createdAt | uint32 day | uint32 count)
//                 day: days since 1970-01-01 UTC, decided by the node that counted the visits
//   6 update:     float64 updatedAt | uint8 flags | uint8 code length | code UTF-8
//                 | [flags & 1: uint32 url length | url] | [flags & 2: float64 expiresAt]
//                 | [flags & 8: tags] | [flags & 16: uint32 maxVisits]
//                 flags: 1 = new url, 2 = new expiry, 4 = no expiry, 8 = new tags (0 of them: none),
//                 16 = new visit limit, 32 = no visit limit
//   tags:         uint8 n | n x (uint8 length | tag UTF-8), distinct and sorted (link-tags.ts)
//
// A plain create (no alias, expiry or key) is still written as type 1, byte for byte as before,
// so logs written by older nodes and by this one decode the same way. New kinds of command get
// new type numbers; the version byte changes only if the framing itself ever has to.
//
// A node that meets a version or type it does not know must stop rather than skip the entry:
// skipping would make its store diverge from the others.

import { ByteReader, DecodeError } from './byte-reader.js';
import { isCanonicalTagList } from './link-tags.js';

export interface IdempotencyStamp {
  /** The client's Idempotency-Key header (1..255 bytes). */
  key: string;
  /** Identifies the request the key was first used with; a different one is refused. */
  fingerprint: string;
  /** Until when (ms since the epoch, decided by the leader) the key is remembered. */
  expiresAt: number;
}

export interface CreateCommand {
  type: 'create';
  code: string;
  /** The long URL, already validated and normalized by the leader. */
  url: string;
  /** Milliseconds since the epoch, decided by the leader at proposal time. */
  createdAt: number;
  /** The code is a custom alias: never deduplicated by URL; a taken alias is refused. */
  alias?: boolean;
  /** When the short URL stops redirecting (ms since the epoch, decided by the leader). */
  expiresAt?: number;
  /** The request's Idempotency-Key: a second create with it returns the first result. */
  idempotency?: IdempotencyStamp;
  /** Distinct and sorted (link-tags.ts). A create with tags is never deduplicated by URL. */
  tags?: string[];
  /** The short URL answers 410 after this many visits. Never deduplicated by URL. */
  maxVisits?: number;
}

/**
 * Changes a short URL in place (the code, createdAt and visit statistics stay). Absent fields stay
 * as they are. `updatedAt` is the leader's instant: a record expired at that instant is not changed.
 */
export interface UpdateCommand {
  type: 'update';
  code: string;
  updatedAt: number;
  /** The new long URL, already validated and normalized by the leader. */
  url?: string;
  /** A new expiry instant, or null to remove the expiry. */
  expiresAt?: number | null;
  /** The new tag set (distinct, sorted); [] removes every tag. */
  tags?: string[];
  /** A new visit limit, or null to remove it. */
  maxVisits?: number | null;
}

export interface DeleteCommand {
  type: 'delete';
  code: string;
}

/**
 * Removes short URLs that expired at or before `expiredBefore` and idempotency keys whose lifetime
 * ended at or before `now`, at most `limit` of them in all. Both instants are the leader's.
 */
export interface PurgeCommand {
  type: 'purge';
  now: number;
  expiredBefore: number;
  limit: number;
}

/** Redirects one node served to one short URL on one UTC day. */
export interface VisitCount {
  code: string;
  /** createdAt of the record the visits went to: counts for a code deleted and taken again are dropped. */
  createdAt: number;
  /** Days since 1970-01-01 UTC, on the clock of the node that counted (never the applying node's). */
  day: number;
  count: number;
}

/**
 * A batch of visit counts from one node, merged into the replicated statistics. (origin, session,
 * seq) identifies the batch: apply counts a batch only if its seq is above the last one applied
 * for that origin and session, so a batch delivered twice (a retry after a timeout) counts once
 * (see visit-store.ts).
 */
export interface VisitsCommand {
  type: 'visits';
  /** The node that counted the visits. */
  origin: number;
  /** Random per process of that node: seq starts again at 1 after a restart. */
  session: number;
  /** 1, 2, ... within the session, one per batch. */
  seq: number;
  visits: VisitCount[];
}

export type UrlCommand = CreateCommand | DeleteCommand | PurgeCommand | VisitsCommand | UpdateCommand;

export { DecodeError };

const CODEC_VERSION = 1;
const TYPE_CREATE = 1;
const TYPE_CREATE_EXT = 2;
const TYPE_DELETE = 3;
const TYPE_PURGE = 4;
const TYPE_VISITS = 5;
const TYPE_UPDATE = 6;

const FLAG_ALIAS = 1;
const FLAG_EXPIRES = 2;
const FLAG_IDEMPOTENCY = 4;
const FLAG_TAGS = 8;
const FLAG_MAX_VISITS = 16;
const KNOWN_FLAGS = FLAG_ALIAS | FLAG_EXPIRES | FLAG_IDEMPOTENCY | FLAG_TAGS | FLAG_MAX_VISITS;

const UPDATE_URL = 1;
const UPDATE_EXPIRES = 2;
const UPDATE_NO_EXPIRY = 4;
const UPDATE_TAGS = 8;
const UPDATE_MAX_VISITS = 16;
const UPDATE_NO_MAX_VISITS = 32;
const UPDATE_FLAGS = 63;

/**
 * Codes become LMDB keys, which are limited to ~1978 bytes. A one-byte length caps them at 255 bytes,
 * so no decodable command can fail in apply on key size (which would halt every node at that entry).
 * The same holds for idempotency keys.
 */
export const MAX_CODE_BYTES = 0xff;
const MAX_KEY_BYTES = 0xff;
/** The last day a JavaScript Date can represent (8.64e15 ms): later days could not be rendered. */
export const MAX_VISIT_DAY = 100_000_000;
const MAX_UINT32 = 0xffffffff;

export function encodeCommand(cmd: UrlCommand): Uint8Array {
  switch (cmd.type) {
    case 'create':
      return encodeCreate(cmd);
    case 'delete':
      return encodeDelete(cmd);
    case 'purge':
      return encodePurge(cmd);
    case 'visits':
      return encodeVisits(cmd);
    case 'update':
      return encodeUpdate(cmd);
    default:
      return assertNever(cmd);
  }
}

/** Whether `bytes` decode as a command: checked when entries arrive, long before they apply. */
export function isDecodableCommand(bytes: Uint8Array): boolean {
  try {
    decodeCommand(bytes);
    return true;
  } catch {
    return false;
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
    case TYPE_CREATE_EXT:
      return decodeCreateExt(reader);
    case TYPE_DELETE:
      return decodeDelete(reader);
    case TYPE_PURGE:
      return decodePurge(reader);
    case TYPE_VISITS:
      return decodeVisits(reader);
    case TYPE_UPDATE:
      return decodeUpdate(reader);
    default:
      throw reader.error(`unknown command type ${type}`);
  }
}

// ------------------------------------------------------------------------------------ encoding

function checkedCodeBytes(code: string): number {
  const codeBytes = Buffer.byteLength(code, 'utf8');
  if (codeBytes === 0 || codeBytes > MAX_CODE_BYTES) {
    throw new RangeError(`code must be 1..${MAX_CODE_BYTES} bytes, got ${codeBytes}`);
  }
  return codeBytes;
}

function checkInstant(value: number, name: string): void {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${value}`);
}

function checkExpiry(value: number, name: string): void {
  // Non-negative, so that big-endian float64 bytes sort like the numbers (the expiry index).
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  }
}

function encodeCreate(cmd: CreateCommand): Uint8Array {
  const { code, url, createdAt } = cmd;
  const codeBytes = checkedCodeBytes(code);
  const urlBytes = Buffer.byteLength(url, 'utf8');
  checkInstant(createdAt, 'createdAt');
  const alias = cmd.alias === true;
  const expires = cmd.expiresAt !== undefined;
  const idem = cmd.idempotency;
  const tags = cmd.tags !== undefined && cmd.tags.length > 0 ? cmd.tags : undefined;
  const limited = cmd.maxVisits !== undefined;
  if (!alias && !expires && idem === undefined && tags === undefined && !limited) {
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

  if (expires) checkExpiry(cmd.expiresAt!, 'expiresAt');
  let keyBytes = 0;
  let fingerprintBytes = 0;
  if (idem !== undefined) {
    keyBytes = Buffer.byteLength(idem.key, 'utf8');
    fingerprintBytes = Buffer.byteLength(idem.fingerprint, 'utf8');
    if (keyBytes === 0 || keyBytes > MAX_KEY_BYTES) {
      throw new RangeError(`idempotency key must be 1..${MAX_KEY_BYTES} bytes, got ${keyBytes}`);
    }
    if (fingerprintBytes > 0xff) throw new RangeError(`fingerprint must be at most 255 bytes`);
    checkExpiry(idem.expiresAt, 'idempotency expiresAt');
  }
  const tagBytes = tags === undefined ? 0 : checkedTagBytes(tags);
  if (limited) checkMaxVisits(cmd.maxVisits!);
  const flags =
    (alias ? FLAG_ALIAS : 0) |
    (expires ? FLAG_EXPIRES : 0) |
    (idem ? FLAG_IDEMPOTENCY : 0) |
    (tags ? FLAG_TAGS : 0) |
    (limited ? FLAG_MAX_VISITS : 0);
  const size =
    2 +
    8 +
    1 +
    1 +
    codeBytes +
    4 +
    urlBytes +
    (expires ? 8 : 0) +
    (idem ? 1 + keyBytes + 1 + fingerprintBytes + 8 : 0) +
    tagBytes +
    (limited ? 4 : 0);
  const out = Buffer.allocUnsafe(size);
  let offset = out.writeUInt8(CODEC_VERSION, 0);
  offset = out.writeUInt8(TYPE_CREATE_EXT, offset);
  offset = out.writeDoubleBE(createdAt, offset);
  offset = out.writeUInt8(flags, offset);
  offset = out.writeUInt8(codeBytes, offset);
  offset += out.write(code, offset, 'utf8');
  offset = out.writeUInt32BE(urlBytes, offset);
  offset += out.write(url, offset, 'utf8');
  if (expires) offset = out.writeDoubleBE(cmd.expiresAt!, offset);
  if (idem) {
    offset = out.writeUInt8(keyBytes, offset);
    offset += out.write(idem.key, offset, 'utf8');
    offset = out.writeUInt8(fingerprintBytes, offset);
    offset += out.write(idem.fingerprint, offset, 'utf8');
    offset = out.writeDoubleBE(idem.expiresAt, offset);
  }
  if (tags) offset = writeTags(out, offset, tags);
  if (limited) out.writeUInt32BE(cmd.maxVisits!, offset);
  return out;
}

/** The encoded size of a tag list, after checking it is canonical (distinct, sorted, valid). */
function checkedTagBytes(tags: readonly string[]): number {
  if (!isCanonicalTagList(tags)) {
    throw new RangeError(`tags must be distinct, sorted and valid: ${JSON.stringify(tags)}`);
  }
  return tags.reduce((sum, tag) => sum + 1 + Buffer.byteLength(tag, 'utf8'), 1);
}

function writeTags(out: Buffer, offset: number, tags: readonly string[]): number {
  offset = out.writeUInt8(tags.length, offset);
  for (const tag of tags) {
    offset = out.writeUInt8(Buffer.byteLength(tag, 'utf8'), offset);
    offset += out.write(tag, offset, 'utf8');
  }
  return offset;
}

function checkMaxVisits(value: number): void {
  if (!isUint32(value, 1)) throw new RangeError(`maxVisits must be in 1..2^32-1, got ${value}`);
}

function encodeUpdate(cmd: UpdateCommand): Uint8Array {
  const codeBytes = checkedCodeBytes(cmd.code);
  checkInstant(cmd.updatedAt, 'updatedAt');
  const urlBytes = cmd.url === undefined ? 0 : Buffer.byteLength(cmd.url, 'utf8');
  if (typeof cmd.expiresAt === 'number') checkExpiry(cmd.expiresAt, 'expiresAt');
  const tagBytes = cmd.tags === undefined ? 0 : checkedTagBytes(cmd.tags);
  if (typeof cmd.maxVisits === 'number') checkMaxVisits(cmd.maxVisits);
  const flags =
    (cmd.url !== undefined ? UPDATE_URL : 0) |
    (typeof cmd.expiresAt === 'number' ? UPDATE_EXPIRES : 0) |
    (cmd.expiresAt === null ? UPDATE_NO_EXPIRY : 0) |
    (cmd.tags !== undefined ? UPDATE_TAGS : 0) |
    (typeof cmd.maxVisits === 'number' ? UPDATE_MAX_VISITS : 0) |
    (cmd.maxVisits === null ? UPDATE_NO_MAX_VISITS : 0);
  if (flags === 0) throw new RangeError('an update must change something');
  const size =
    2 +
    8 +
    1 +
    1 +
    codeBytes +
    (cmd.url !== undefined ? 4 + urlBytes : 0) +
    (flags & UPDATE_EXPIRES ? 8 : 0) +
    tagBytes +
    (flags & UPDATE_MAX_VISITS ? 4 : 0);
  const out = Buffer.allocUnsafe(size);
  let offset = out.writeUInt8(CODEC_VERSION, 0);
  offset = out.writeUInt8(TYPE_UPDATE, offset);
  offset = out.writeDoubleBE(cmd.updatedAt, offset);
  offset = out.writeUInt8(flags, offset);
  offset = out.writeUInt8(codeBytes, offset);
  offset += out.write(cmd.code, offset, 'utf8');
  if (cmd.url !== undefined) {
    offset = out.writeUInt32BE(urlBytes, offset);
    offset += out.write(cmd.url, offset, 'utf8');
  }
  if (flags & UPDATE_EXPIRES) offset = out.writeDoubleBE(cmd.expiresAt as number, offset);
  if (cmd.tags !== undefined) offset = writeTags(out, offset, cmd.tags);
  if (flags & UPDATE_MAX_VISITS) out.writeUInt32BE(cmd.maxVisits as number, offset);
  return out;
}

function encodeDelete({ code }: DeleteCommand): Uint8Array {
  const codeBytes = checkedCodeBytes(code);
  const out = Buffer.allocUnsafe(2 + 1 + codeBytes);
  let offset = out.writeUInt8(CODEC_VERSION, 0);
  offset = out.writeUInt8(TYPE_DELETE, offset);
  offset = out.writeUInt8(codeBytes, offset);
  out.write(code, offset, 'utf8');
  return out;
}

function encodePurge({ now, expiredBefore, limit }: PurgeCommand): Uint8Array {
  checkInstant(now, 'now');
  checkInstant(expiredBefore, 'expiredBefore');
  if (!Number.isInteger(limit) || limit < 1 || limit > 0xffffffff) {
    throw new RangeError(`limit must be an integer in 1..2^32-1, got ${limit}`);
  }
  const out = Buffer.allocUnsafe(2 + 8 + 8 + 4);
  let offset = out.writeUInt8(CODEC_VERSION, 0);
  offset = out.writeUInt8(TYPE_PURGE, offset);
  offset = out.writeDoubleBE(now, offset);
  offset = out.writeDoubleBE(expiredBefore, offset);
  out.writeUInt32BE(limit, offset);
  return out;
}

function isUint32(value: number, min: number): boolean {
  return Number.isInteger(value) && value >= min && value <= MAX_UINT32;
}

function encodeVisits({ origin, session, seq, visits }: VisitsCommand): Uint8Array {
  if (!isUint32(origin, 1)) throw new RangeError(`origin must be a node id in 1..2^32-1, got ${origin}`);
  if (!isUint32(session, 0)) throw new RangeError(`session must be a uint32, got ${session}`);
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw new RangeError(`seq must be a positive integer, got ${seq}`);
  if (visits.length === 0 || visits.length > MAX_UINT32) {
    throw new RangeError(`a visits batch holds 1..2^32-1 counts, got ${visits.length}`);
  }
  let size = 2 + 4 + 4 + 8 + 4;
  const codeBytes = visits.map((v) => {
    const bytes = checkedCodeBytes(v.code);
    checkInstant(v.createdAt, 'createdAt');
    if (!Number.isInteger(v.day) || v.day < 0 || v.day > MAX_VISIT_DAY) {
      throw new RangeError(`day must be an integer in 0..${MAX_VISIT_DAY}, got ${v.day}`);
    }
    if (!isUint32(v.count, 1)) throw new RangeError(`count must be in 1..2^32-1, got ${v.count}`);
    size += 1 + bytes + 8 + 4 + 4;
    return bytes;
  });
  const out = Buffer.allocUnsafe(size);
  let offset = out.writeUInt8(CODEC_VERSION, 0);
  offset = out.writeUInt8(TYPE_VISITS, offset);
  offset = out.writeUInt32BE(origin, offset);
  offset = out.writeUInt32BE(session, offset);
  offset = out.writeDoubleBE(seq, offset);
  offset = out.writeUInt32BE(visits.length, offset);
  visits.forEach((v, i) => {
    offset = out.writeUInt8(codeBytes[i]!, offset);
    offset += out.write(v.code, offset, 'utf8');
    offset = out.writeDoubleBE(v.createdAt, offset);
    offset = out.writeUInt32BE(v.day, offset);
    offset = out.writeUInt32BE(v.count, offset);
  });
  return out;
}

// ------------------------------------------------------------------------------------ decoding

function readCode(reader: ByteReader): string {
  const codeLength = reader.uint8('code length');
  if (codeLength === 0) throw reader.error('code is empty');
  return reader.utf8(codeLength, 'code');
}

function readInstant(reader: ByteReader, field: string): number {
  const value = reader.float64(field);
  if (!Number.isFinite(value)) throw reader.error(`${field} is not a finite number`);
  return value;
}

function readExpiry(reader: ByteReader, field: string): number {
  const value = readInstant(reader, field);
  if (value < 0) throw reader.error(`${field} is negative`);
  return value;
}

function decodeCreate(reader: ByteReader): CreateCommand {
  const createdAt = readInstant(reader, 'createdAt');
  const code = readCode(reader);
  const url = reader.utf8(reader.uint32('url length'), 'url');
  reader.end();
  return { type: 'create', code, url, createdAt };
}

function decodeCreateExt(reader: ByteReader): CreateCommand {
  const createdAt = readInstant(reader, 'createdAt');
  const flags = reader.uint8('flags');
  if ((flags & ~KNOWN_FLAGS) !== 0) throw reader.error(`unknown create flags ${flags}`);
  const code = readCode(reader);
  const url = reader.utf8(reader.uint32('url length'), 'url');
  const cmd: CreateCommand = { type: 'create', code, url, createdAt };
  if (flags & FLAG_ALIAS) cmd.alias = true;
  if (flags & FLAG_EXPIRES) cmd.expiresAt = readExpiry(reader, 'expiresAt');
  if (flags & FLAG_IDEMPOTENCY) {
    const keyLength = reader.uint8('idempotency key length');
    if (keyLength === 0) throw reader.error('idempotency key is empty');
    const key = reader.utf8(keyLength, 'idempotency key');
    const fingerprint = reader.utf8(reader.uint8('fingerprint length'), 'fingerprint');
    const expiresAt = readExpiry(reader, 'idempotency expiresAt');
    cmd.idempotency = { key, fingerprint, expiresAt };
  }
  if (flags & FLAG_TAGS) {
    cmd.tags = readTags(reader);
    if (cmd.tags.length === 0) throw reader.error('a tagged create has no tags');
  }
  if (flags & FLAG_MAX_VISITS) cmd.maxVisits = readMaxVisits(reader);
  reader.end();
  return cmd;
}

function readTags(reader: ByteReader): string[] {
  const n = reader.uint8('tag count');
  const tags: string[] = [];
  for (let i = 0; i < n; i++) tags.push(reader.utf8(reader.uint8('tag length'), 'tag'));
  if (!isCanonicalTagList(tags)) throw reader.error('the tags are not distinct, sorted and valid');
  return tags;
}

function readMaxVisits(reader: ByteReader): number {
  const value = reader.uint32('maxVisits');
  if (value === 0) throw reader.error('maxVisits is 0');
  return value;
}

function decodeUpdate(reader: ByteReader): UpdateCommand {
  const updatedAt = readInstant(reader, 'updatedAt');
  const flags = reader.uint8('flags');
  if (flags === 0 || (flags & ~UPDATE_FLAGS) !== 0) throw reader.error(`bad update flags ${flags}`);
  if (
    (flags & UPDATE_EXPIRES && flags & UPDATE_NO_EXPIRY) ||
    (flags & UPDATE_MAX_VISITS && flags & UPDATE_NO_MAX_VISITS)
  ) {
    throw reader.error(`contradictory update flags ${flags}`);
  }
  const code = readCode(reader);
  const cmd: UpdateCommand = { type: 'update', code, updatedAt };
  if (flags & UPDATE_URL) cmd.url = reader.utf8(reader.uint32('url length'), 'url');
  if (flags & UPDATE_EXPIRES) cmd.expiresAt = readExpiry(reader, 'expiresAt');
  if (flags & UPDATE_NO_EXPIRY) cmd.expiresAt = null;
  if (flags & UPDATE_TAGS) cmd.tags = readTags(reader);
  if (flags & UPDATE_MAX_VISITS) cmd.maxVisits = readMaxVisits(reader);
  if (flags & UPDATE_NO_MAX_VISITS) cmd.maxVisits = null;
  reader.end();
  return cmd;
}

function decodeDelete(reader: ByteReader): DeleteCommand {
  const code = readCode(reader);
  reader.end();
  return { type: 'delete', code };
}

function decodePurge(reader: ByteReader): PurgeCommand {
  const now = readInstant(reader, 'now');
  const expiredBefore = readInstant(reader, 'expiredBefore');
  const limit = reader.uint32('limit');
  if (limit === 0) throw reader.error('limit is 0');
  reader.end();
  return { type: 'purge', now, expiredBefore, limit };
}

function decodeVisits(reader: ByteReader): VisitsCommand {
  const origin = reader.uint32('origin');
  if (origin === 0) throw reader.error('origin is 0');
  const session = reader.uint32('session');
  const seq = reader.float64('seq');
  if (!Number.isSafeInteger(seq) || seq < 1) throw reader.error('seq is not a positive integer');
  const n = reader.uint32('visit count');
  if (n === 0) throw reader.error('the batch is empty');
  const visits: VisitCount[] = [];
  for (let i = 0; i < n; i++) {
    const code = readCode(reader);
    const createdAt = readInstant(reader, 'createdAt');
    const day = reader.uint32('day');
    if (day > MAX_VISIT_DAY) throw reader.error(`day ${day} is past ${MAX_VISIT_DAY}`);
    const count = reader.uint32('count');
    if (count === 0) throw reader.error('count is 0');
    visits.push({ code, createdAt, day, count });
  }
  reader.end();
  return { type: 'visits', origin, session, seq, visits };
}

function assertNever(value: never): never {
  throw new Error(`unhandled command ${JSON.stringify(value)}`);
}
