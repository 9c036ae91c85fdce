// POST /shorten: the write path. Validates, then decides here on the leader what is not
// deterministic — createdAt, the expiry instant of a ttlSeconds, the idempotency key's end of life —
// and the link service picks the code (never a reserved word such as "healthz"), so the command is
// plain data, the same on every node; it answers once the create is applied.
//
// Options (JSON fields or form fields; a text/plain body is just the URL):
//   alias        a custom code: 3..64 of [0-9A-Za-z_-], not a reserved word, case-sensitive.
//                Created if free (201), else 409 alias_taken. Never deduplicated by URL.
//   ttlSeconds   the short URL expires this many seconds after the leader accepts it, or
//   expiresAt    at this instant (RFC 3339 date or date-time with a zone, or epoch ms; parse-instant.ts).
//                Expired codes answer 410 on every node.
//   tags         labels to list and filter by (link-fields.ts: an array, or comma-separated).
//   maxVisits    the short URL answers 410 after this many visits.
// A plain request (no alias, expiry, tags or limit) for a URL that already has a plain code gets
// that code (200); it never returns an alias, an expiring or a limited code, and one with any of
// those options always gets a new code.
//
// Idempotency-Key header: the first result for that key is returned again (same status and body,
// plus Idempotent-Replayed: true) for a retry with the same request, on any leader, for
// idempotencyTtlMs; with a different request → 422 idempotency_key_reused.
//
// Abuse limits: only http and https URLs (validateLongUrl), never the cluster's own short URLs or
// nodes (400 invalid_url: a redirect loop), never a host on the blocklist or a subdomain of one
// (403 host_blocked), bodies up to maxBodyBytes (413), and the per-client write
// rate limit of the `access` middleware (429).
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Express, RequestHandler } from 'express';
import { parseBody } from '../body.js';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import type { NodeApi } from '../node-api.js';
import type { CreateRequest } from '../../domain/records.js';
import type { HostBlocklist } from '../host-blocklist.js';
import { checkTargetUrl, parseMaxVisits, parseTags } from '../link-fields.js';
import { parseInstant } from '../parse-instant.js';
import type { ShortUrlOf } from '../short-url.js';
import { ALIAS_SYNTAX, MAX_TTL_SECONDS } from '../../domain/link-rules.js';
import { isReservedCode } from '../../shortener/code-generator.js';

/** Idempotency keys: 1..255 printable ASCII characters (a UUID is typical). */
const IDEMPOTENCY_KEY_SYNTAX = /^[\x20-\x7e]{1,255}$/;

export interface ShortenDeps {
  node: NodeApi;
  shortUrlOf: ShortUrlOf;
  idempotencyTtlMs: number;
  /** Refuses URLs whose host is blocked (or a subdomain of a blocked one). */
  blockedHost?: HostBlocklist;
  /** The cluster's own base URLs (public base, members): links to them are refused (own-urls.ts). */
  ownBases?: () => readonly string[];
}

/** An answer of a JSON route, apart from how it is written (Express or the hot routes). */
export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Readonly<Record<string, string>>;
}

/** What POST /shorten does with a parsed body (undefined when there was none). Throws what the error handlers turn into JSON. */
export type Shorten = (body: unknown, headers: IncomingHttpHeaders) => Promise<JsonAnswer>;

export function shortenHandler(deps: ShortenDeps): Shorten {
  const { node, shortUrlOf } = deps;
  return async (reqBody, headers) => {
    const input = longUrlInput(reqBody);
    if (input === undefined || input === '') {
      throw new HttpError(
        400,
        'missing_url',
        'send the URL to shorten as JSON {"url": …}, a form field url=…, or a text/plain body',
      );
    }
    const url = checkTargetUrl(input, deps);
    const now = Date.now();
    const options = parseOptions(reqBody, now);
    const key = parseIdempotencyKey(headers['idempotency-key']);

    // One instant (the leader's "now" for this request) for createdAt, the expiry and the key's lifetime.
    const request: CreateRequest = { url, createdAt: now };
    if (options.alias !== undefined) request.alias = options.alias;
    if (options.expiresAt !== undefined) request.expiresAt = options.expiresAt;
    if (options.tags !== undefined && options.tags.length > 0) request.tags = options.tags;
    if (options.maxVisits !== undefined) request.maxVisits = options.maxVisits;
    if (key !== undefined) {
      request.idempotency = {
        key,
        fingerprint: fingerprintOf(url, options),
        expiresAt: now + deps.idempotencyTtlMs,
      };
    }

    // The service picks a free code; a taken alias (409) or a reused key (422) is its refusal,
    // answered from the error table.
    const result = await node.createShortUrl(request);
    // 201 for a new code; 200 when the URL already had one (decided in apply, so it holds across
    // concurrent requests and leader changes). A replay repeats the first answer's status.
    const body: Record<string, unknown> = {
      code: result.code,
      shortUrl: shortUrlOf(result.code),
      url: result.url,
    };
    if (result.expiresAt !== undefined) body.expiresAt = new Date(result.expiresAt).toISOString();
    // A replay's stored result carries neither (idempotency-record.ts); the fingerprint guarantees
    // they were this request's.
    const tags = result.replayed ? request.tags : result.tags;
    if (tags !== undefined && tags.length > 0) body.tags = tags;
    const maxVisits = result.replayed ? request.maxVisits : result.maxVisits;
    if (maxVisits !== undefined) body.maxVisits = maxVisits;
    return {
      status: result.created ? 201 : 200,
      body,
      headers: result.replayed ? REPLAYED : undefined,
    };
  };
}

const REPLAYED = { 'Idempotent-Replayed': 'true' } as const;

export function registerShortenRoutes(
  app: Express,
  deps: {
    shorten: Shorten;
    maxBodyBytes: number;
    access: RequestHandler;
  },
): void {
  const { shorten } = deps;
  const handler: RequestHandler = async (req, res) => {
    const answer = await shorten(req.body, req.headers);
    if (answer.headers) res.set(answer.headers);
    res.status(answer.status).json(answer.body);
  };

  app
    .route('/shorten')
    // The key is checked before the body is read: a refused client costs no parsing.
    .post(deps.access, parseBody(['json', 'form', 'text'], deps.maxBodyBytes), handler)
    .all(methodNotAllowed(['POST']));
}

/** The URL from any of the three body formats; undefined when there is none. */
function longUrlInput(body: unknown): unknown {
  if (typeof body === 'string') return body.trim(); // text/plain: `echo URL | curl --data-binary @-` adds a newline
  if (isFields(body)) return body.url;
  return undefined;
}

export function isFields(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

interface CreateOptions {
  alias?: string;
  /** As the client sent them (for the fingerprint), and the instant the leader fixed. */
  ttlSeconds?: number;
  expiresAtInput?: number;
  expiresAt?: number;
  tags?: string[];
  maxVisits?: number;
}

/** An absent option: missing, null, or an empty form field. */
export function absent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

export function parseOptions(body: unknown, now: number): CreateOptions {
  if (!isFields(body)) return {};
  const options: CreateOptions = parseExpiry(body, now);
  const { alias, tags, maxVisits } = body;
  if (!absent(tags)) options.tags = parseTags(tags);
  if (!absent(maxVisits)) options.maxVisits = parseMaxVisits(maxVisits);
  if (!absent(alias)) {
    if (typeof alias !== 'string' || !ALIAS_SYNTAX.test(alias)) {
      throw new HttpError(
        400,
        'invalid_alias',
        'alias must be 3 to 64 characters of 0-9, A-Z, a-z, "_" and "-"',
      );
    }
    if (isReservedCode(alias)) {
      throw new HttpError(400, 'invalid_alias', `"${alias}" is a reserved word and cannot be an alias`);
    }
    options.alias = alias;
  }
  return options;
}

/** ttlSeconds or expiresAt (one of them), and the instant `now` makes of it. */
export function parseExpiry(
  body: Record<string, unknown>,
  now: number,
): Pick<CreateOptions, 'ttlSeconds' | 'expiresAtInput' | 'expiresAt'> {
  const options: Pick<CreateOptions, 'ttlSeconds' | 'expiresAtInput' | 'expiresAt'> = {};
  const { ttlSeconds, expiresAt } = body;
  if (!absent(ttlSeconds) && !absent(expiresAt)) {
    throw new HttpError(400, 'invalid_expiry', 'send either ttlSeconds or expiresAt, not both');
  }
  if (!absent(ttlSeconds)) {
    const ttl = typeof ttlSeconds === 'string' && /^\d+$/.test(ttlSeconds) ? Number(ttlSeconds) : ttlSeconds;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
      throw new HttpError(
        400,
        'invalid_expiry',
        `ttlSeconds must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`,
      );
    }
    options.ttlSeconds = ttl;
    options.expiresAt = now + ttl * 1000;
  }
  if (!absent(expiresAt)) {
    const at = parseInstant(expiresAt);
    if (at === undefined) {
      throw new HttpError(
        400,
        'invalid_expiry',
        'expiresAt must be an ISO 8601 date (2030-01-31) or date-time with a zone (2030-01-31T12:00:00Z), a date that exists, or milliseconds since the epoch',
      );
    }
    if (at <= now) throw new HttpError(400, 'invalid_expiry', 'expiresAt must be in the future');
    if (at > now + MAX_TTL_SECONDS * 1000) {
      throw new HttpError(400, 'invalid_expiry', 'expiresAt must be at most ten years from now');
    }
    options.expiresAtInput = at;
    options.expiresAt = at;
  }
  return options;
}

function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = typeof header === 'string' ? header.trim() : undefined;
  if (key === undefined || key === '' || !IDEMPOTENCY_KEY_SYNTAX.test(key)) {
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 printable ASCII characters, such as a UUID',
    );
  }
  return key;
}

/**
 * What makes two requests "the same" for an idempotency key: the normalized URL and the options
 * as the client sent them (ttlSeconds, not the instant computed from it, so a retry matches).
 */
function fingerprintOf(url: string, o: CreateOptions): string {
  return createHash('sha256')
    .update(
      JSON.stringify([url, o.alias ?? null, o.ttlSeconds ?? null, o.expiresAtInput ?? null, ...extras(o)]),
    )
    .digest('base64url');
}

/** Tags and limit join the fingerprint only when set, so keys used before they existed still match. */
function extras(o: CreateOptions): unknown[] {
  return o.tags === undefined && o.maxVisits === undefined ? [] : [o.tags ?? [], o.maxVisits ?? null];
}
