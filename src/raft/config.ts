// The one set of defaults for the consensus core: what production runs. The runtime starts from
// these (its timing options override the tick counts), scripted scenarios start from them, and the
// random simulation draws its message caps and windows from lists that include them, so the
// configuration that ships is also the one that is tested.
import type { RaftConfig } from './api.js';

/** Everything in RaftConfig except who the node is and where its randomness comes from. */
export type CoreConfig = Omit<RaftConfig, 'id' | 'random'>;

export const DEFAULT_CONFIG: Readonly<CoreConfig> = {
  electionTicks: 25,
  heartbeatTicks: 5,
  maxEntriesPerMessage: 1024,
  maxBytesPerMessage: 1 << 20,
  maxInflightMessages: 256,
  preVote: true,
  checkQuorum: true,
};

/** Wall-clock length of one tick in production: elections time out after 250–500 ms. */
export const DEFAULT_TICK_MS = 10;

/**
 * How long a production leader holds a commit advance for the next AppendEntries to carry
 * (RaftConfig.lazyCommitBroadcast); 0 would send it at once.
 */
export const DEFAULT_COMMIT_BROADCAST_DELAY_MS = 2;
