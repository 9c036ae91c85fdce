// One seeded run: choose a setup, run the faulty schedule, heal, demand liveness. Everything is a
// function of the seed, so a failing seed replays exactly.
import { Cluster } from './cluster.js';
import { boundsFor, checkLiveness, heal, type LivenessResult } from './liveness.js';
import { Prng } from './prng.js';
import { RandomSchedule, type ScheduleCounters } from './schedule.js';
import { chooseSetup, describeSetup } from './setup.js';

export interface RunSummary {
  seed: number;
  setup: string;
  size: number;
  ticks: number;
  schedule: ScheduleCounters;
  cluster: Cluster['stats'];
  network: Cluster['network']['stats'];
  checks: Cluster['checker']['counters'];
  liveness: LivenessResult;
}

/** A failed run, with what is needed to understand and replay it. */
export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly setup: string,
    readonly error: unknown,
    readonly recentEvents: string[],
    readonly state: string,
  ) {
    super(`seed ${seed}: ${error instanceof Error ? error.message : String(error)}`);
    this.name = 'SimulationFailure';
  }

  report(replayCommand: string): string {
    const stack =
      this.error instanceof Error && this.error.name !== 'InvariantViolation' ? `\n${this.error.stack}` : '';
    return [
      `simulation seed ${this.seed} failed: ${this.error instanceof Error ? this.error.message : String(this.error)}${stack}`,
      `replay: ${replayCommand}`,
      `setup: ${this.setup}`,
      `state:\n${this.state}`,
      `last ${this.recentEvents.length} events:`,
      ...this.recentEvents,
    ].join('\n');
  }
}

export function runSimulation(seed: number, steps: number, eventCapacity = 50): RunSummary {
  const prng = new Prng(seed);
  const setup = chooseSetup(prng.fork(1));
  const cluster = new Cluster({
    size: setup.size,
    config: setup.config,
    prng: prng.fork(2),
    eventCapacity,
    bootstrap: setup.bootstrap,
    earlySnapshotReports: setup.earlySnapshotReports,
  });
  cluster.network.faults = setup.faults;
  const schedule = new RandomSchedule(cluster, prng.fork(3), setup);
  try {
    schedule.run(steps);
    heal(cluster);
    const liveness = checkLiveness(cluster, boundsFor(setup.config.electionTicks));
    return {
      seed,
      setup: describeSetup(setup),
      size: setup.size,
      ticks: cluster.now,
      schedule: schedule.counters,
      cluster: cluster.stats,
      network: cluster.network.stats,
      checks: cluster.checker.counters,
      liveness,
    };
  } catch (err) {
    let state: string;
    try {
      state = cluster.describe();
    } catch (e) {
      state = `(status() threw: ${String(e)})`;
    }
    throw new SimulationFailure(seed, describeSetup(setup), err, cluster.events.tail(), state);
  }
}
