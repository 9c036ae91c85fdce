// Checks what a snapshot holds, not just that its frames are intact: checksums prove the bytes
// are the ones the sender wrote, not that the sender wrote a store this node can serve. A leader
// with a bug, a hostile peer or a hand-edited backup could otherwise install records that answer
// every GET with a broken Location, index entries whose lookup throws while applying a later
// command (which stops the node), or member ids that do not fit the wire. Fed the parser's frames
// in order, it refuses the snapshot before it replaces anything.
import { MAX_CODE_BYTES } from '../commands.js';
import { decodeIdempotencyRecord } from '../idempotency-record.js';
import {
  EXPIRY_KIND_IDEMPOTENCY_KEY,
  EXPIRY_KIND_URL,
  parseExpiryKey,
  STORE_DB_NAMES,
} from '../store-layout.js';
import { decodeUrlRecord } from '../url-record.js';
import { validateLongUrl } from '../validate-url.js';
import { decodeVisitStats } from '../visit-stats.js';
import { SnapshotCorruptionError, type SnapshotHeader, type SnapshotRecord } from './format.js';
import type { ParsedFrame } from './parser.js';

const KNOWN_TABLES: ReadonlySet<string> = new Set(Object.values(STORE_DB_NAMES));
const MAX_NODE_ID = 2 ** 32 - 1;
const URL_KEY_BYTES = 32; // sha256
const EXPIRY_KEY_HEADER_BYTES = 9; // kind byte + float64 instant

function isNodeId(id: unknown): boolean {
  return Number.isInteger(id) && (id as number) >= 1 && (id as number) <= MAX_NODE_ID;
}

export class SnapshotContentCheck {
  private tables: string[] = [];
  /** Codes of the `urls` table and keys of the `idempotency` table seen so far. */
  private readonly codes = new Set<string>();
  private readonly idempotencyKeys = new Set<string>();
  /** Index entries whose record has not been seen (yet): the tables may come in any order. */
  private readonly danglingCodes = new Set<string>();
  private readonly danglingKeys = new Set<string>();

  /** `source` names the file or peer in error messages. */
  constructor(private readonly source: string) {}

  /** Checks the frames the parser returned; `at` is where they start, for error messages. */
  add(frames: ParsedFrame[], at: number): void {
    for (const f of frames) {
      if (f.kind === 'header') this.checkHeader(f.header, at);
      else if (f.kind === 'records') for (const r of f.records) this.checkRecord(r, at);
    }
  }

  /** Call once every frame was added: every index entry must have found its record. */
  finish(at: number): void {
    const code = this.danglingCodes.values().next();
    if (!code.done)
      throw this.refuse(
        at,
        `an index entry points at code ${JSON.stringify(code.value)}, which has no record`,
      );
    const key = this.danglingKeys.values().next();
    if (!key.done)
      throw this.refuse(
        at,
        `an expiry entry points at idempotency key ${JSON.stringify(key.value)}, which has no record`,
      );
  }

  private checkHeader(h: SnapshotHeader, at: number): void {
    for (const name of h.tables) {
      if (!KNOWN_TABLES.has(name))
        throw this.refuse(at, `table "${String(name)}" is not one this version knows`);
    }
    if (new Set(h.tables).size !== h.tables.length) throw this.refuse(at, 'a table is named twice');
    this.tables = h.tables;
    const { voters, learners } = h.confState;
    if (voters.length === 0) throw this.refuse(at, 'the membership has no voter');
    for (const id of [...voters, ...learners]) {
      if (!isNodeId(id))
        throw this.refuse(at, `member id ${JSON.stringify(id)} is outside 1..${MAX_NODE_ID}`);
    }
    for (const m of h.members) {
      if (!isNodeId(m?.id) || typeof m.httpUrl !== 'string' || typeof m.raftAddr !== 'string')
        throw this.refuse(at, `member ${JSON.stringify(m)} lacks a valid id, httpUrl or raftAddr`);
    }
  }

  private checkRecord(r: SnapshotRecord, at: number): void {
    switch (this.tables[r.table]) {
      case STORE_DB_NAMES.urls:
        return this.checkUrl(this.text(r.key, at, 'code'), r.value, at);
      case STORE_DB_NAMES.urlCodes:
        if (r.key.length !== URL_KEY_BYTES) throw this.refuse(at, `url-codes key of ${r.key.length} bytes`);
        return this.reference(this.text(r.value, at, 'code'), this.codes, this.danglingCodes);
      case STORE_DB_NAMES.expiry:
        return this.checkExpiry(r.key, at);
      case STORE_DB_NAMES.idempotency: {
        const key = this.text(r.key, at, 'idempotency key');
        this.decodes(() => decodeIdempotencyRecord(key, r.value), at);
        this.idempotencyKeys.add(key);
        this.danglingKeys.delete(key);
        return;
      }
      case STORE_DB_NAMES.visits: {
        const code = this.text(r.key, at, 'code');
        this.decodes(() => decodeVisitStats(code, r.value), at);
        return;
      }
      default:
        // visit-batches and sm-meta: LMDB-encoded numbers the store reads back itself.
        return;
    }
  }

  private checkUrl(code: string, value: Buffer, at: number): void {
    if (Buffer.byteLength(code, 'utf8') > MAX_CODE_BYTES)
      throw this.refuse(at, `code of more than ${MAX_CODE_BYTES} bytes`);
    const record = this.decodes(() => decodeUrlRecord(code, value), at);
    // What is stored is sent as the Location header: it must be what the API itself would store.
    const valid = validateLongUrl(record.url);
    if (!valid.ok || valid.url !== record.url) {
      throw this.refuse(
        at,
        `code ${JSON.stringify(code)} holds ${JSON.stringify(record.url.slice(0, 200))}, not a valid http(s) URL`,
      );
    }
    if (
      !Number.isFinite(record.createdAt) ||
      (record.expiresAt !== undefined && !(record.expiresAt >= 0 && Number.isFinite(record.expiresAt)))
    ) {
      throw this.refuse(at, `code ${JSON.stringify(code)} has an invalid creation or expiry time`);
    }
    this.codes.add(code);
    this.danglingCodes.delete(code);
  }

  private checkExpiry(key: Buffer, at: number): void {
    if (key.length <= EXPIRY_KEY_HEADER_BYTES) throw this.refuse(at, 'expiry key too short');
    const { kind, at: instant } = parseExpiryKey(key);
    if (!Number.isFinite(instant) || instant < 0) throw this.refuse(at, 'expiry key with an invalid instant');
    const id = this.text(key.subarray(EXPIRY_KEY_HEADER_BYTES), at, 'expiry id');
    if (kind === EXPIRY_KIND_URL) this.reference(id, this.codes, this.danglingCodes);
    else if (kind === EXPIRY_KIND_IDEMPOTENCY_KEY)
      this.reference(id, this.idempotencyKeys, this.danglingKeys);
    else throw this.refuse(at, `expiry entry of unknown kind ${kind}`);
  }

  private reference(id: string, present: Set<string>, dangling: Set<string>): void {
    if (!present.has(id)) dangling.add(id);
  }

  /** Keys and ids are UTF-8 text: bytes that do not round-trip are not something we wrote. */
  private text(bytes: Buffer, at: number, what: string): string {
    const text = bytes.toString('utf8');
    if (text.length === 0 || Buffer.byteLength(text, 'utf8') !== bytes.length || text.includes('\uFFFD'))
      throw this.refuse(at, `${what} is empty or not valid UTF-8`);
    return text;
  }

  private decodes<T>(decode: () => T, at: number): T {
    try {
      return decode();
    } catch (err) {
      throw this.refuse(at, (err as Error).message);
    }
  }

  private refuse(at: number, detail: string): SnapshotCorruptionError {
    return new SnapshotCorruptionError(this.source, at, detail);
  }
}
