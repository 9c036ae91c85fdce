// What a seed decides before the run starts: cluster size, core tuning, how hostile the network
// is, how often nodes crash. Spreading these across seeds covers more ground than one profile
// (tiny message caps and windows exercise batching and flow control; some seeds run without
// PreVote or CheckQuorum, which must stay safe even if they are less live). Most seeds compact
// logs, some so eagerly that any follower that misses a few entries needs a snapshot.
import { DEFAULT_CONFIG, type CoreConfig } from '../../../src/raft/config.js';
import type { Faults } from './network.js';
import type { Prng } from './prng.js';

export interface SimSetup {
  size: number;
  config: CoreConfig;
  faults: Faults;
  /** Relative weights of the disruptive actions in the schedule. */
  crashWeight: number;
  partitionWeight: number;
  /** Start from the runtime's bootstrapped log rather than an empty one. */
  bootstrap: boolean;
  /** Relative weight of log compactions (0: never, so no snapshots either). */
  compactWeight: number;
  /** A compaction keeps 0..maxKeep entries behind the applied index (0 half the time). */
  maxKeep: number;
  /** How often a leader's runtime reports a snapshot transfer done as soon as it is sent. */
  earlySnapshotReports: number;
}

export function chooseSetup(rng: Prng): SimSetup {
  const flags = rng.weighted({ both: 7, none: 1, preVoteOnly: 1, checkQuorumOnly: 1 });
  const setup: SimSetup = {
    size: rng.chance(0.5) ? 3 : 5,
    config: {
      ...DEFAULT_CONFIG,
      electionTicks: rng.range(5, 12),
      heartbeatTicks: rng.pick([1, 1, 2]),
      // The last choice of each is production's (config.ts): tiny caps test batching and flow
      // control, the defaults test what ships.
      maxEntriesPerMessage: rng.pick([1, 2, 3, 8, DEFAULT_CONFIG.maxEntriesPerMessage]),
      // Payloads are ~10 bytes: 24 lets two or three through, so the byte cap really bites.
      maxBytesPerMessage: rng.pick([24, DEFAULT_CONFIG.maxBytesPerMessage]),
      maxInflightMessages: rng.pick([1, 2, 4, DEFAULT_CONFIG.maxInflightMessages]),
      preVote: flags === 'both' || flags === 'preVoteOnly',
      checkQuorum: flags === 'both' || flags === 'checkQuorumOnly',
    },
    faults: {
      dropRate: rng.pick([0, 0.02, 0.1, 0.25]),
      dupRate: rng.pick([0, 0.03, 0.1]),
      maxDelay: rng.pick([0, 1, 3, 6]),
    },
    crashWeight: rng.pick([0, 0.1, 0.3, 1]),
    partitionWeight: rng.pick([0, 0.1, 0.3, 1]),
    bootstrap: rng.chance(0.5),
    compactWeight: rng.pick([0, 0.3, 1, 3]),
    maxKeep: rng.pick([1, 3, 10]),
    earlySnapshotReports: rng.pick([0, 0, 0.5, 1]),
  };
  // Drawn last so that the fields above stay what they were for every seed.
  setup.config.lazyCommitBroadcast = rng.chance(0.5);
  return setup;
}

export function describeSetup(s: SimSetup): string {
  const c = s.config;
  return (
    `${s.size} nodes; electionTicks=${c.electionTicks} heartbeatTicks=${c.heartbeatTicks} ` +
    `maxEntries=${c.maxEntriesPerMessage} maxBytes=${c.maxBytesPerMessage} inflight=${c.maxInflightMessages} ` +
    `preVote=${c.preVote} checkQuorum=${c.checkQuorum} lazyCommit=${!!c.lazyCommitBroadcast}; drop=${s.faults.dropRate} dup=${s.faults.dupRate} ` +
    `maxDelay=${s.faults.maxDelay}; crash=${s.crashWeight} partition=${s.partitionWeight}; bootstrap=${s.bootstrap}; ` +
    `compact=${s.compactWeight} keep≤${s.maxKeep} earlyReports=${s.earlySnapshotReports}`
  );
}
