// Cluster membership and status. Joins and removals are configuration changes through the Raft
// log, so they go to the leader only; a follower's NotLeaderError becomes the 409 with leaderUrl
// that cmd/node.ts --join follows.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Express, RequestHandler } from 'express';
import { parseBody } from '../body.js';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import { parseJoinRequest, parseMemberIdParam } from '../join-request.js';
import { FORWARDED_JOIN_HEADER, type NodeApi } from '../node-api.js';

export function registerClusterRoutes(
  app: Express,
  deps: { node: NodeApi; maxBodyBytes: number; access: RequestHandler },
): void {
  const { node } = deps;

  const status: RequestHandler = (_req, res) => {
    res.json(node.status());
  };

  const join: RequestHandler = async (req, res) => {
    const parsed = parseJoinRequest(req.body);
    if (!parsed.ok) throw new HttpError(400, 'invalid_request', parsed.message);
    // A join a follower passed on is answered here, never passed on again (no forwarding loops).
    const forwarded = req.get(FORWARDED_JOIN_HEADER) !== undefined;
    res.json({ members: await node.addMember(parsed.value, { forwarded }) });
  };

  const remove: RequestHandler = async (req, res) => {
    const id = parseMemberIdParam(req.params.id as string);
    if (!id.ok) throw new HttpError(400, 'invalid_request', id.message);
    res.json({ members: await node.removeMember(id.value) });
  };

  // A backup: the same consistent snapshot a lagging follower is sent, streamed with backpressure
  // so that a large store never sits in memory. Restore with `node dist/cmd/node.js --restore-from`.
  const backup: RequestHandler = async (req, res) => {
    const snapshot = await node.backup();
    const done = () => snapshot.close();
    res.on('close', done);
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-disposition', `attachment; filename="backup-${snapshot.index}.snap"`);
    res.setHeader('x-raft-index', String(snapshot.index));
    res.setHeader('x-raft-term', String(snapshot.term));
    await pipeline(Readable.from(snapshot.bytes), res);
  };

  app
    .route('/cluster/snapshot')
    .get(deps.access, backup)
    .all(methodNotAllowed(['GET', 'HEAD']));
  app
    .route('/cluster/status')
    .get(status)
    .all(methodNotAllowed(['GET', 'HEAD']));
  app
    .route('/cluster/join')
    .post(deps.access, parseBody(['json'], deps.maxBodyBytes), join)
    .all(methodNotAllowed(['POST']));
  app
    .route('/cluster/members/:id')
    .delete(deps.access, remove)
    .all(methodNotAllowed(['DELETE']));
}
