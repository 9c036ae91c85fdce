// A client for a cluster of shortener nodes: create, resolve, stats, delete. Writes find the
// leader (following 409 not-leader answers, remembering where they lead) and are retried safely
// (one Idempotency-Key for every attempt of a create); reads are spread over the nodes.
import { randomUUID } from 'node:crypto';
import { errorBody, isLeaderlessNotLeader, jsonObject, notLeaderTarget, retryAfterMs } from './answers.js';
import { retryPolicy } from './backoff.js';
import { sendRead, sendWrite, type Answered, type CallContext } from './calls.js';
import { AliasTakenError, ApiError, NotLeaderError } from './errors.js';
import { NodeRouter } from './router.js';
import { ALIAS_TAKEN } from '../domain/errors.js';
import { isRedirectStatus } from '../domain/link-rules.js';
import { UndiciTransport, type Transport } from './transport.js';
import type {
  CreateOptions,
  CreateResult,
  DeleteResult,
  ReadOptions,
  ResolveResult,
  ShortenerClientOptions,
  UrlStats,
} from './types.js';

export class ShortenerClient {
  private readonly ctx: CallContext;
  private readonly router: NodeRouter;
  private readonly ownsTransport: boolean;
  private readonly writeHeaders: Record<string, string>;

  constructor(options: ShortenerClientOptions) {
    this.router = new NodeRouter(options.nodes, options.readNodes, options.leaderUrl);
    const transport: Transport = options.transport ?? new UndiciTransport();
    this.ownsTransport = options.transport === undefined;
    this.ctx = {
      transport,
      router: this.router,
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: retryPolicy(options.retry),
      maxLeaderHops: options.maxLeaderHops ?? 3,
      readFailover: options.readFailover ?? this.router.readNodes.length - 1,
      findLeader: options.findLeader,
      random: options.random ?? Math.random,
    };
    this.writeHeaders = { accept: 'application/json' };
    if (options.apiKey !== undefined) this.writeHeaders.authorization = `Bearer ${options.apiKey}`;
  }

  /** Where the next write goes: the leader last heard of, else the first node. */
  get leaderUrl(): string {
    return this.router.writeTarget;
  }

  /** POST /shorten. 201 → created: true; 200 (the URL already had a code) → created: false. */
  async create(url: string, options: CreateOptions = {}): Promise<CreateResult> {
    const body: Record<string, unknown> = { url };
    if (options.alias !== undefined) body.alias = options.alias;
    if (options.ttlSeconds !== undefined) body.ttlSeconds = options.ttlSeconds;
    if (options.expiresAt !== undefined) {
      body.expiresAt =
        options.expiresAt instanceof Date ? options.expiresAt.toISOString() : options.expiresAt;
    }
    // Without a key a retried create could apply twice (an alias would then answer 409 to its
    // own first attempt); with one, every attempt is the same request to the cluster.
    const idempotencyKey = options.idempotencyKey ?? (this.ctx.retry.attempts > 1 ? randomUUID() : undefined);
    const headers: Record<string, string> = { ...this.writeHeaders, 'content-type': 'application/json' };
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;

    const a = await sendWrite(this.ctx, {
      method: 'POST',
      path: '/shorten',
      headers,
      body: JSON.stringify(body),
    });
    if (a.res.status !== 200 && a.res.status !== 201) throw failure(a);
    const json = jsonObject(a.res.body);
    if (typeof json?.code !== 'string') throw malformed(a);
    const result: CreateResult = {
      code: json.code,
      shortUrl: String(json.shortUrl),
      url: String(json.url),
      created: a.res.status === 201,
      replayed: a.res.headers['idempotent-replayed'] === 'true',
      ...a.info,
    };
    if (typeof json.expiresAt === 'string') result.expiresAt = json.expiresAt;
    if (idempotencyKey !== undefined) result.idempotencyKey = idempotencyKey;
    return result;
  }

  /**
   * GET /:code without following the redirect. A redirect and a 404/410 are answers (found:
   * true/false); anything else throws.
   */
  async resolve(code: string, options: ReadOptions = {}): Promise<ResolveResult> {
    const a = await sendRead(this.ctx, { method: 'GET', path: codePath('/', code, options), headers: {} });
    const { status, headers } = a.res;
    if (isRedirectStatus(status) && headers.location !== undefined) {
      const found: ResolveResult = {
        found: true,
        status,
        location: headers.location,
        ...a.info,
      };
      if (headers['cache-control'] !== undefined) found.cacheControl = headers['cache-control'];
      return found;
    }
    if (status === 404 || status === 410) {
      const body = errorBody(status, a.res.body);
      const missing: ResolveResult = {
        found: false,
        status,
        error: body.error,
        message: body.message,
        ...a.info,
      };
      if (typeof body.expiresAt === 'string') missing.expiresAt = body.expiresAt;
      return missing;
    }
    throw failure(a);
  }

  /** GET /api/urls/:code: the record (and its visit count when the nodes keep one). 404/410 throw. */
  async stats(code: string, options: ReadOptions = {}): Promise<UrlStats> {
    const a = await sendRead(this.ctx, {
      method: 'GET',
      path: codePath('/api/urls/', code, options),
      headers: { accept: 'application/json' },
    });
    if (a.res.status !== 200) throw failure(a);
    const json = jsonObject(a.res.body);
    if (typeof json?.code !== 'string') throw malformed(a);
    const stats: UrlStats = {
      code: json.code,
      shortUrl: String(json.shortUrl),
      url: String(json.url),
      createdAt: String(json.createdAt),
      alias: json.alias === true,
      ...a.info,
    };
    if (typeof json.expiresAt === 'string') stats.expiresAt = json.expiresAt;
    const visits = json.visits as UrlStats['visits'] | undefined;
    if (typeof visits?.total === 'number') stats.visits = { total: visits.total, byDay: { ...visits.byDay } };
    return stats;
  }

  /**
   * DELETE /api/urls/:code. An unknown code throws a 404 ApiError — except after an attempt that
   * may have deleted it (a timeout), when the 404 is the delete's own effect.
   */
  async delete(code: string): Promise<DeleteResult> {
    const a = await sendWrite(this.ctx, {
      method: 'DELETE',
      path: `/api/urls/${encodeURIComponent(code)}`,
      headers: this.writeHeaders,
    });
    if (a.res.status === 204 || (a.res.status === 404 && a.ambiguous)) return a.info;
    throw failure(a);
  }

  /** Closes the connections of the client's own transport (one passed in is the caller's). */
  async close(): Promise<void> {
    if (this.ownsTransport) await this.ctx.transport.close();
  }
}

function codePath(prefix: string, code: string, options: ReadOptions): string {
  const query = options.consistency === 'linearizable' ? '?consistency=linearizable' : '';
  return `${prefix}${encodeURIComponent(code)}${query}`;
}

/** The typed error for an error answer; the two 409s are told apart by their bodies. */
function failure(a: Answered): ApiError {
  const { status, body: text, headers } = a.res;
  const body = errorBody(status, text);
  let err: ApiError;
  if (notLeaderTarget(status, text) !== undefined || isLeaderlessNotLeader(status, text)) {
    err = new NotLeaderError(body);
  } else if (status === 409 && body.error === ALIAS_TAKEN) {
    err = new AliasTakenError(body);
  } else {
    err = new ApiError(status, body, retryAfterMs(headers['retry-after']));
  }
  return err.withInfo(a.info);
}

function malformed(a: Answered): ApiError {
  const err = new ApiError(a.res.status, {
    error: 'invalid_response',
    message: `unexpected body: ${a.res.body.slice(0, 200)}`,
  });
  return err.withInfo(a.info);
}
