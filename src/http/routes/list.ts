// GET /api/urls?limit&cursor&q&tag: the short URLs, newest first, a page at a time, from this
// node's own copy (any node serves it; a follower may be a moment behind the leader). It shows
// every link, so it asks for the API key when one is set, as the export does.
//
//   limit   1..MAX_PAGE_LIMIT, default DEFAULT_PAGE_LIMIT
//   cursor  nextCursor of the previous page (opaque); a page never shifts under concurrent writes
//   tag     only links with this tag (the tag index: no scan of the others)
//   q       only links whose code or URL contains this text (case-insensitive, 1..200 characters)
//
// A search reads at most SCAN_LIMIT index entries per page, so a rare match costs bounded work per
// request (the page is read synchronously, and redirects on this node wait meanwhile): a page may then hold fewer than `limit` links (even none) and still a nextCursor. The
// answer ends when nextCursor is null.
import type { Express, RequestHandler } from 'express';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import type { NodeApi } from '../node-api.js';
import { recordBody } from '../record-body.js';
import type { ShortUrlOf } from '../short-url.js';
import { isValidTag } from '../../shortener/link-tags.js';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;
export const SCAN_LIMIT = 2_000;
const MAX_QUERY_LENGTH = 200;
/** A cursor is a position: 8 bytes of time and a code of at most 255 bytes, base64url. */
const MAX_CURSOR_LENGTH = 400;

export interface ListRouteDeps {
  node: Pick<NodeApi, 'listShortUrls'>;
  shortUrlOf: ShortUrlOf;
  /** The API key when one is set: the list shows every link. */
  access: RequestHandler;
}

const invalid = (error: string, message: string) => new HttpError(400, error, message);

/** The page a query string asks for. Throws the 400 that refuses it. */
export function parseListQuery(search: string): {
  limit: number;
  cursor?: Buffer;
  tag?: string;
  q?: string;
} {
  const params = new URLSearchParams(search);
  const out: { limit: number; cursor?: Buffer; tag?: string; q?: string } = { limit: DEFAULT_PAGE_LIMIT };
  const limit = params.get('limit');
  if (limit !== null) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE_LIMIT) {
      throw invalid('invalid_limit', `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
    }
    out.limit = Number(limit);
  }
  const cursor = params.get('cursor');
  if (cursor !== null && cursor !== '') {
    const bytes =
      /^[A-Za-z0-9_-]+$/.test(cursor) && cursor.length <= MAX_CURSOR_LENGTH
        ? Buffer.from(cursor, 'base64url')
        : undefined;
    // A position is 8 bytes of time and a code; anything else was not made by this API.
    if (bytes === undefined || bytes.length <= 8 || bytes.toString('base64url') !== cursor) {
      throw invalid('invalid_cursor', 'cursor must be the nextCursor of a previous page, as it was given');
    }
    out.cursor = bytes;
  }
  const tag = params.get('tag');
  if (tag !== null && tag !== '') {
    const t = tag.trim().toLowerCase();
    if (!isValidTag(t)) throw invalid('invalid_tags', `"${tag.slice(0, 40)}" is not a valid tag`);
    out.tag = t;
  }
  const q = params.get('q');
  if (q !== null && q !== '') {
    if (q.length > MAX_QUERY_LENGTH) {
      throw invalid('invalid_query', `q must be at most ${MAX_QUERY_LENGTH} characters`);
    }
    out.q = q;
  }
  return out;
}

export function registerListRoute(app: Express, deps: ListRouteDeps): void {
  const list: RequestHandler = (req, res) => {
    const at = req.url.indexOf('?');
    const query = parseListQuery(at === -1 ? '' : req.url.slice(at + 1));
    const page = deps.node.listShortUrls({ ...query, scanLimit: SCAN_LIMIT });
    res.json({
      items: page.records.map((r) => recordBody(r, deps.shortUrlOf)),
      nextCursor: page.next === undefined ? null : page.next.toString('base64url'),
    });
  };
  app
    .route('/api/urls')
    .get(deps.access, list)
    .all(methodNotAllowed(['GET', 'HEAD']));
}
