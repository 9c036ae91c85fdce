// The history the bench writes: write k (0-based) of W, with a live set of L URLs.
//   k < L:  create URL k
//   k >= L: alternately create the next URL and delete the oldest live one (FIFO),
// so the live set stays at L (±1) and, after any number of writes, the live URLs are exactly
// those numbered [deleted, created). Both creates and deletes count as writes. Every URL is
// distinct (never deduplicated) and no code is ever reused.

export type Op = { kind: 'create'; n: number } | { kind: 'delete'; n: number };

export function opAt(k: number, live: number): Op {
  if (k < live) return { kind: 'create', n: k };
  const m = k - live;
  return m % 2 === 0 ? { kind: 'create', n: live + m / 2 } : { kind: 'delete', n: (m - 1) / 2 };
}

/** URLs [from, to) are live once `writes` writes are applied. */
export function liveRange(writes: number, live: number): { from: number; to: number } {
  if (writes <= live) return { from: 0, to: writes };
  const m = writes - live;
  return { from: Math.floor(m / 2), to: live + Math.ceil(m / 2) };
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A 7-character code, like the generator's (zero-padded base 62 of n: never a reserved word). */
export function codeOf(n: number): string {
  let s = '';
  let v = n;
  do {
    s = ALPHABET[v % 62] + s;
    v = Math.floor(v / 62);
  } while (v > 0);
  return s.padStart(7, '0');
}

/** A typical long-ish URL (about 70 bytes). */
export function urlOf(n: number): string {
  return `https://example.com/articles/${n}/snapshot-bench?utm_source=bench&utm_medium=x`;
}

/** `count` distinct random integers from [from, to) (all of them when the range is smaller). */
export function sampleRange(from: number, to: number, count: number): number[] {
  const size = to - from;
  if (size <= count) return Array.from({ length: Math.max(0, size) }, (_, i) => from + i);
  const picked = new Set<number>();
  while (picked.size < count) picked.add(from + Math.floor(Math.random() * size));
  return [...picked];
}
