// A follower's side of POST /cluster/visits: sends one batch to the leader, with the cluster token
// (when one is set) and, on an HTTPS cluster, trusting exactly the cluster CA, as a join does.
import { Agent, fetch } from 'undici';
import type { VisitsCommand } from '../shortener/commands.js';
import { visitBatchToWire } from './batch-wire.js';

/** A batch the leader did not take. `retryable`: it may take the same batch later (or already has). */
export class VisitBatchError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'VisitBatchError';
  }
}

export type ForwardBatch = (leaderUrl: string, batch: VisitsCommand) => Promise<void>;

export function batchForwarder(options: {
  clusterToken?: string;
  ca?: Buffer;
  timeoutMs?: number;
}): ForwardBatch {
  const dispatcher = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.clusterToken !== undefined) headers['x-cluster-token'] = options.clusterToken;
  const timeoutMs = options.timeoutMs ?? 5_000;

  return async (leaderUrl, batch) => {
    let res;
    try {
      res = await fetch(new URL('/cluster/visits', leaderUrl), {
        method: 'POST',
        headers,
        body: visitBatchToWire(batch),
        signal: AbortSignal.timeout(timeoutMs),
        dispatcher,
      });
    } catch (err) {
      // The leader may have received and proposed it anyway: the retry carries the same batch id.
      throw new VisitBatchError(`sending visits to ${leaderUrl} failed: ${(err as Error).message}`, true);
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    // 409 not_leader (leadership moved), 503 no leader, 504 commit timeout, 5xx: try again later.
    // Any other 4xx (a bad batch, a wrong token, a leader without this route) will not get better.
    const retryable = res.status === 409 || res.status >= 500;
    throw new VisitBatchError(
      `the leader at ${leaderUrl} answered ${res.status}: ${text.slice(0, 200)}`,
      retryable,
    );
  };
}
