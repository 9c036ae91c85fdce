// Reads of short URLs, served from this node's local copy on every node (no Raft round trip):
// GET|HEAD /:code → 302 to the long URL, and GET /api/urls/:code → the record as JSON.
// Register these last: every fixed route (healthz, cluster, shorten, api) must win over /:code.
import type { Express, RequestHandler } from 'express';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import type { NodeApi, UrlRecord } from '../node-api.js';
import type { ShortUrlOf } from '../short-url.js';
import { isReservedCode } from '../../shortener/code-generator.js';

/** What a code may look like; anything else cannot exist, so it is a 404 without a lookup. */
const CODE_SYNTAX = /^[0-9A-Za-z_-]{1,64}$/;

export function isValidCodeSyntax(code: string): boolean {
  return CODE_SYNTAX.test(code);
}

// The 404 of the redirect path is as hot as its 302 (scanners, typos): serialize it once.
const UNKNOWN_CODE_BODY = JSON.stringify({ error: 'not_found', message: 'no short URL has this code' });
const unknownCode = () => new HttpError(404, 'not_found', 'no short URL has this code');

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
  return consistency === 'linearizable' ? node.lookupLinearizable(code) : node.lookup(code);
}

export function registerCodeRoutes(app: Express, deps: { node: NodeApi; shortUrlOf: ShortUrlOf }): void {
  const { node, shortUrlOf } = deps;

  // Express answers HEAD with the GET handler (and no body).
  const redirect: RequestHandler = async (req, res) => {
    const code = req.params.code as string;
    const consistency = requestedConsistency(req.url, req.headers['x-consistency']);
    // Reserved words are routes; if one ever reached here (a path the router has no route for,
    // such as GET /cluster) it must not resolve as a code.
    const record =
      isValidCodeSyntax(code) && !isReservedCode(code)
        ? consistency === 'local'
          ? node.lookup(code) // the hot path stays synchronous
          : await read(node, code, consistency)
        : undefined;
    if (record === undefined) {
      res.status(404).type('json').send(UNKNOWN_CODE_BODY);
      return;
    }
    // res.redirect would build an HTML body and negotiate content per request; a bare 302 is all a
    // client needs. The stored URL is a WHATWG href: already ASCII and percent-encoded, so it is a
    // valid header value as it is.
    res.statusCode = 302;
    res.setHeader('Location', record.url);
    res.end();
  };

  const metadata: RequestHandler = async (req, res) => {
    const code = req.params.code as string;
    const consistency = requestedConsistency(req.url, req.headers['x-consistency']);
    const record = isValidCodeSyntax(code) ? await read(node, code, consistency) : undefined;
    if (record === undefined) throw unknownCode();
    res.json({
      code: record.code,
      url: record.url,
      shortUrl: shortUrlOf(record.code),
      createdAt: new Date(record.createdAt).toISOString(),
    });
  };

  app
    .route('/api/urls/:code')
    .get(metadata)
    .all(methodNotAllowed(['GET', 'HEAD']));
  app
    .route('/:code')
    .get(redirect)
    .all(methodNotAllowed(['GET', 'HEAD']));
}
