// Liveness and readiness for orchestrators and the join script. Both are cheap and never touch Raft.
import type { Express, Response } from 'express';
import { methodNotAllowed } from '../error-middleware.js';
import type { NodeApi } from '../node-api.js';

export function registerHealthRoutes(app: Express, deps: { node: NodeApi }): void {
  const { node } = deps;

  // Alive as long as the process answers HTTP at all.
  app
    .route('/healthz')
    .get((_req, res) => {
      res.json({ status: 'ok' });
    })
    .all(methodNotAllowed(['GET', 'HEAD']));

  // Ready = can take writes: knows a leader and has applied what it was behind at start or join
  // (the join script and rolling restarts wait for this). 503 while the node shuts down.
  app
    .route('/readyz')
    .get((_req, res) => {
      if (node.isReady()) {
        res.json({ status: 'ready' });
        return;
      }
      notReady(res, 'this node does not know a leader, has not caught up yet, or is shutting down');
    })
    .all(methodNotAllowed(['GET', 'HEAD']));

  // What a load balancer checks: can serve redirects. Caught up once since it started; stays ready
  // through an election or a lost quorum, when local data is as current as any node's and
  // redirects should keep flowing. 503 while the node shuts down, first thing, so the balancer
  // stops sending before the listener closes.
  app
    .route('/readyz/redirects')
    .get((_req, res) => {
      if (node.isReadyForRedirects()) {
        res.json({ status: 'ready' });
        return;
      }
      notReady(res, 'this node has not caught up with a leader since it started, or is shutting down');
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
}

function notReady(res: Response, message: string): void {
  res.status(503).set('Retry-After', '1').json({ status: 'not_ready', error: 'not_ready', message });
}
