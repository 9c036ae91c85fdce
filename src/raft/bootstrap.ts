// A brand-new cluster starts with its initial membership written into the log as committed
// configuration-change entries (as etcd does), so that a node joining later learns the full
// membership history by replication instead of needing it out of band.
import type { PersistedState } from './api.js';
import { ConfChangeType, encodeConfChange } from './confchange.js';
import { EntryType, type Entry, type NodeId } from './types.js';

export function bootstrapState(voters: ReadonlyArray<{ id: NodeId; context: Uint8Array }>): PersistedState {
  const entries: Entry[] = voters.map((v, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({ type: ConfChangeType.AddVoter, nodeId: v.id, context: v.context }),
  }));
  return {
    hardState: { term: 1, vote: 0, commit: entries.length },
    entries,
    confState: { voters: voters.map((v) => v.id).sort((a, b) => a - b), learners: [] },
    applied: 0,
  };
}
