// The healed phase of a run: every node up, no drops, no partitions. Safety alone would be met by
// a cluster that does nothing, so here we demand progress within bounds counted in election
// timeouts: a leader appears, and proposals made to it are applied on every node.
import { InvariantViolation } from './invariants.js';
import type { Cluster } from './cluster.js';

export interface LivenessBounds {
  /** Ticks from the heal until a leader that no node has moved past exists. */
  electionTicks: number;
  /** Ticks from a proposal until every node has applied it. */
  commitTicks: number;
  /** How many proposals must go through, one after another. */
  proposals: number;
}

export interface LivenessResult {
  ticksToLeader: number;
  ticksToApply: number[];
}

export function boundsFor(electionTicks: number): LivenessBounds {
  return { electionTicks: 20 * electionTicks, commitTicks: 10 * electionTicks, proposals: 3 };
}

export function heal(cluster: Cluster): void {
  cluster.network.heal();
  // No delay either: a settle() then carries every round trip a tick allows, so the bounds below
  // measure the core (timeouts, backtracking, flow control), not the network's latency.
  cluster.network.faults = { dropRate: 0, dupRate: 0, maxDelay: 0 };
  for (const id of cluster.downIds()) cluster.restart(id);
  cluster.events.add('healed: all nodes up, no drops, no partitions');
  cluster.settle();
}

/** One round of the healed phase: every node ticks, then everything due is handled. */
function round(cluster: Cluster): void {
  cluster.tick();
  cluster.settle();
}

export function checkLiveness(cluster: Cluster, bounds: LivenessBounds): LivenessResult {
  let ticks = 0;
  while (cluster.stableLeader() === undefined) {
    if (ticks >= bounds.electionTicks) {
      throw new InvariantViolation(
        `liveness: no leader ${bounds.electionTicks} ticks after the heal\n${cluster.describe()}`,
      );
    }
    round(cluster);
    ticks++;
  }
  const result: LivenessResult = { ticksToLeader: ticks, ticksToApply: [] };

  for (let k = 0; k < bounds.proposals; k++) {
    let spent = 0;
    let attempt = 0;
    let payload = '';
    let proposedAtTerm = -1;
    for (;;) {
      const at = payload ? cluster.checker.appliedIndexOf(payload) : undefined;
      if (at !== undefined && cluster.ids.every((id) => cluster.node(id).applied >= at)) break;
      // (Re)propose when there is no proposal yet, or leadership moved on before it committed:
      // a new leader may legitimately have dropped an uncommitted entry.
      const leader = cluster.stableLeader();
      if (leader !== undefined && at === undefined && cluster.status(leader).term > proposedAtTerm) {
        const next = `live${k}.${attempt++}`;
        const outcome = cluster.propose(leader, next);
        if ('ticket' in outcome) {
          payload = next;
          proposedAtTerm = outcome.ticket.term;
          cluster.settle();
          continue;
        }
      }
      if (spent >= bounds.commitTicks) {
        throw new InvariantViolation(
          `liveness: proposal ${payload || '(none accepted)'} not applied on every node within ` +
            `${bounds.commitTicks} ticks\n${cluster.describe()}`,
        );
      }
      round(cluster);
      spent++;
    }
    result.ticksToApply.push(spent);
  }
  return result;
}
