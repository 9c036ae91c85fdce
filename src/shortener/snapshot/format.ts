// The snapshot file format: the URL store's LMDB sub-databases, copied key by key, in checksummed
// frames. The same bytes are a snapshot on disk, the InstallSnapshot stream between nodes, and a
// backup taken over HTTP, so one parser guards all three.
//
//   file    := MAGIC frame*
//   frame   := u32le payload length | u32le crc32(payload) | payload
//   payload := kind byte | body
//     kind 1 HEADER   JSON (SnapshotHeader), first frame
//     kind 2 RECORDS  repeated (u8 table | u32le key length | key | u32le value length | value)
//     kind 3 FOOTER   JSON ({ records }), last frame; nothing may follow it
//
// A frame is small (RECORDS frames are cut at about FRAME_TARGET_BYTES), so a reader holds at most
// one frame in memory whatever the snapshot's size.
import { crc32 } from 'node:zlib';

export const SNAPSHOT_MAGIC = Buffer.from('URLSNAP\x01', 'latin1');
export const FRAME_HEADER_BYTES = 8;
export const FRAME_TARGET_BYTES = 64 * 1024;
/** Refuse frames larger than this: a corrupt length field must not make us allocate gigabytes. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export const enum FrameKind {
  Header = 1,
  Records = 2,
  Footer = 3,
}

export interface SnapshotMember {
  id: number;
  httpUrl: string;
  raftAddr: string;
  /** The member's node UUID, which binds its id to its data (absent for older members). */
  nodeUuid?: string;
}

/** What a snapshot says about itself. */
export interface SnapshotHeader {
  format: 1;
  /** The Raft index the data reflects (the store's applied index in the read transaction). */
  index: number;
  /** Term of the entry at `index`. */
  term: number;
  /** Membership once entries up to `index` are applied. */
  confState: { voters: number[]; learners: number[] };
  /** Where to reach the members (the log entries that said so may be compacted away). */
  members: SnapshotMember[];
  /** Names of the LMDB sub-databases, in the order RECORDS frames number them. */
  tables: string[];
  /** The cluster the data comes from (informational: a restore starts a new cluster). */
  clusterId: string;
  createdAt: string;
}

export interface SnapshotFooter {
  records: number;
}

export class SnapshotCorruptionError extends Error {
  constructor(
    readonly source: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`snapshot ${source} is damaged at byte ${offset}: ${detail}`);
    this.name = 'SnapshotCorruptionError';
  }
}

export function frame(kind: FrameKind, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + body.length);
  out.writeUInt32LE(1 + body.length, 0);
  out[FRAME_HEADER_BYTES] = kind;
  body.copy(out, FRAME_HEADER_BYTES + 1);
  out.writeUInt32LE(crc32(out.subarray(FRAME_HEADER_BYTES)), 4);
  return out;
}

export function jsonFrame(kind: FrameKind.Header | FrameKind.Footer, value: unknown): Buffer {
  return frame(kind, Buffer.from(JSON.stringify(value), 'utf8'));
}

/** Builds RECORDS frames of about FRAME_TARGET_BYTES from (table, key, value) triples. */
export class RecordsFrameBuilder {
  private parts: Buffer[] = [];
  private bytes = 0;

  /** Adds one record; returns a finished frame when the current one is full. */
  add(table: number, key: Uint8Array, value: Uint8Array): Buffer | undefined {
    const head = Buffer.allocUnsafe(5);
    head[0] = table;
    head.writeUInt32LE(key.byteLength, 1);
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32LE(value.byteLength, 0);
    // Copies: LMDB hands out views into its memory map, valid only until the cursor moves.
    this.parts.push(head, Buffer.from(key), len, Buffer.from(value));
    this.bytes += 9 + key.byteLength + value.byteLength;
    return this.bytes >= FRAME_TARGET_BYTES ? this.take() : undefined;
  }

  /** The pending records as a frame, or undefined when there are none. */
  take(): Buffer | undefined {
    if (this.bytes === 0) return undefined;
    const body = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    return frame(FrameKind.Records, body);
  }
}

export interface SnapshotRecord {
  table: number;
  key: Buffer;
  value: Buffer;
}

/** Splits a RECORDS body; `at` is the frame's offset, for error messages. */
export function parseRecords(body: Buffer, source: string, at: number): SnapshotRecord[] {
  const out: SnapshotRecord[] = [];
  let p = 0;
  while (p < body.length) {
    if (p + 5 > body.length) throw new SnapshotCorruptionError(source, at, 'truncated record');
    const table = body[p]!;
    const keyLength = body.readUInt32LE(p + 1);
    p += 5;
    if (p + keyLength + 4 > body.length)
      throw new SnapshotCorruptionError(source, at, 'truncated record key');
    const key = body.subarray(p, p + keyLength);
    p += keyLength;
    const valueLength = body.readUInt32LE(p);
    p += 4;
    if (p + valueLength > body.length)
      throw new SnapshotCorruptionError(source, at, 'truncated record value');
    out.push({ table, key, value: body.subarray(p, p + valueLength) });
    p += valueLength;
  }
  return out;
}
