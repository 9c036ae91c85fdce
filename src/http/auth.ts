// Who may do what over HTTP:
// - writes may require an API key (none by default; reads always stay open);
// - cluster endpoints (join, remove) require the cluster token, or, when the node runs without one
//   ("protected mode", like Redis's), answer only requests from this machine.
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

/**
 * Cluster endpoints: the cluster token when one is set (X-Cluster-Token or a Bearer header);
 * otherwise loopback callers only.
 */
export function requireClusterAccess(clusterToken: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (clusterToken === undefined) {
      if (isLoopback(req.socket.remoteAddress)) return next();
      return next(
        new HttpError(
          403,
          'protected_mode',
          'this node has no cluster token, so its cluster endpoints only answer requests from this machine; ' +
            'start every node with --cluster-token (CLUSTER_TOKEN) to manage the cluster over the network',
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
