// CORS for POST /shorten, for the cluster's own pages only. The web page on a follower sends its
// write to the leader, another origin; the leader lets the page read the answer when the page's
// origin is one of the cluster's members (their advertised HTTP URLs). Any other site gets no CORS
// headers, so its scripts cannot read our answers, exactly as before this existed.
import type { Request, RequestHandler } from 'express';
import type { NodeApi } from '../node-api.js';

const ALLOWED_HEADERS = 'content-type, accept, authorization, x-api-key, idempotency-key';
const EXPOSED_HEADERS = 'idempotent-replayed, retry-after';

/** The request's Origin when it is a member's, else undefined. */
function memberOrigin(node: NodeApi, req: Request): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return undefined;
  let members;
  try {
    members = node.status().members;
  } catch {
    return undefined; // a node that cannot tell its members allows nobody
  }
  return members.some((m) => originOf(m.httpUrl) === origin) ? origin : undefined;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** OPTIONS /shorten: the preflight of a member page's POST. Anything else goes on (to the 405). */
export function corsPreflight(node: NodeApi): RequestHandler {
  return (req, res, next) => {
    const origin = memberOrigin(node, req);
    if (origin === undefined || req.headers['access-control-request-method'] !== 'POST') return next();
    res.set({
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': ALLOWED_HEADERS,
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    });
    res.status(204).end();
  };
}

/** POST /shorten from a member page: let it read the answer, whatever the answer is. */
export function corsHeaders(node: NodeApi): RequestHandler {
  return (req, res, next) => {
    // Same-origin requests (and API clients) send no Origin, or the node's own: nothing to do.
    if (req.headers.origin !== undefined) {
      const origin = memberOrigin(node, req);
      res.vary('Origin');
      if (origin !== undefined) {
        res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSED_HEADERS });
      }
    }
    next();
  };
}
