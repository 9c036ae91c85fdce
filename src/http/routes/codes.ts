// Short URLs by code. Reads are served from this node's local copy on every node (no Raft round
// trip): GET|HEAD /:code → a redirect to the long URL, GET /api/urls/:code → the record as JSON.
// Only a miss costs more: before its 404 a follower checks it is not merely behind the leader
// (NodeApi.lookupAfterMiss), so a link clicked right after its creation resolves on any node.
// An expired code answers 410 Gone: the read compares the record's expiresAt (fixed by the
// leader) with this node's clock, so every node answers 410 from that instant on, until a
// replicated purge removes the record (then 404). DELETE /api/urls/:code is a write (leader only,
// API key when one is set): afterwards the code is unknown (404) on every node. PATCH (edit.ts)
// is one too.
// Every redirect served is counted (VisitsApi.recordVisit: a Map increment, sent to the leader in
// batches), and GET /api/urls/:code shows the replicated totals as `visits`.
// Register these last: every fixed route (healthz, cluster, shorten, api) must win over /:code.
import type { ServerResponse } from 'node:http';
import type { Express, RequestHandler } from 'express';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import { writeJsonText } from '../json-response.js';
import type { NodeApi } from '../node-api.js';
import { isExpired, type UrlRecord } from '../../domain/records.js';
import { forwardableQuery, queryOf, withForwardedQuery } from '../query-forwarding.js';
import { recordBody } from '../record-body.js';
import type { ShortUrlOf } from '../short-url.js';
import type { VisitsApi } from '../visits-api.js';
import { isReservedCode } from '../../shortener/code-generator.js';
import { isRedirectStatus, isValidCodeSyntax, type RedirectStatus } from '../../domain/link-rules.js';

// The 404 of the redirect path is as hot as its 302 (scanners, typos): serialize it once.
const UNKNOWN_CODE_BODY = JSON.stringify({ error: 'not_found', message: 'no short URL has this code' });
export const unknownCode = (): HttpError => new HttpError(404, 'not_found', 'no short URL has this code');

function expiredBody(record: UrlRecord): string {
  return JSON.stringify({
    error: 'expired',
    message: 'this short URL has expired',
    expiresAt: new Date(record.expiresAt!).toISOString(),
  });
}

function visitLimitBody(record: UrlRecord): string {
  return JSON.stringify({
    error: 'visit_limit_reached',
    message: 'this short URL has reached its visit limit',
    maxVisits: record.maxVisits,
  });
}

type Consistency = 'local' | 'linearizable';

/**
 * The read consistency a request asks for: `?consistency=` or the `X-Consistency` header,
 * default local. The app's query parser is off (no other route reads the query), so only reads
 * that carry a query string pay for parsing one.
 */
function requestedConsistency(url: string, header: string | string[] | undefined): Consistency {
  const q = url.indexOf('?');
  const fromQuery = q >= 0 ? new URLSearchParams(url.slice(q + 1)).get('consistency') : null;
  const level = fromQuery ?? (typeof header === 'string' ? header.trim().toLowerCase() : 'local');
  if (level === 'local' || level === 'linearizable') return level;
  throw new HttpError(400, 'invalid_consistency', 'consistency must be "local" or "linearizable"');
}

async function read(node: NodeApi, code: string, consistency: Consistency): Promise<UrlRecord | undefined> {
  if (consistency === 'linearizable') return node.lookupLinearizable(code);
  return node.lookup(code) ?? node.lookupAfterMiss(code);
}

/** 410 with the JSON error; not cacheable: an expired alias may be created again. */
export function sendExpired(res: ServerResponse, record: UrlRecord): void {
  writeJsonText(res, 410, expiredBody(record), NO_STORE);
}

const NO_STORE = { 'Cache-Control': 'no-store' } as const;

export interface CodeRouteDeps {
  node: NodeApi;
  shortUrlOf: ShortUrlOf;
  /** Writes (DELETE) go through the same API-key check as POST /shorten. */
  access: RequestHandler;
  redirectStatus: RedirectStatus;
  /** max-age of a permanent redirect to a URL without an expiry. */
  permanentMaxAgeSeconds: number;
  /** When given, redirects are counted and the metadata shows the statistics. */
  visits?: VisitsApi;
  /** Append the request's query to the long URL (query-forwarding.ts). */
  forwardQuery?: boolean;
  /** PATCH /api/urls/:code, body parsing included (edit.ts). */
  edit: RequestHandler[];
}

/** Answers a redirect read: 302 (or the configured status) to the URL, 404, or 410. */
export type AnswerRedirect = (record: UrlRecord | undefined, res: ServerResponse, query?: string) => void;

/** The redirect's answer, written on Node's own response (Express's and the hot routes' alike). */
export function redirectAnswerer(
  deps: Pick<CodeRouteDeps, 'redirectStatus' | 'permanentMaxAgeSeconds' | 'visits' | 'forwardQuery'>,
): AnswerRedirect {
  const { redirectStatus, visits } = deps;
  const forwardQuery = deps.forwardQuery ?? false;
  if (!isRedirectStatus(redirectStatus)) {
    throw new TypeError(`redirectStatus must be 301, 302, 307 or 308, got ${String(redirectStatus)}`);
  }
  const permanent = redirectStatus === 301 || redirectStatus === 308;
  // Temporary redirects are not cached by shared caches and are revalidated by browsers, so a
  // deleted or expiring code takes effect at once. Permanent ones are what a client wants cached
  // (that is why one chooses them), but only for URLs that cannot expire: a cached redirect would
  // outlive its expiry.
  const cacheControlLasting = permanent
    ? `public, max-age=${Math.max(0, Math.floor(deps.permanentMaxAgeSeconds))}`
    : 'private, max-age=0';
  const cacheControlExpiring = 'private, max-age=0';

  return (record, res, query) => {
    if (record === undefined) {
      writeJsonText(res, 404, UNKNOWN_CODE_BODY);
      return;
    }
    if (isExpired(record, Date.now())) {
      sendExpired(res, record);
      return;
    }
    if (record.maxVisits !== undefined && visits?.visitLimitReached(record)) {
      writeJsonText(res, 410, visitLimitBody(record), NO_STORE);
      return;
    }
    // A redirect with an HTML body, negotiated per request (res.redirect), would be wasted: a bare
    // redirect is all a client needs. The stored URL is a WHATWG href: already ASCII and
    // percent-encoded, so it is a valid header value as it is.
    res.statusCode = redirectStatus;
    res.setHeader(
      'Location',
      forwardQuery && query ? withForwardedQuery(record.url, forwardableQuery(query)) : record.url,
    );
    res.setHeader(
      'Cache-Control',
      record.expiresAt === undefined ? cacheControlLasting : cacheControlExpiring,
    );
    res.end();
    visits?.recordVisit(record.code, record.createdAt);
  };
}

/** A code that may name a short URL: the right syntax, and not a route's reserved word. */
export function mayBeCode(code: string): boolean {
  return isValidCodeSyntax(code) && !isReservedCode(code);
}

export function registerCodeRoutes(app: Express, deps: CodeRouteDeps): void {
  const { node, shortUrlOf, visits } = deps;
  const answerRedirect = redirectAnswerer(deps);

  // Express answers HEAD with the GET handler (and no body).
  const redirect: RequestHandler = async (req, res) => {
    const code = req.params.code as string;
    const consistency = requestedConsistency(req.url, req.headers['x-consistency']);
    // Reserved words are routes; if one ever reached here (a path the router has no route for,
    // such as GET /cluster) it must not resolve as a code.
    const record = mayBeCode(code)
      ? consistency === 'local'
        ? (node.lookup(code) ?? (await node.lookupAfterMiss(code))) // a hit stays synchronous
        : await read(node, code, consistency)
      : undefined;
    answerRedirect(record, res, queryOf(req.url));
  };

  const metadata: RequestHandler = async (req, res) => {
    const code = req.params.code as string;
    const consistency = requestedConsistency(req.url, req.headers['x-consistency']);
    const record = isValidCodeSyntax(code) ? await read(node, code, consistency) : undefined;
    if (record === undefined) throw unknownCode();
    if (isExpired(record, Date.now())) {
      sendExpired(res, record);
      return;
    }
    const body = recordBody(record, shortUrlOf);
    // Eventually consistent: each node sends its counts every --stats-flush-interval-ms.
    if (visits) body.visits = visits.visitsOf(record.code);
    res.json(body);
  };

  const remove: RequestHandler = async (req, res) => {
    const code = req.params.code as string;
    // A code that cannot exist is unknown without a Raft write.
    if (!isValidCodeSyntax(code) || !(await node.deleteShortUrl(code))) throw unknownCode();
    res.status(204).end();
  };

  app
    .route('/api/urls/:code')
    .get(metadata)
    .patch(deps.access, ...deps.edit)
    .delete(deps.access, remove)
    .all(methodNotAllowed(['GET', 'HEAD', 'PATCH', 'DELETE']));
  app
    .route('/:code')
    .get(redirect)
    .all(methodNotAllowed(['GET', 'HEAD']));
}
