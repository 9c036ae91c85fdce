import type { RefusalReason } from './validate-message.js';

/** Counters in messages (not batches), so they can be compared with each other. */
export interface TransportStats {
  /** Handed to a peer's gRPC stream. A stream that breaks later may still lose some of them. */
  sent: number;
  /** Discarded by this node before reaching a stream: unknown peer, peer down, queue full, stop. */
  dropped: number;
  /** Delivered to onMessages. */
  received: number;
  /** Arrived but not delivered: failed a check of validate-message.ts. */
  refused: number;
  /** Streams refused because the sender's node UUID is not the one its member record holds. */
  refusedIdentity: number;
  /** `refused`, by reason. */
  refusals: Partial<Record<RefusalReason, number>>;
}

export function emptyStats(): TransportStats {
  return { sent: 0, dropped: 0, received: 0, refused: 0, refusedIdentity: 0, refusals: {} };
}
