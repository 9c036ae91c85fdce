// A new node's side of joining: find the cluster through the member the operator named (--join),
// then ask that member to add us (a follower passes the request on to its leader), retrying while
// there is no leader.
import type { Logger } from 'pino';
import { Agent, fetch } from 'undici';
import { MEMBERSHIP_CHANGE_IN_PROGRESS, NOT_LEADER } from '../domain/errors.js';
import type { Member } from './storage/index.js';

interface StatusAnswer {
  clusterId?: string;
  leaderUrl?: string | null;
}

export interface JoinAnswer {
  clusterId: string;
  members: Member[];
}

const RETRY_MS = 250;

/** The cluster answered the join with a refusal that retrying will not change. */
export class JoinRefusedError extends Error {
  override readonly name = 'JoinRefusedError';
}

/** An HTTPS cluster's members present certificates signed by the cluster CA: trust exactly it. */
function dispatcherFor(ca: Buffer | undefined): Agent | undefined {
  return ca ? new Agent({ connect: { ca } }) : undefined;
}

async function sleepUntilRetry(deadline: number, what: string): Promise<void> {
  if (Date.now() + RETRY_MS > deadline) throw new Error(`gave up joining: ${what}`);
  await new Promise((r) => setTimeout(r, RETRY_MS));
}

/**
 * Asks `joinUrl` (any member) for the cluster id; waits until that member knows a leader. The
 * answer is not authenticated (GET /cluster/status is open): nothing from it is ever sent the
 * cluster token.
 */
export async function discoverCluster(
  joinUrl: string,
  logger: Logger,
  deadline: number,
  ca?: Buffer,
): Promise<{ clusterId: string }> {
  const dispatcher = dispatcherFor(ca);
  for (;;) {
    let problem: string;
    try {
      const res = await fetch(new URL('/cluster/status', joinUrl), {
        redirect: 'error',
        signal: AbortSignal.timeout(2000),
        dispatcher,
      });
      const body = (await res.json()) as StatusAnswer;
      if (res.ok && body.clusterId && body.leaderUrl) return { clusterId: body.clusterId };
      problem = res.ok ? 'the cluster has no leader yet' : `status ${res.status}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    logger.info({ joinUrl, problem }, 'waiting for the cluster to be reachable with a leader');
    await sleepUntilRetry(deadline, `${joinUrl}: ${problem}`);
  }
}

interface JoinAnswerBody {
  members?: Member[];
  error?: string;
  message?: string;
}

/** A 409 that goes away by itself: no leader yet, or another membership change in progress. */
function isPassingConflict(status: number, body: JoinAnswerBody): boolean {
  return status === 409 && (body.error === NOT_LEADER || body.error === MEMBERSHIP_CHANGE_IN_PROGRESS);
}

/**
 * POSTs the join request to `joinUrl`, the member the operator named, and only there: a follower
 * passes it on to its leader itself (http/join-forward.ts), so the cluster token never goes to an
 * address learned from an answer (a 409's leaderUrl, a redirect) that nobody authenticated.
 * Retries while there is no leader or another membership change is in progress.
 */
export async function requestJoin(
  joinUrl: string,
  self: Member,
  logger: Logger,
  deadline: number,
  headers: Record<string, string> = {},
  ca?: Buffer,
): Promise<Member[]> {
  const dispatcher = dispatcherFor(ca);
  for (;;) {
    let problem: string;
    try {
      const res = await fetch(new URL('/cluster/join', joinUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({
          id: self.id,
          httpUrl: self.httpUrl,
          raftAddr: self.raftAddr,
          nodeUuid: self.nodeUuid,
        }),
        redirect: 'error',
        signal: AbortSignal.timeout(15_000),
        dispatcher,
      });
      const body = (await res.json()) as JoinAnswerBody;
      if (res.ok && Array.isArray(body.members)) return body.members;
      if (res.status === 503 || res.status === 504 || isPassingConflict(res.status, body)) {
        problem = body.message ?? `status ${res.status}`;
      } else {
        throw new JoinRefusedError(
          `the cluster refused the join (${res.status}): ${body.message ?? 'no reason given'}`,
        );
      }
    } catch (err) {
      if (err instanceof JoinRefusedError) throw err;
      problem = (err as Error).message;
    }
    logger.info({ joinUrl, problem }, 'join not done yet, retrying');
    await sleepUntilRetry(deadline, problem);
  }
}
