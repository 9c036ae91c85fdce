// ReadIndex (Raft thesis §6.4): a read request is remembered with the commit index at the time
// it arrived; once a majority answers a heartbeat sent after it, the leader knows it was still the
// leader then, so a read at that index is linearizable.
import type { NodeId } from './types.js';

export interface PendingRead {
  index: number;
  /** Who asked: this node (its own client) or a follower forwarding its client's request. */
  from: NodeId;
  context: Uint8Array;
  acks: Set<NodeId>;
}

// A string key per context, without Node's Buffer: the core uses no Node APIs.
function key(context: Uint8Array): string {
  let s = '';
  for (let i = 0; i < context.length; i++) s += String.fromCharCode(context[i]);
  return s;
}

export class ReadOnlyQueue {
  private readonly byKey = new Map<string, PendingRead>();
  private readonly order: string[] = [];

  add(context: Uint8Array, index: number, from: NodeId, self: NodeId): void {
    const k = key(context);
    if (this.byKey.has(k)) return;
    this.byKey.set(k, { index, from, context, acks: new Set([self]) });
    this.order.push(k);
  }

  /** Records a heartbeat ack carrying `context`; returns how many voters acked that request. */
  recvAck(from: NodeId, context: Uint8Array): Set<NodeId> | undefined {
    const pending = this.byKey.get(key(context));
    if (!pending) return undefined;
    pending.acks.add(from);
    return pending.acks;
  }

  /** Removes and returns every request up to and including the one for `context` (in order). */
  advance(context: Uint8Array): PendingRead[] {
    const k = key(context);
    const at = this.order.indexOf(k);
    if (at < 0) return [];
    const released = this.order.splice(0, at + 1).map((kk) => {
      const p = this.byKey.get(kk)!;
      this.byKey.delete(kk);
      return p;
    });
    return released;
  }

  lastPendingContext(): Uint8Array | undefined {
    const k = this.order[this.order.length - 1];
    return k === undefined ? undefined : this.byKey.get(k)!.context;
  }

  get size(): number {
    return this.order.length;
  }

  reset(): void {
    this.byKey.clear();
    this.order.length = 0;
  }
}
