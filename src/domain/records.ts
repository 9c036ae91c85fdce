// What the service stores and answers about short URLs: the record, the result of a create, and
// the rules every reader applies to them. The state machine (shortener/), HTTP, the client and
// the tools all speak these types; none of them owns them.

export interface UrlRecord {
  code: string;
  /** The long URL, normalized (WHATWG URL href). */
  url: string;
  /** Milliseconds since the epoch, decided by the leader at proposal time. */
  createdAt: number;
  /** When it stops redirecting (ms since the epoch, fixed by the leader); absent: never. */
  expiresAt?: number;
  /** The code is a custom alias chosen by the client (not generated). */
  alias?: boolean;
}

export interface CreateResult extends UrlRecord {
  /** false when the URL already had a code: the existing record is returned. */
  created: boolean;
  /** true when an Idempotency-Key matched an earlier create: this is that create's result. */
  replayed?: boolean;
}

/** A create as a client asks for it, with the leader's instants fixed; the code is the service's choice. */
export interface CreateRequest {
  url: string;
  /** The leader's "now" for this request: createdAt, and the base of the expiry and the key's lifetime. */
  createdAt: number;
  /** The client's own code; without one the service generates a code. Never deduplicated. */
  alias?: string;
  expiresAt?: number;
  /** The request's Idempotency-Key, what it was used for, and until when it is remembered. */
  idempotency?: { key: string; fingerprint: string; expiresAt: number };
}

/** One create command as proposed: the request with its code decided. */
export interface CreateCommandInput {
  code: string;
  url: string;
  createdAt: number;
  /** `code` is the client's alias: never deduplicated; taken → ConflictError(ALIAS_TAKEN). */
  alias?: boolean;
  expiresAt?: number;
  /** The request's Idempotency-Key, what it was used for, and until when it is remembered. */
  idempotency?: { key: string; fingerprint: string; expiresAt: number };
}

/**
 * True when the record has an expiry at or before `now`. Every node compares with its own clock
 * (reads) or the leader's instant carried in the command (apply), so this is the one rule for both.
 */
export function isExpired(record: Pick<UrlRecord, 'expiresAt'>, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}
