// An in-memory NodeApi for the HTTP tests: a leader with a URL store that dedups like apply does,
// and switches to make each call fail the way the runtime can.
import {
  CODE_TAKEN,
  ConflictError,
  type ClusterStatus,
  type CreateCommandInput,
  type CreateResult,
  type JoinRequest,
  type MemberInfo,
  type NodeApi,
  type UrlRecord,
} from '../../src/http/node-api.js';

export class FakeNode implements NodeApi {
  readonly byCode = new Map<string, UrlRecord>();
  readonly codeByUrl = new Map<string, string>();
  readonly createCalls: CreateCommandInput[] = [];
  members: MemberInfo[] = [
    { id: 1, httpUrl: 'http://127.0.0.1:8081', raftAddr: '127.0.0.1:9081', voter: true, matchIndex: 7 },
  ];
  ready = true;
  /** When set, the next calls of that method throw (or reject with) this value. */
  readonly fail: {
    create?: unknown;
    lookup?: unknown;
    lookupLinearizable?: unknown;
    status?: unknown;
    addMember?: unknown;
    removeMember?: unknown;
  } = {};
  /** This many creates are answered with code_taken before one is applied. */
  codeTakenReplies = 0;

  async createShortUrl(input: CreateCommandInput): Promise<CreateResult> {
    this.createCalls.push(input);
    if (this.fail.create !== undefined) throw this.fail.create;
    if (this.codeTakenReplies > 0) {
      this.codeTakenReplies--;
      throw new ConflictError(CODE_TAKEN, `code ${input.code} is taken`);
    }
    const existing = this.codeByUrl.get(input.url);
    if (existing !== undefined) return { ...this.byCode.get(existing)!, created: false };
    const record = { code: input.code, url: input.url, createdAt: input.createdAt };
    this.byCode.set(record.code, record);
    this.codeByUrl.set(record.url, record.code);
    return { ...record, created: true };
  }

  lookup(code: string): UrlRecord | undefined {
    if (this.fail.lookup !== undefined) throw this.fail.lookup;
    return this.byCode.get(code);
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
    this.codeByUrl.set(record.url, record.code);
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

  isReady(): boolean {
    return this.ready;
  }
}
