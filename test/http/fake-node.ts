// An in-memory NodeApi (and VisitsApi) for the HTTP tests: a leader with a URL store that follows
// apply's rules (dedup of plain creates, aliases, expiry instants, idempotency keys, delete), and
// switches to make each call fail the way the runtime can. Visits are recorded, not aggregated:
// tests set the statistics a code shows in `visitSummaries`.
import type { NodeApi } from '../../src/http/node-api.js';
import type { ClusterStatus, JoinRequest, MemberInfo } from '../../src/domain/cluster-status.js';
import { IdempotencyKeyReusedError, aliasTaken } from '../../src/domain/errors.js';
import {
  isExpired,
  type CreateRequest,
  type CreateResult,
  type ListPage,
  type ListQuery,
  type UpdateCommandInput,
  type UpdateOutcome,
  type UrlRecord,
} from '../../src/domain/records.js';
import { newCode } from '../../src/shortener/code-generator.js';
import type { VisitBatchOutcome, VisitsApi, VisitSummary } from '../../src/http/visits-api.js';
import type { VisitsCommand } from '../../src/shortener/commands.js';
import { positionOf } from '../../src/shortener/link-index.js';

export class FakeNode implements NodeApi, VisitsApi {
  readonly byCode = new Map<string, UrlRecord>();
  readonly codeByUrl = new Map<string, string>();
  /** The creates as HTTP asked for them (the fake picks codes as the link service does). */
  readonly createCalls: CreateRequest[] = [];
  readonly deleteCalls: string[] = [];
  readonly updateCalls: UpdateCommandInput[] = [];
  readonly keys = new Map<string, { fingerprint: string; expiresAt: number; result: CreateResult }>();
  members: MemberInfo[] = [
    { id: 1, httpUrl: 'http://127.0.0.1:8081', raftAddr: '127.0.0.1:9081', voter: true, matchIndex: 7 },
  ];
  ready = true;
  readyForRedirects = true;
  /** When set, the next calls of that method throw (or reject with) this value. */
  readonly fail: {
    create?: unknown;
    lookup?: unknown;
    lookupLinearizable?: unknown;
    status?: unknown;
    addMember?: unknown;
    removeMember?: unknown;
    delete?: unknown;
    update?: unknown;
    visitBatch?: unknown;
  } = {};
  async createShortUrl(input: CreateRequest): Promise<CreateResult> {
    this.createCalls.push(input);
    if (this.fail.create !== undefined) throw this.fail.create;
    const code = input.alias ?? newCode();
    const stamp = input.idempotency;
    if (stamp !== undefined) {
      const seen = this.keys.get(stamp.key);
      if (seen !== undefined && seen.expiresAt > input.createdAt) {
        if (seen.fingerprint !== stamp.fingerprint) throw new IdempotencyKeyReusedError();
        return { ...seen.result, replayed: true };
      }
    }
    const plain =
      !input.alias &&
      input.expiresAt === undefined &&
      input.tags === undefined &&
      input.maxVisits === undefined;
    let result: CreateResult;
    const existing = plain ? this.codeByUrl.get(input.url) : undefined;
    if (existing !== undefined) {
      result = { ...this.byCode.get(existing)!, created: false };
    } else {
      const taken = this.byCode.get(code);
      if (taken && !isExpired(taken, input.createdAt)) throw aliasTaken(code);
      const record: UrlRecord = { code, url: input.url, createdAt: input.createdAt };
      if (input.expiresAt !== undefined) record.expiresAt = input.expiresAt;
      if (input.alias) record.alias = true;
      if (input.tags !== undefined) record.tags = input.tags;
      if (input.maxVisits !== undefined) record.maxVisits = input.maxVisits;
      this.byCode.set(record.code, record);
      if (plain) this.codeByUrl.set(record.url, record.code);
      result = { ...record, created: true };
    }
    if (stamp !== undefined)
      this.keys.set(stamp.key, { fingerprint: stamp.fingerprint, expiresAt: stamp.expiresAt, result });
    return result;
  }

  async deleteShortUrl(code: string): Promise<boolean> {
    this.deleteCalls.push(code);
    if (this.fail.delete !== undefined) throw this.fail.delete;
    const record = this.byCode.get(code);
    if (record === undefined) return false;
    this.byCode.delete(code);
    if (this.codeByUrl.get(record.url) === code) this.codeByUrl.delete(record.url);
    return true;
  }

  /** The fields as apply sets them (the store's tests cover the indexes). */
  async updateShortUrl(input: UpdateCommandInput): Promise<UpdateOutcome> {
    this.updateCalls.push(input);
    if (this.fail.update !== undefined) throw this.fail.update;
    const record = this.byCode.get(input.code);
    if (record === undefined) return { refused: 'not_found' };
    if (record.expiresAt !== undefined && record.expiresAt <= input.updatedAt) {
      return { refused: 'expired', expiresAt: record.expiresAt };
    }
    const next: UrlRecord = { ...record };
    if (input.url !== undefined) next.url = input.url;
    if (input.expiresAt === null) delete next.expiresAt;
    else if (input.expiresAt !== undefined) next.expiresAt = input.expiresAt;
    if (input.tags !== undefined) {
      if (input.tags.length > 0) next.tags = input.tags;
      else delete next.tags;
    }
    if (input.maxVisits === null) delete next.maxVisits;
    else if (input.maxVisits !== undefined) next.maxVisits = input.maxVisits;
    this.byCode.set(next.code, next);
    return { record: next };
  }

  /** The store's order (its tests cover the index); every record is read, which a fake may do. */
  listShortUrls(query: ListQuery): ListPage {
    const q = query.q?.toLowerCase();
    const all = [...this.byCode.values()]
      .map((r) => ({ r, at: positionOf(r.createdAt, r.code) }))
      .filter(({ at }) => query.cursor === undefined || Buffer.compare(at, query.cursor) > 0)
      .filter(({ r }) => query.tag === undefined || (r.tags ?? []).includes(query.tag))
      .filter(({ r }) => q === undefined || `${r.code} ${r.url}`.toLowerCase().includes(q))
      .sort((a, b) => Buffer.compare(a.at, b.at));
    const page = all.slice(0, query.limit);
    const more = all.length > query.limit;
    return { records: page.map((p) => p.r), ...(more ? { next: page[page.length - 1]!.at } : {}) };
  }

  lookup(code: string): UrlRecord | undefined {
    if (this.fail.lookup !== undefined) throw this.fail.lookup;
    return this.byCode.get(code);
  }

  /** Misses looked up again; `appearAfterMiss` is applied before the second look (a follower catching up). */
  readonly missLookups: string[] = [];
  appearAfterMiss: UrlRecord | undefined;

  async lookupAfterMiss(code: string): Promise<UrlRecord | undefined> {
    this.missLookups.push(code);
    if (this.appearAfterMiss !== undefined) this.seed(this.appearAfterMiss);
    return this.lookup(code);
  }

  /** How many linearizable reads were asked for (they must not be served by lookup()). */
  linearizableReads = 0;

  async lookupLinearizable(code: string): Promise<UrlRecord | undefined> {
    this.linearizableReads++;
    if (this.fail.lookupLinearizable !== undefined) throw this.fail.lookupLinearizable;
    return this.byCode.get(code);
  }

  /** Puts a record in the store as if a create had been applied. */
  seed(record: UrlRecord): void {
    this.byCode.set(record.code, record);
    if (!record.alias && record.expiresAt === undefined) this.codeByUrl.set(record.url, record.code);
  }

  /** Backups stream these bytes. */
  backupBytes: Iterable<Uint8Array> = [Buffer.from('URLSNAP\x01'), Buffer.from('rest of a snapshot')];
  backupsClosed = 0;

  exportsClosed = 0;

  /** The records as they are now, in code order (as LMDB keeps them), at index 7. */
  async exportLinks(): Promise<{ index: number; records(): Iterable<UrlRecord>; close(): void }> {
    const records = [...this.byCode.values()].sort((a, b) =>
      a.code < b.code ? -1 : a.code > b.code ? 1 : 0,
    );
    return {
      index: 7,
      records: () => records,
      close: () => {
        this.exportsClosed++;
      },
    };
  }

  async backup(): Promise<{ index: number; term: number; bytes: AsyncIterable<Uint8Array>; close(): void }> {
    const parts = this.backupBytes;
    return {
      index: 7,
      term: 3,
      bytes: (async function* () {
        yield* parts;
      })(),
      close: () => {
        this.backupsClosed++;
      },
    };
  }

  status(): ClusterStatus {
    if (this.fail.status !== undefined) throw this.fail.status;
    return {
      id: 1,
      clusterId: 'c0ffee',
      role: 'leader',
      term: 3,
      leaderId: 1,
      leaderUrl: 'http://127.0.0.1:8081',
      commitIndex: 7,
      appliedIndex: 7,
      snapshotIndex: 0,
      members: this.members,
    };
  }

  async addMember(request: JoinRequest): Promise<MemberInfo[]> {
    if (this.fail.addMember !== undefined) throw this.fail.addMember;
    this.members = [...this.members, { ...request, voter: false, matchIndex: 0 }];
    return this.members;
  }

  async removeMember(id: number): Promise<MemberInfo[]> {
    if (this.fail.removeMember !== undefined) throw this.fail.removeMember;
    this.members = this.members.filter((m) => m.id !== id);
    return this.members;
  }

  isReadyForRedirects(): boolean {
    return this.readyForRedirects;
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Redirects the routes counted, in order. */
  readonly recordedVisits: Array<{ code: string; createdAt: number }> = [];
  /** What visitsOf answers per code (default: none). */
  readonly visitSummaries = new Map<string, VisitSummary>();
  /** Batches handed to acceptVisitBatch. */
  readonly visitBatches: VisitsCommand[] = [];

  /** Every visit recorded here counts at once (no batches): the store's tests cover the replicated total. */
  visitLimitReached(record: UrlRecord): boolean {
    if (record.maxVisits === undefined) return false;
    const served = this.recordedVisits.filter(
      (v) => v.code === record.code && v.createdAt === record.createdAt,
    );
    return served.length >= record.maxVisits;
  }

  recordVisit(code: string, createdAt: number): void {
    this.recordedVisits.push({ code, createdAt });
  }

  visitsOf(code: string): VisitSummary {
    return this.visitSummaries.get(code) ?? { total: 0, byDay: {} };
  }

  async acceptVisitBatch(batch: VisitsCommand): Promise<VisitBatchOutcome> {
    this.visitBatches.push(batch);
    if (this.fail.visitBatch !== undefined) throw this.fail.visitBatch;
    return { applied: true, counted: batch.visits.reduce((sum, v) => sum + v.count, 0) };
  }
}
