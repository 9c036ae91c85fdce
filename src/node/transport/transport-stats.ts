/** Counters in messages (not batches), so they can be compared with each other. */
export interface TransportStats {
  /** Handed to a peer's gRPC stream. A stream that breaks later may still lose some of them. */
  sent: number;
  /** Discarded by this node before reaching a stream: unknown peer, peer down, queue full, stop. */
  dropped: number;
  /** Delivered to onMessages. */
  received: number;
  /** Arrived but not delivered: wrong cluster id, addressed to another node, or undecodable. */
  refused: number;
}

export function emptyStats(): TransportStats {
  return { sent: 0, dropped: 0, received: 0, refused: 0 };
}
