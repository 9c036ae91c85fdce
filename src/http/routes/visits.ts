// POST /cluster/visits: a follower hands the leader its batch of visit counts, which the leader
// proposes as one `visits` command. A cluster endpoint: the cluster token when one is set, else
// loopback callers only (like join and remove). Anywhere but on the leader: 409 not_leader, and
// the follower sends the same batch to the new leader at its next flush.
import type { Express, RequestHandler } from 'express';
import { parseBody } from '../body.js';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import type { VisitsApi } from '../visits-api.js';
import { parseVisitBatch, VISIT_BATCH_MAX_BODY_BYTES } from '../../visits/batch-wire.js';

export function registerVisitRoutes(app: Express, deps: { visits: VisitsApi; access: RequestHandler }): void {
  const accept: RequestHandler = async (req, res) => {
    const parsed = parseVisitBatch(req.body);
    if (!parsed.ok) throw new HttpError(400, 'invalid_request', parsed.message);
    res.json(await deps.visits.acceptVisitBatch(parsed.value));
  };

  app
    .route('/cluster/visits')
    // A batch is bigger than a client's write (up to 5,000 counts), hence its own body limit.
    .post(deps.access, parseBody(['json'], VISIT_BATCH_MAX_BODY_BYTES), accept)
    .all(methodNotAllowed(['POST']));
}
