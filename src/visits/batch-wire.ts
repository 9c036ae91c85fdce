// How a follower hands its batch of visit counts to the leader: the JSON body of
// POST /cluster/visits, and its validation on the leader before anything is proposed.
//
//   {"origin": 2, "session": 3141592653, "seq": 17,
//    "visits": [["Xk3fP9a", 1763722800000, 20413, 5], ...]}   // [code, createdAt, day, count]
//
// The leader proposes the batch as it is (one `visits` command), so a retry of the same batch
// (same origin, session and seq) is recognised by apply and counts once.

import { isValidCodeSyntax } from '../domain/link-rules.js';
import { MAX_VISIT_DAY, type VisitCount, type VisitsCommand } from '../shortener/commands.js';

/** Counts per batch at most: one Raft entry stays well under a megabyte. */
export const MAX_VISITS_PER_BATCH = 5_000;
/** Body limit of POST /cluster/visits: a full batch of 64-character codes is about 600 KB. */
export const VISIT_BATCH_MAX_BODY_BYTES = 1024 * 1024;

const MAX_UINT32 = 0xffffffff;
/**
 * Visits in one batch, all counts together: what a node's counter can hold for one code in one
 * day, far beyond any real traffic between two flushes, and small enough that a stream of batches
 * keeps a code's total an exact integer for as long as anyone will count.
 */
export const MAX_VISITS_TOTAL_PER_BATCH = MAX_UINT32;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function visitBatchToWire(batch: VisitsCommand): string {
  return JSON.stringify({
    origin: batch.origin,
    session: batch.session,
    seq: batch.seq,
    visits: batch.visits.map((v) => [v.code, v.createdAt, v.day, v.count]),
  });
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

export function parseVisitBatch(body: unknown): Parsed<VisitsCommand> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'send a JSON object {"origin", "session", "seq", "visits"}' };
  }
  const { origin, session, seq, visits } = body as Record<string, unknown>;
  if (!isInt(origin, 1, MAX_UINT32)) return { ok: false, message: 'origin must be a node id' };
  if (!isInt(session, 0, MAX_UINT32)) return { ok: false, message: 'session must be a uint32' };
  if (!isInt(seq, 1, Number.MAX_SAFE_INTEGER))
    return { ok: false, message: 'seq must be a positive integer' };
  if (!Array.isArray(visits) || visits.length === 0 || visits.length > MAX_VISITS_PER_BATCH) {
    return { ok: false, message: `visits must be an array of 1 to ${MAX_VISITS_PER_BATCH} counts` };
  }
  const counts: VisitCount[] = [];
  let total = 0;
  for (const v of visits) {
    if (!Array.isArray(v) || v.length !== 4) {
      return { ok: false, message: 'each visit count is [code, createdAt, day, count]' };
    }
    const [code, createdAt, day, count] = v as unknown[];
    if (typeof code !== 'string' || !isValidCodeSyntax(code)) return { ok: false, message: 'invalid code' };
    if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) {
      return { ok: false, message: 'createdAt must be a number' };
    }
    if (!isInt(day, 0, MAX_VISIT_DAY)) return { ok: false, message: 'day must be a day number' };
    if (!isInt(count, 1, MAX_UINT32)) return { ok: false, message: 'count must be a positive integer' };
    total += count;
    if (total > MAX_VISITS_TOTAL_PER_BATCH) {
      return { ok: false, message: `a batch counts at most ${MAX_VISITS_TOTAL_PER_BATCH} visits in all` };
    }
    counts.push({ code, createdAt, day, count });
  }
  return { ok: true, value: { type: 'visits', origin, session, seq, visits: counts } };
}
