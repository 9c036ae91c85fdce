// What the transport refused, by reason, on /metrics: a peer sending garbage shows up here
// instead of in a crash.
import { Counter, type Registry } from 'prom-client';

export class TransportMetrics {
  readonly messagesRefused: Counter<'reason'>;
  readonly snapshotsRefused: Counter<'reason'>;

  constructor(registry: Registry) {
    this.messagesRefused = new Counter({
      name: 'raft_messages_refused_total',
      help: 'Raft messages from peers dropped before reaching the core, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.snapshotsRefused = new Counter({
      name: 'raft_snapshots_refused_total',
      help: 'Incoming snapshot transfers refused or abandoned, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
  }
}
