// Who may do what over HTTP:
// - writes may require an API key (none by default; reads always stay open);
// - cluster endpoints (join, remove, backup, visit batches) require the cluster token, or, when the
//   node runs without one ("protected mode", like Redis's), answer only direct requests from this
//   machine (localDirectCallerProblem).
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { isLoopback } from '../common/loopback.js';
import { secretMatches } from '../common/secrets.js';
import { HttpError } from './errors.js';

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match ? match[1] : undefined;
}

/** Writes need `Authorization: Bearer <key>` or `X-Api-Key: <key>` when an API key is set. */
export function apiKeyError(req: IncomingMessage, apiKey: string | undefined): HttpError | undefined {
  if (apiKey === undefined) return undefined;
  const presented = bearer(req.headers.authorization) ?? (req.headers['x-api-key'] as string | undefined);
  if (secretMatches(presented, apiKey)) return undefined;
  return new HttpError(
    401,
    'unauthorized',
    'this write needs a valid API key: send Authorization: Bearer <key> or X-Api-Key: <key>',
    { 'WWW-Authenticate': 'Bearer' },
  );
}

/** The host part of a Host header: "127.0.0.1:8081" → "127.0.0.1", "[::1]:8081" → "::1". */
function hostName(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(hostHeader);
  if (bracketed) return bracketed[1];
  return hostHeader.replace(/:\d*$/, '').toLowerCase();
}

/**
 * Why a request is not a direct call from a program on this machine, or undefined when it is.
 * A loopback socket alone proves little: a reverse proxy on this host connects from loopback on
 * behalf of anyone (and says so in Forwarded / X-Forwarded-* / X-Real-IP), and a browser tricked
 * by DNS rebinding connects from loopback under a foreign Host name; a cross-site page's request
 * carries Origin or Sec-Fetch-Site. A program that means to call the node directly sends none.
 */
export function localDirectCallerProblem(req: IncomingMessage): string | undefined {
  if (!isLoopback(req.socket.remoteAddress)) return 'the request comes from another machine';
  const headers = req.headers;
  const forwarded = Object.keys(headers).find(
    (h) => h === 'forwarded' || h === 'x-real-ip' || h.startsWith('x-forwarded-'),
  );
  if (forwarded) return `the request was forwarded by a proxy (${forwarded})`;
  if (!isLoopback(hostName(headers.host)))
    return `the Host header "${headers.host ?? ''}" is not this machine`;
  const site = headers['sec-fetch-site'];
  if (headers.origin !== undefined || (site !== undefined && site !== 'none')) {
    return 'the request comes from a web page';
  }
  return undefined;
}

/**
 * Cluster endpoints: the cluster token when one is set (X-Cluster-Token or a Bearer header);
 * otherwise direct callers on this machine only.
 */
export function requireClusterAccess(clusterToken: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (clusterToken === undefined) {
      const problem = localDirectCallerProblem(req);
      if (problem === undefined) return next();
      return next(
        new HttpError(
          403,
          'protected_mode',
          `this node has no cluster token, so its cluster endpoints only answer direct requests from this machine, and ${problem}; ` +
            'start every node with --cluster-token (CLUSTER_TOKEN) to manage the cluster over the network or through a proxy',
        ),
      );
    }
    const presented =
      (req.headers['x-cluster-token'] as string | undefined) ?? bearer(req.headers.authorization);
    if (secretMatches(presented, clusterToken)) return next();
    next(
      new HttpError(
        401,
        'unauthorized',
        'cluster endpoints need the cluster token: send X-Cluster-Token: <token>',
        {
          'WWW-Authenticate': 'Bearer',
        },
      ),
    );
  };
}
