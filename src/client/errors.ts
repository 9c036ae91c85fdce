// What a call throws. Every error carries how far the call got (the exchanges it made), so a
// caller can tell "the cluster said no" (ApiError, with the API's machine code) from "no answer"
// (NetworkError), and "this alias is taken" from "this node does not lead" among the 409s.
import type { ErrorBody } from '../domain/errors.js';
import type { CallInfo, Exchange } from './types.js';

export type { ErrorBody };

export abstract class ShortenerError extends Error implements CallInfo {
  node = '';
  hops = 0;
  attempts = 0;
  exchanges: Exchange[] = [];

  /** Fills in how the call went; the client calls it just before throwing. */
  withInfo(info: CallInfo): this {
    Object.assign(this, info);
    return this;
  }
}

/** The cluster answered with an error status. */
export class ApiError extends ShortenerError {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    /** From a Retry-After header (503, 429), in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(`${status} ${body.error}: ${body.message}`);
    this.name = 'ApiError';
  }

  /** The API's machine code: "not_found", "invalid_url", "alias_taken", … */
  get errorCode(): string {
    return this.body.error;
  }
}

/** 409 alias_taken: the alias belongs to another live short URL. Not a redirect to the leader. */
export class AliasTakenError extends ApiError {
  constructor(body: ErrorBody) {
    super(409, body);
    this.name = 'AliasTakenError';
  }

  get alias(): string | undefined {
    return typeof this.body.alias === 'string' ? this.body.alias : undefined;
  }
}

/** 409 not_leader after the client followed as many leaders as it may (maxLeaderHops). */
export class NotLeaderError extends ApiError {
  constructor(body: ErrorBody) {
    super(409, body);
    this.name = 'NotLeaderError';
  }

  get leaderUrl(): string | undefined {
    return typeof this.body.leaderUrl === 'string' ? this.body.leaderUrl : undefined;
  }
}

/**
 * No HTTP answer: a timeout (a write may still take effect: retry it with the same idempotency
 * key), a connection error (nothing reached a live node), or another failure.
 */
export class NetworkError extends ShortenerError {
  constructor(
    readonly kind: 'timeout' | 'connection' | 'other',
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

export function isAliasTaken(err: unknown): err is AliasTakenError {
  return err instanceof AliasTakenError;
}

export function isNotFound(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status === 404;
}
