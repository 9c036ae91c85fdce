// What every write route (POST /shorten, DELETE /api/urls/:code) runs before its handler: the API
// key check, then the per-client rate limit. In that order, so that with API keys only clients
// holding the key spend tokens, and a refused write never has its body parsed.
import type { RequestHandler } from 'express';
import { requireApiKey } from './auth.js';
import { HttpError } from './errors.js';
import { clientKey, TokenBuckets, type WriteRateLimit } from './rate-limit.js';

export function guardWrites(options: { apiKey?: string; rateLimit?: WriteRateLimit }): RequestHandler {
  const checkKey = requireApiKey(options.apiKey);
  if (options.rateLimit === undefined) return checkKey;
  const buckets = new TokenBuckets(options.rateLimit);
  const withApiKey = options.apiKey !== undefined;
  const limits = `at most ${buckets.perSecond} write(s) per second, bursts of ${buckets.burst}`;
  return (req, res, next) => {
    checkKey(req, res, (err?: unknown) => {
      if (err !== undefined) return next(err);
      const taken = buckets.take(clientKey(req, withApiKey));
      if (taken.ok) return next();
      const wait = taken.retryAfterSeconds;
      next(
        new HttpError(
          429,
          'rate_limited',
          `too many writes from this client (${limits}); retry in ${wait} s`,
          { 'Retry-After': String(wait) },
          { retryAfterSeconds: wait },
        ),
      );
    });
  };
}
