// Liveness and readiness for orchestrators and the join script. Both are cheap and never touch Raft.
import type { Express } from 'express';
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

  // Ready = knows a leader and has applied what it was behind at start or join; until then a load
  // balancer should send reads elsewhere, since this node's copy may be stale.
  app
    .route('/readyz')
    .get((_req, res) => {
      if (node.isReady()) {
        res.json({ status: 'ready' });
        return;
      }
      res.status(503).set('Retry-After', '1').json({
        status: 'not_ready',
        error: 'not_ready',
        message: 'this node does not know a leader or has not caught up yet',
      });
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
}
