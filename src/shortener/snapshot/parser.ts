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
  private pending: Buffer = Buffer.alloc(0);
  /** Offset in the whole stream of pending[0]. */
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

  /** Adds bytes; returns the frames they complete. Throws SnapshotCorruptionError on any defect. */
  push(chunk: Uint8Array): ParsedFrame[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const out: ParsedFrame[] = [];
    if (this.offset === 0) {
      if (this.pending.length < SNAPSHOT_MAGIC.length) return out;
      if (!this.pending.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) {
        throw this.corrupt(0, 'not a snapshot file (bad magic bytes)');
      }
      this.consume(SNAPSHOT_MAGIC.length);
    }
    while (this.pending.length >= FRAME_HEADER_BYTES) {
      const length = this.pending.readUInt32LE(0);
      if (length === 0 || length > MAX_FRAME_BYTES)
        throw this.corrupt(this.offset, `bad frame length ${length}`);
      if (this.pending.length < FRAME_HEADER_BYTES + length) break;
      const payload = this.pending.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      const stored = this.pending.readUInt32LE(4);
      if (crc32(payload) !== stored) throw this.corrupt(this.offset, 'checksum mismatch');
      out.push(this.decode(payload));
      this.consume(FRAME_HEADER_BYTES + length);
    }
    return out;
  }

  /** Call at the end of the bytes: the snapshot must be complete. Returns its header. */
  finish(): SnapshotHeader {
    if (this.pending.length > 0 && this.footer === undefined) {
      throw this.corrupt(this.offset, `ends inside a frame (${this.pending.length} bytes left over)`);
    }
    if (this.pending.length > 0) throw this.corrupt(this.offset, 'bytes after the footer');
    if (this.header === undefined) throw this.corrupt(this.offset, 'no header: the snapshot is empty or cut');
    if (this.footer === undefined) throw this.corrupt(this.offset, 'no footer: the snapshot is cut short');
    return this.header;
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

  private consume(bytes: number): void {
    this.pending = this.pending.subarray(bytes);
    this.offset += bytes;
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
