// Comparing secrets (cluster tokens, API keys) without leaking their contents through timing.
import { createHash, timingSafeEqual } from 'node:crypto';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** True when `presented` equals `required`; constant-time whatever the presented length. */
export function secretMatches(presented: string | undefined, required: string): boolean {
  if (typeof presented !== 'string') return false;
  // Hashing both sides makes the compared buffers the same length.
  return timingSafeEqual(sha256(presented), sha256(required));
}
