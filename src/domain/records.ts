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
  /** Distinct, sorted, valid tags (src/shortener/link-tags.ts); absent: none. */
  tags?: string[];
  /** After this many visits the short URL answers 410 (see the visit limit in the README). */
  maxVisits?: number;
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
  /** Distinct and sorted; a create with tags always makes a new code. */
  tags?: string[];
  /** After this many visits: 410. A create with a limit always makes a new code. */
  maxVisits?: number;
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
  /** Distinct and sorted; a create with tags always makes a new code. */
  tags?: string[];
  /** After this many visits: 410. A create with a limit always makes a new code. */
  maxVisits?: number;
}

/** A change to a short URL; absent fields stay as they are (see UpdateCommand). */
export interface UpdateCommandInput {
  code: string;
  /** The leader's instant: a record expired at it is refused. */
  updatedAt: number;
  url?: string;
  /** null removes the expiry. */
  expiresAt?: number | null;
  /** Distinct and sorted; [] removes every tag. */
  tags?: string[];
  /** null removes the limit. */
  maxVisits?: number | null;
}

/** What an update did: the record as it is now, or why nothing changed. */
export type UpdateOutcome =
  { record: UrlRecord } | { refused: 'not_found' } | { refused: 'expired'; expiresAt: number };

/** One page of the list of short URLs (GET /api/urls), newest first. */
export interface ListQuery {
  limit: number;
  /** Where the previous page ended (its `next`): the page starts just after it. */
  cursor?: Buffer;
  /** Only links with this tag. */
  tag?: string;
  /** Only links whose code or URL contains this, case-insensitively. */
  q?: string;
  /** At most this many index entries are read for one page (a rare match stops early). */
  scanLimit: number;
}

export interface ListPage {
  records: UrlRecord[];
  /** Where the next page starts; undefined when there is no more. */
  next?: Buffer;
}

/**
 * True when the record has an expiry at or before `now`. Every node compares with its own clock
 * (reads) or the leader's instant carried in the command (apply), so this is the one rule for both.
 */
export function isExpired(record: Pick<UrlRecord, 'expiresAt'>, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}
