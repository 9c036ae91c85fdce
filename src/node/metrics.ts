// Prometheus metrics of one node's Raft runtime. Gauges are read from the runtime when scraped,
// so the hot path only pays for counters and histogram observations.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RaftStatus } from '../raft/index.js';

const ROLES = ['follower', 'pre-candidate', 'candidate', 'leader'] as const;

/** Latency buckets in seconds, from 100 µs (an fsync on a fast disk) to 5 s (a commit timeout). */
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export class RaftMetrics {
  readonly proposals: Counter;
  readonly proposalsFailed: Counter;
  readonly electionsStarted: Counter;
  readonly electionsWon: Counter;
  readonly commitLatency: Histogram;
  readonly fsyncLatency: Histogram;
  readonly applyBatchSize: Histogram;
  readonly persistBatchSize: Histogram;
  readonly snapshotsSent: Counter;
  readonly snapshotBytesSent: Counter;
  readonly snapshotsFailed: Counter;
  readonly snapshotsInstalled: Counter;
  readonly compactions: Counter;

  constructor(
    registry: Registry,
    status: () => RaftStatus & { appliedIndex: number; snapshotIndex: number },
  ) {
    const registers = [registry];
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    this.snapshotsSent = counter(
      'raft_snapshots_sent_total',
      'Snapshots streamed to followers and stored by them.',
    );
    this.snapshotBytesSent = counter(
      'raft_snapshot_bytes_sent_total',
      'Bytes of snapshots streamed to followers.',
    );
    this.snapshotsFailed = counter(
      'raft_snapshots_failed_total',
      'Snapshot transfers to followers that failed.',
    );
    this.snapshotsInstalled = counter(
      'raft_snapshots_installed_total',
      'Snapshots from the leader installed here.',
    );
    this.compactions = counter('raft_log_compactions_total', 'Times this node compacted its log.');
    this.proposals = new Counter({
      name: 'raft_proposals_total',
      help: 'Commands proposed on this node as leader.',
      registers,
    });
    this.proposalsFailed = new Counter({
      name: 'raft_proposals_failed_total',
      help: 'Proposals that timed out or were dropped by a leadership change.',
      registers,
    });
    this.electionsStarted = new Counter({
      name: 'raft_elections_started_total',
      help: 'Times this node became a (pre-)candidate.',
      registers,
    });
    this.electionsWon = new Counter({
      name: 'raft_elections_won_total',
      help: 'Times this node became leader.',
      registers,
    });
    this.commitLatency = new Histogram({
      name: 'raft_commit_latency_seconds',
      help: 'From proposal to the entry being applied on this leader.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.fsyncLatency = new Histogram({
      name: 'raft_fsync_latency_seconds',
      help: 'Durable write of one Ready batch (hard state + entries, one fsync).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.persistBatchSize = new Histogram({
      name: 'raft_persist_batch_entries',
      help: 'Log entries written per durable write (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.applyBatchSize = new Histogram({
      name: 'raft_apply_batch_entries',
      help: 'Committed entries applied per state-machine transaction.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers,
    });

    new Gauge({
      name: 'raft_role',
      help: "This node's role: 1 for the current one.",
      labelNames: ['role'],
      registers,
      collect() {
        const role = status().role;
        for (const r of ROLES) this.set({ role: r }, r === role ? 1 : 0);
      },
    });
    const simple = (name: string, help: string, read: (s: ReturnType<typeof status>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(status()));
        },
      });
    simple('raft_term', 'Current term.', (s) => s.term);
    simple('raft_leader_id', 'Id of the known leader (0: none).', (s) => s.leaderId);
    simple('raft_commit_index', 'Highest log index known committed.', (s) => s.commitIndex);
    simple('raft_applied_index', 'Highest log index applied to the URL store.', (s) => s.appliedIndex);
    simple('raft_last_index', "Last index in this node's log.", (s) => s.lastIndex);
    simple(
      'raft_snapshot_index',
      'Index the log is compacted to (its first entry follows it).',
      (s) => s.snapshotIndex,
    );
    new Gauge({
      name: 'raft_peer_match_index',
      help: 'Leader only: highest index known replicated on each peer.',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [id, pr] of status().progress) this.set({ peer: String(id) }, pr.matchIndex);
      },
    });
    new Gauge({
      name: 'raft_peer_lag_entries',
      help: "Leader only: entries each peer is behind the leader's last index.",
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        const s = status();
        for (const [id, pr] of s.progress)
          this.set({ peer: String(id) }, Math.max(0, s.lastIndex - pr.matchIndex));
      },
    });
  }
}
