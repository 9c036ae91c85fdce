// The two ways a request travels. A write goes to the leader, follows 409 not-leader answers to the
// leaderUrl they name (hops), and is retried — after a timeout, a connection error, a 503 or a 504
// — with backoff, on the next node. A read goes to the next read node, and to the one after it
// only when a node is not there (a connection error); it is never retried after a timeout.
import { isLeaderlessNotLeader, notLeaderTarget, retryAfterMs, trimSlash } from './answers.js';
import { backoffDelay, sleep } from './backoff.js';
import { NetworkError } from './errors.js';
import type { NodeRouter } from './router.js';
import { TransportError, type HttpMethod, type Transport, type TransportResponse } from './transport.js';
import type { CallInfo, Exchange, RetryPolicy } from './types.js';

export interface CallContext {
  transport: Transport;
  router: NodeRouter;
  timeoutMs: number;
  retry: RetryPolicy;
  maxLeaderHops: number;
  readFailover: number;
  findLeader?: (failedNode: string) => Promise<string | undefined>;
  random: () => number;
}

export interface CallRequest {
  method: HttpMethod;
  /** Path and query, e.g. "/shorten" or "/abc?consistency=linearizable". */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Answered {
  res: TransportResponse;
  info: CallInfo;
  /** An earlier attempt may have taken effect (it timed out, or its connection broke mid-way). */
  ambiguous: boolean;
}

type Outcome = { res: TransportResponse } | { err: TransportError };

export async function sendWrite(ctx: CallContext, req: CallRequest): Promise<Answered> {
  const exchanges: Exchange[] = [];
  let target = ctx.router.writeTarget;
  let hops = 0;
  let ambiguous = false;
  for (let attempt = 1; ; attempt++) {
    let outcome: Outcome;
    // Hops within one attempt: following the cluster's own redirects is not a retry.
    for (let attemptHops = 0; ;) {
      outcome = await exchange(ctx, target, req, exchanges);
      const next = attemptHops < ctx.maxLeaderHops ? await leaderToTry(ctx, target, outcome) : undefined;
      if (next === undefined) break;
      attemptHops++;
      hops++;
      target = next;
      ctx.router.rememberLeader(next);
    }
    const info: CallInfo = { node: target, hops, attempts: attempt, exchanges };
    if (attempt < ctx.retry.attempts && isRetryable(outcome)) {
      if (mayHaveTakenEffect(outcome)) ambiguous = true;
      const wait = 'res' in outcome ? retryAfterMs(outcome.res.headers['retry-after']) : undefined;
      await sleep(backoffDelay(attempt, ctx.retry, ctx.random, wait));
      // The next node either leads or answers 409 with the leader: one hop, no guessing.
      ctx.router.forgetLeader(target);
      target = ctx.router.nodeAfter(target);
      continue;
    }
    if ('err' in outcome) throw networkError(outcome.err).withInfo(info);
    return { res: outcome.res, info, ambiguous };
  }
}

export async function sendRead(ctx: CallContext, req: CallRequest): Promise<Answered> {
  const exchanges: Exchange[] = [];
  const order = ctx.router.readOrder();
  const tries = 1 + Math.min(ctx.readFailover, order.length - 1);
  for (let k = 0; ; k++) {
    const node = order[k];
    const outcome = await exchange(ctx, node, req, exchanges);
    const info: CallInfo = { node, hops: 0, attempts: k + 1, exchanges };
    if ('res' in outcome) return { res: outcome.res, info, ambiguous: false };
    if (outcome.err.kind !== 'connection' || k + 1 >= tries) throw networkError(outcome.err).withInfo(info);
  }
}

/** The leader to send this write to instead, when the answer says `target` does not lead. */
async function leaderToTry(ctx: CallContext, target: string, outcome: Outcome): Promise<string | undefined> {
  if ('res' in outcome) {
    const named = notLeaderTarget(outcome.res.status, outcome.res.body);
    if (named !== undefined) return named !== target ? named : undefined;
  }
  if (ctx.findLeader === undefined || !leaderLost(outcome)) return undefined;
  const found = await ctx.findLeader(target);
  const next = found === undefined ? undefined : trimSlash(found);
  return next !== target ? next : undefined;
}

/** The write's node is gone, or knows no leader: only asking around can tell where to go. */
function leaderLost(outcome: Outcome): boolean {
  if ('err' in outcome) return outcome.err.kind === 'connection';
  const { status, body } = outcome.res;
  return status === 503 || isLeaderlessNotLeader(status, body);
}

function isRetryable(outcome: Outcome): boolean {
  if ('err' in outcome) return outcome.err.kind !== 'other';
  return outcome.res.status === 503 || outcome.res.status === 504;
}

/** A refused connection or a 503 did nothing; a timeout, a reset or a 504 may have. */
function mayHaveTakenEffect(outcome: Outcome): boolean {
  if ('err' in outcome) return outcome.err.code !== 'ECONNREFUSED';
  return outcome.res.status === 504;
}

async function exchange(
  ctx: CallContext,
  node: string,
  req: CallRequest,
  exchanges: Exchange[],
): Promise<Outcome> {
  const bytesOut = req.body === undefined ? 0 : Buffer.byteLength(req.body);
  try {
    const res = await ctx.transport.request({
      method: req.method,
      url: node + req.path,
      headers: req.headers,
      body: req.body,
      timeoutMs: ctx.timeoutMs,
    });
    exchanges.push({ node, status: res.status, bytesOut, bytesIn: res.bytes });
    return { res };
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    exchanges.push({ node, status: 0, bytesOut, bytesIn: 0 });
    return { err };
  }
}

function networkError(err: TransportError): NetworkError {
  return new NetworkError(err.kind, err.message, err.code);
}
