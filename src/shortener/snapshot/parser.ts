// An incremental reader of the snapshot format (format.ts): feed it bytes in pieces of any size
// (network chunks, file reads) and it hands back whole, checksum-verified frames. Used to verify a
// snapshot while it is being received, before anything of it is installed, and again when a file
// is read back from disk.
import { crc32 } from 'node:zlib';
import { isNodeId } from '../../common/node-id.js';
import {
  FRAME_HEADER_BYTES,
  FrameKind,
  MAX_FRAME_BYTES,
  parseRecords,
  SNAPSHOT_MAGIC,
  SnapshotCorruptionError,
  type SnapshotFooter,
  type SnapshotHeader,
  type SnapshotRecord,
} from './format.js';

export type ParsedFrame =
  | { kind: 'header'; header: SnapshotHeader }
  | { kind: 'records'; records: SnapshotRecord[] }
  | { kind: 'footer'; footer: SnapshotFooter };

export class SnapshotParser {
  /**
   * Bytes received but not yet parsed: a frame (or the magic) cut by a chunk boundary. Kept as a
   * list and joined once the frame is complete, so a large frame in small chunks costs linear
   * copying, not one copy of everything so far per chunk.
   */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** How many bytes `parts` must hold before parsing can go on. */
  private needed = 0;
  /** Offset in the whole stream of the first unparsed byte. */
  private offset = 0;
  private header: SnapshotHeader | undefined;
  private footer: SnapshotFooter | undefined;
  private records = 0;

  /** `source` names the file or peer in error messages. */
  constructor(private readonly source: string) {}

  get parsedHeader(): SnapshotHeader | undefined {
    return this.header;
  }

  /** Bytes consumed so far (whole frames only). */
  get position(): number {
    return this.offset;
  }

  /**
   * Adds bytes; returns the frames they complete. Throws SnapshotCorruptionError on any defect.
   * The frames may point into `chunk`: use them before the caller reuses its buffer.
   */
  push(chunk: Uint8Array): ParsedFrame[] {
    const out: ParsedFrame[] = [];
    let bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.partsBytes > 0) {
      // Copied: the caller may reuse its buffer once push returns.
      this.parts.push(Buffer.from(bytes));
      this.partsBytes += bytes.length;
      if (this.partsBytes < this.needed) return out;
      bytes = Buffer.concat(this.parts, this.partsBytes);
      this.parts = [];
      this.partsBytes = 0;
    }
    let p = 0;
    if (this.offset === 0) {
      if (bytes.length < SNAPSHOT_MAGIC.length) return this.keep(bytes, SNAPSHOT_MAGIC.length, out);
      if (!bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) {
        throw this.corrupt(0, 'not a snapshot file (bad magic bytes)');
      }
      p = SNAPSHOT_MAGIC.length;
      this.offset = p;
    }
    while (bytes.length - p >= FRAME_HEADER_BYTES) {
      const length = bytes.readUInt32LE(p);
      if (length === 0 || length > MAX_FRAME_BYTES)
        throw this.corrupt(this.offset, `bad frame length ${length}`);
      if (bytes.length - p < FRAME_HEADER_BYTES + length) {
        return this.keep(bytes.subarray(p), FRAME_HEADER_BYTES + length, out);
      }
      const payload = bytes.subarray(p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + length);
      const stored = bytes.readUInt32LE(p + 4);
      if (crc32(payload) !== stored) throw this.corrupt(this.offset, 'checksum mismatch');
      out.push(this.decode(payload));
      p += FRAME_HEADER_BYTES + length;
      this.offset += FRAME_HEADER_BYTES + length;
    }
    return this.keep(bytes.subarray(p), FRAME_HEADER_BYTES, out);
  }

  /** Call at the end of the bytes: the snapshot must be complete. Returns its header. */
  finish(): SnapshotHeader {
    if (this.partsBytes > 0 && this.footer === undefined) {
      throw this.corrupt(this.offset, `ends inside a frame (${this.partsBytes} bytes left over)`);
    }
    if (this.partsBytes > 0) throw this.corrupt(this.offset, 'bytes after the footer');
    if (this.header === undefined) throw this.corrupt(this.offset, 'no header: the snapshot is empty or cut');
    if (this.footer === undefined) throw this.corrupt(this.offset, 'no footer: the snapshot is cut short');
    return this.header;
  }

  /** Holds an unparsed tail (copied) until `needed` bytes are there. */
  private keep(rest: Buffer, needed: number, out: ParsedFrame[]): ParsedFrame[] {
    if (rest.length > 0) {
      this.parts = [Buffer.from(rest)];
      this.partsBytes = rest.length;
      this.needed = needed;
    }
    return out;
  }

  private decode(payload: Buffer): ParsedFrame {
    const at = this.offset;
    const kind = payload[0];
    const body = payload.subarray(1);
    if (this.footer !== undefined) throw this.corrupt(at, 'frame after the footer');
    if (kind === FrameKind.Header) {
      if (this.header !== undefined) throw this.corrupt(at, 'second header');
      this.header = parseHeader(body, this.source, at);
      return { kind: 'header', header: this.header };
    }
    if (this.header === undefined) throw this.corrupt(at, 'first frame is not a header');
    if (kind === FrameKind.Records) {
      const records = parseRecords(body, this.source, at);
      for (const r of records) {
        if (r.table >= this.header.tables.length)
          throw this.corrupt(at, `record of unknown table ${r.table}`);
      }
      this.records += records.length;
      return { kind: 'records', records };
    }
    if (kind === FrameKind.Footer) {
      const footer = parseJson(body, this.source, at) as SnapshotFooter;
      if (footer.records !== this.records) {
        throw this.corrupt(at, `footer counts ${footer.records} records, the frames held ${this.records}`);
      }
      this.footer = footer;
      return { kind: 'footer', footer };
    }
    throw this.corrupt(at, `unknown frame kind ${kind}`);
  }

  private corrupt(at: number, detail: string): SnapshotCorruptionError {
    return new SnapshotCorruptionError(this.source, at, detail);
  }
}

function parseJson(body: Buffer, source: string, at: number): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new SnapshotCorruptionError(source, at, 'unreadable JSON frame');
  }
}

function isSnapshotMember(m: unknown): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const { id, httpUrl, raftAddr, nodeUuid } = m as Record<string, unknown>;
  return (
    isNodeId(id) &&
    typeof httpUrl === 'string' &&
    typeof raftAddr === 'string' &&
    (nodeUuid === undefined || typeof nodeUuid === 'string')
  );
}

function parseHeader(body: Buffer, source: string, at: number): SnapshotHeader {
  const h = parseJson(body, source, at) as Partial<SnapshotHeader>;
  const isIndex = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (
    h.format !== 1 ||
    !isIndex(h.index) ||
    !isIndex(h.term) ||
    !Array.isArray(h.tables) ||
    !Array.isArray(h.members) ||
    !h.confState ||
    !Array.isArray(h.confState.voters) ||
    !Array.isArray(h.confState.learners) ||
    // Ids become conf state and peer addresses on the receiver: they must fit the wire's uint32.
    ![...h.confState.voters, ...h.confState.learners].every(isNodeId) ||
    !h.members.every(isSnapshotMember)
  ) {
    throw new SnapshotCorruptionError(
      source,
      at,
      'header lacks format 1, index, term, tables, valid members or a valid confState',
    );
  }
  return h as SnapshotHeader;
}
