// What every write route (POST /shorten, DELETE /api/urls/:code) runs before its handler: the API
// key check, then the per-client rate limit, then the free disk space. In that order, so that with
// API keys only clients holding the key spend tokens, and a refused write never has its body parsed.
// The check is a plain function of the request, so the hot routes run the very same one.
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { apiKeyError } from './auth.js';
import { HttpError } from './errors.js';
import type { ClientAddressOf } from './client-address.js';
import { clientKey, TokenBuckets, type WriteRateLimit } from './rate-limit.js';

/** The error that refuses this write, or undefined when it may go on. */
export type WriteCheck = (req: IncomingMessage) => HttpError | undefined;

/** Why this node takes no writes now (its disk is nearly full), or undefined. */
export type DiskSpaceProblem = () => string | undefined;

export function insufficientStorage(problem: DiskSpaceProblem | undefined): HttpError | undefined {
  const message = problem?.();
  return message === undefined ? undefined : new HttpError(507, 'insufficient_storage', message);
}

export function writeCheck(options: {
  apiKey?: string;
  rateLimit?: WriteRateLimit;
  diskSpaceProblem?: DiskSpaceProblem;
  /** The client's address behind trusted proxies; default the socket's peer. */
  clientAddressOf?: ClientAddressOf;
}): WriteCheck {
  const access = accessCheck(options);
  const { diskSpaceProblem } = options;
  if (diskSpaceProblem === undefined) return access;
  return (req) => access(req) ?? insufficientStorage(diskSpaceProblem);
}

function accessCheck(options: {
  apiKey?: string;
  rateLimit?: WriteRateLimit;
  clientAddressOf?: ClientAddressOf;
}): WriteCheck {
  const addressOf = options.clientAddressOf;
  const { apiKey } = options;
  if (options.rateLimit === undefined) return (req) => apiKeyError(req, apiKey);
  const buckets = new TokenBuckets(options.rateLimit);
  const withApiKey = apiKey !== undefined;
  const limits = `at most ${buckets.perSecond} write(s) per second, bursts of ${buckets.burst}`;
  return (req) => {
    const refused = apiKeyError(req, apiKey);
    if (refused !== undefined) return refused;
    const taken = buckets.take(clientKey(req, withApiKey, addressOf?.(req)));
    if (taken.ok) return undefined;
    const wait = taken.retryAfterSeconds;
    return new HttpError(
      429,
      'rate_limited',
      `too many writes from this client (${limits}); retry in ${wait} s`,
      { 'Retry-After': String(wait) },
      { retryAfterSeconds: wait },
    );
  };
}

export function guardWrites(check: WriteCheck): RequestHandler {
  return (req, _res, next) => next(check(req));
}
