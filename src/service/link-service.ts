// Short URLs: create (choosing a free code), delete, and the three ways to read one. Writes are
// commands proposed through Raft and answered once applied on this (leader) node; reads come from
// this node's copy of the store.
import { newCode } from '../shortener/code-generator.js';
import type { CreateCommand, UpdateCommand } from '../shortener/commands.js';
import type { UrlStore } from '../shortener/url-store.js';
import { Role } from '../raft/index.js';
import { CODE_TAKEN, ConflictError, IdempotencyKeyReusedError, aliasTaken } from '../domain/errors.js';
import { ReadBarrier } from './read-barrier.js';
import type {
  CreateCommandInput,
  CreateRequest,
  CreateResult,
  ListPage,
  ListQuery,
  UpdateCommandInput,
  UpdateOutcome,
  UrlRecord,
} from '../domain/records.js';
import { proposeCommand, translateRuntimeErrors, type UrlRuntime } from './runtime-calls.js';

/**
 * A collision of random codes is vanishingly rare; several in a row mean something is broken
 * (e.g. a generator with too little entropy), which should surface as a logged 500, not a loop.
 */
export const MAX_CODE_ATTEMPTS = 4;

/** How long a redirect miss on a follower may wait for its ReadIndex round before the local 404. */
export const DEFAULT_MISS_CHECK_TIMEOUT_MS = 1_000;

export interface LinkServiceOptions {
  /** A linearizable read fails after this long without a ReadIndex answer (504). */
  readTimeoutMs: number;
  missCheckTimeoutMs?: number;
  /** Where generated codes come from (tests make collisions with it). */
  newCode?: () => string;
}

export type LinkRuntime = Pick<UrlRuntime, 'propose' | 'readIndex' | 'role' | 'member'>;

export class LinkService {
  private readonly missBarrier: ReadBarrier;
  private readonly readTimeoutMs: number;
  private readonly newCode: () => string;

  constructor(
    private readonly runtime: LinkRuntime,
    private readonly store: Pick<UrlStore, 'get' | 'list'>,
    options: LinkServiceOptions,
  ) {
    this.readTimeoutMs = options.readTimeoutMs;
    this.newCode = options.newCode ?? newCode;
    this.missBarrier = new ReadBarrier(
      (t) => this.runtime.readIndex(t),
      options.missCheckTimeoutMs ?? DEFAULT_MISS_CHECK_TIMEOUT_MS,
    );
  }

  /**
   * Creates under the client's alias, or under a fresh code: a generated code that apply finds
   * taken by another URL is retried with a new one, up to MAX_CODE_ATTEMPTS.
   */
  async createShortUrl(request: CreateRequest): Promise<CreateResult> {
    const { alias, ...rest } = request;
    if (alias !== undefined) return this.createWithCode({ ...rest, code: alias, alias: true });
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createWithCode({ ...rest, code: this.newCode() });
      } catch (err) {
        if (!(err instanceof ConflictError && err.errorCode === CODE_TAKEN)) throw err;
        if (attempt >= MAX_CODE_ATTEMPTS) {
          throw new Error(`no free code after ${MAX_CODE_ATTEMPTS} attempts`, { cause: err });
        }
      }
    }
  }

  /**
   * One create under exactly this code: a taken code is a ConflictError(CODE_TAKEN), not retried.
   * For callers that choose codes themselves (the snapshot bench's deterministic history).
   */
  async createWithCode(input: CreateCommandInput): Promise<CreateResult> {
    const command: CreateCommand = {
      type: 'create',
      code: input.code,
      url: input.url,
      createdAt: input.createdAt,
    };
    if (input.alias) command.alias = true;
    if (input.expiresAt !== undefined) command.expiresAt = input.expiresAt;
    if (input.idempotency !== undefined) command.idempotency = { ...input.idempotency };
    if (input.tags !== undefined && input.tags.length > 0) command.tags = [...input.tags];
    if (input.maxVisits !== undefined) command.maxVisits = input.maxVisits;
    const result = await proposeCommand(this.runtime, command);
    if (!result || (!('created' in result) && !('error' in result))) {
      throw new Error('the state machine returned no create result for a create command');
    }
    if ('error' in result) {
      switch (result.error) {
        case 'code_taken':
          throw new ConflictError(CODE_TAKEN, `code ${result.code} is already taken`);
        case 'alias_taken':
          throw aliasTaken(result.code);
        case 'idempotency_key_reused':
          throw new IdempotencyKeyReusedError();
        default:
          throw new Error(`the state machine refused a create with ${result.error}`);
      }
    }
    return result;
  }

  /** True when the code existed and is gone, false when there was no such code. */
  async deleteShortUrl(code: string): Promise<boolean> {
    const result = await proposeCommand(this.runtime, { type: 'delete', code });
    if (!result || !('deleted' in result)) {
      throw new Error('the state machine returned no delete result for a delete command');
    }
    return result.deleted;
  }

  /** Changes a short URL in place (an update command); resolves once applied here. */
  async updateShortUrl(input: UpdateCommandInput): Promise<UpdateOutcome> {
    const command: UpdateCommand = { type: 'update', code: input.code, updatedAt: input.updatedAt };
    if (input.url !== undefined) command.url = input.url;
    if (input.expiresAt !== undefined) command.expiresAt = input.expiresAt;
    if (input.tags !== undefined) command.tags = [...input.tags];
    if (input.maxVisits !== undefined) command.maxVisits = input.maxVisits;
    const result = await proposeCommand(this.runtime, command);
    if (result && 'updated' in result) return { record: result.updated };
    if (result && 'error' in result && result.error === 'not_found') return { refused: 'not_found' };
    if (result && 'error' in result && result.error === 'expired' && 'expiresAt' in result) {
      return { refused: 'expired', expiresAt: result.expiresAt! };
    }
    throw new Error('the state machine returned no update result for an update command');
  }

  /** One page of this node's short URLs, newest first (a local read, as lookup). */
  listShortUrls(query: ListQuery): ListPage {
    return this.store.list(query);
  }

  lookup(code: string): UrlRecord | undefined {
    return this.store.get(code);
  }

  /**
   * The leader's own miss is final (it acknowledged every create after applying it). A follower's
   * waits for one shared ReadIndex round; if that fails (no leader, lost quorum, timeout) the local
   * answer stands: the node is then as current as it can know, and its readiness tells a balancer.
   */
  async lookupAfterMiss(code: string): Promise<UrlRecord | undefined> {
    if (this.runtime.role === Role.Leader) return this.store.get(code);
    await this.missBarrier.wait();
    return this.store.get(code);
  }

  async lookupLinearizable(code: string): Promise<UrlRecord | undefined> {
    await translateRuntimeErrors(this.runtime, () => this.runtime.readIndex(this.readTimeoutMs));
    return this.store.get(code);
  }
}
