// The service's refusals. Each carries a stable machine code (`errorCode`, what an API client
// reads in `error`) and a kind: what sort of refusal it is, which is all a transport needs to
// choose its answer (HTTP maps kinds to statuses in one table, http/error-table.ts). Raised by the
// link service and cluster administration, by test fakes, and passed on from a leader's answer.

export type ErrorKind =
  /** Another node leads: the caller should go there (details name it). */
  | 'not_leader'
  /** No leader is known: try again shortly. */
  | 'no_leader'
  /** Proposed but not committed in time; it may still commit. */
  | 'commit_timeout'
  /** This node cannot serve the request now (shutting down, disk full, superseded, removed). */
  | 'unavailable'
  /** The state as it stands refuses the request (a taken alias, a pending membership change). */
  | 'conflict'
  /** The request repeats an earlier one's key with different content. */
  | 'key_reused'
  /** The caller may not make this request (a visit batch from a node that is not a member). */
  | 'forbidden';

/** Machine codes the service raises itself (a forwarded leader's answer may carry others). */
export const NOT_LEADER = 'not_leader';
export const NO_LEADER = 'no_leader';
export const COMMIT_TIMEOUT = 'commit_timeout';
export const UNAVAILABLE = 'unavailable';
/** The proposed generated code belongs to another URL: the link service retries with a fresh one. */
export const CODE_TAKEN = 'code_taken';
/** The client's alias already belongs to a live short URL. */
export const ALIAS_TAKEN = 'alias_taken';
/** The Idempotency-Key was first used with another request. */
export const IDEMPOTENCY_KEY_REUSED = 'idempotency_key_reused';
export const MEMBER_EXISTS = 'member_exists';
export const NOT_A_MEMBER = 'not_a_member';
export const MEMBERSHIP_CHANGE_IN_PROGRESS = 'membership_change_in_progress';

/** How a refusal is reported to a remote caller: the code, the message, and the details. */
export interface ErrorBody {
  error: string;
  message: string;
  [extra: string]: unknown;
}

export abstract class ServiceError extends Error {
  abstract readonly kind: ErrorKind;

  constructor(
    readonly errorCode: string,
    message: string,
    /** More fields of the answer, next to the code and the message. */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** This node cannot take writes. leaderId 0 / leaderUrl null: no leader is known. */
export class NotLeaderError extends ServiceError {
  readonly kind: ErrorKind;

  constructor(
    readonly leaderId: number,
    readonly leaderUrl: string | null,
  ) {
    super(
      leaderId ? NOT_LEADER : NO_LEADER,
      leaderId ? `this node is not the leader; send writes to node ${leaderId}` : 'no leader is known',
      // Clients and the join script follow leaderUrl; the answer's shape is part of the contract.
      leaderId ? { leaderId, leaderUrl } : undefined,
    );
    this.kind = leaderId ? 'not_leader' : 'no_leader';
    this.name = 'NotLeaderError';
  }
}

/** The write was proposed but did not commit in time; it may still commit later. */
export class CommitTimeoutError extends ServiceError {
  readonly kind = 'commit_timeout';

  constructor(readonly timeoutMs: number) {
    super(COMMIT_TIMEOUT, `the write did not commit within ${timeoutMs} ms; it may still be applied`);
    this.name = 'CommitTimeoutError';
  }
}

/** The node is shutting down or otherwise cannot serve the request now. */
export class UnavailableError extends ServiceError {
  readonly kind = 'unavailable';

  constructor(message: string) {
    super(UNAVAILABLE, message);
    this.name = 'UnavailableError';
  }
}

/** A request the cluster refuses as it stands, e.g. a second membership change while one is pending. */
export class ConflictError extends ServiceError {
  readonly kind = 'conflict';

  constructor(errorCode: string, message: string, details?: Readonly<Record<string, unknown>>) {
    super(errorCode, message, details);
    this.name = 'ConflictError';
  }
}

/** The Idempotency-Key of a create was first used with a different request. */
export class IdempotencyKeyReusedError extends ServiceError {
  readonly kind = 'key_reused';

  constructor() {
    super(
      IDEMPOTENCY_KEY_REUSED,
      'this Idempotency-Key was already used with a different request; use a new key for a new request',
    );
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** The caller may not make this request. */
export class ForbiddenError extends ServiceError {
  readonly kind = 'forbidden';

  constructor(errorCode: string, message: string) {
    super(errorCode, message);
    this.name = 'ForbiddenError';
  }
}

/** The client's alias is taken: 409 alias_taken, naming the alias. */
export function aliasTaken(alias: string): ConflictError {
  return new ConflictError(ALIAS_TAKEN, `the alias "${alias}" is already taken`, { alias });
}
