// POST /api/urls/bulk — many creates in one request, each answered on its own. The body is JSON,
// {"urls": [item, …]} or the bare array, of at most BULK_MAX_ITEMS items; an item is a URL string
// or an object with the fields of POST /shorten (url, alias, ttlSeconds, expiresAt) plus an
// optional idempotencyKey (what the Idempotency-Key header is for one create).
//
// Every item goes through the very handler of POST /shorten (same validation, dedup, aliases,
// expiry, idempotency) and is its own Raft command; the items run a few at a time, so the leader
// carries them in shared AppendEntries batches and fsyncs. The answer is 200 with one result per
// item, in the request's order: {index, status, code, shortUrl, url[, expiresAt]} or {index,
// status, error, message}. One item's refusal never stops the others.
//
// Refused as a whole (nothing created): a body that is not such a list (400 invalid_bulk), the
// write guard (401, 429, 507), and a node that does not lead (409 with leaderUrl, or 503): a
// follower never half-answers. The write rate limit counts the request once.
import type { IncomingHttpHeaders } from 'node:http';
import type { Express, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { parseBody } from '../body.js';
import { HttpError, toErrorResponse } from '../errors.js';
import type { NodeApi } from '../node-api.js';
import { NotLeaderError } from '../../domain/errors.js';
import type { Shorten } from './shorten.js';

export const BULK_MAX_ITEMS = 1_000;
/** Room for BULK_MAX_ITEMS items of about a kilobyte each. */
export const BULK_MAX_BODY_BYTES = 1024 * 1024;
/** Creates in flight at once: enough to fill the leader's batches, few enough to stay fair. */
export const CREATE_CONCURRENCY = 32;

export type BulkResult = { index: number; status: number } & Record<string, unknown>;

const invalidBulk = (message: string): HttpError => new HttpError(400, 'invalid_bulk', message);

/** The items of the body, or a 400 saying why there are none to create. */
export function bulkItems(body: unknown): unknown[] {
  const list = Array.isArray(body)
    ? body
    : typeof body === 'object' && body !== null
      ? (body as { urls?: unknown }).urls
      : undefined;
  if (!Array.isArray(list)) {
    throw invalidBulk('send JSON {"urls": [...]} (or the bare array) of URLs or {"url", …} objects');
  }
  if (list.length === 0) throw invalidBulk('the list of URLs is empty');
  if (list.length > BULK_MAX_ITEMS) {
    throw invalidBulk(`at most ${BULK_MAX_ITEMS} URLs per request, got ${list.length}`);
  }
  return list;
}

/** What one item asks of POST /shorten: its body and its headers. */
function asShortenRequest(item: unknown): { body: unknown; headers: IncomingHttpHeaders } {
  if (typeof item === 'string') return { body: { url: item }, headers: {} };
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new HttpError(400, 'missing_url', 'an item is a URL string or an object {"url", …}');
  }
  const { idempotencyKey, ...body } = item as Record<string, unknown>;
  if (idempotencyKey === undefined || idempotencyKey === null) return { body, headers: {} };
  if (typeof idempotencyKey !== 'string') {
    throw new HttpError(400, 'invalid_idempotency_key', 'idempotencyKey must be a string');
  }
  return { body, headers: { 'idempotency-key': idempotencyKey } };
}

export interface CreateDeps {
  node: Pick<NodeApi, 'status'>;
  shorten: Shorten;
  logger: Logger;
}

/** One item as its own POST /shorten: its answer, or its refusal, never a throw. */
export function itemCreator(deps: CreateDeps): (item: unknown, index: number) => Promise<BulkResult> {
  return async (item, index) => {
    try {
      const request = asShortenRequest(item);
      const answer = await deps.shorten(request.body, request.headers);
      return { index, status: answer.status, ...answer.body };
    } catch (err) {
      const refused = toErrorResponse(err);
      if (refused.unexpected) deps.logger.error({ err, index }, 'bulk create: an item failed unexpectedly');
      return { index, status: refused.status, ...refused.body };
    }
  };
}

/** Refuses a whole request off the leader (409 with leaderUrl, or 503): it never half-answers. */
export function requireLeader(node: Pick<NodeApi, 'status'>): void {
  const status = node.status();
  if (status.role !== 'leader') throw new NotLeaderError(status.leaderId, status.leaderUrl);
}

/** Runs `task` over items, CREATE_CONCURRENCY at a time; results in the items' order. */
export async function inWindows<T, R>(
  items: readonly T[],
  task: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, items.length) }, worker));
  return results;
}

export function bulkCreator(deps: CreateDeps): (body: unknown) => Promise<BulkResult[]> {
  const createOne = itemCreator(deps);
  return async (body) => {
    const items = bulkItems(body);
    requireLeader(deps.node);
    return inWindows(items, createOne);
  };
}

export function registerBulkRoute(app: Express, deps: CreateDeps & { access: RequestHandler }): void {
  const create = bulkCreator(deps);
  // POST only: GET and DELETE /api/urls/bulk stay those of a code (an alias may be "bulk").
  app.post('/api/urls/bulk', deps.access, parseBody(['json'], BULK_MAX_BODY_BYTES), async (req, res) => {
    res.json({ results: await create(req.body) });
  });
}
