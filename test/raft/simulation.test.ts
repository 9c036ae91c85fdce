// Seeded random schedules against the consensus core: safety after every step, liveness after a
// heal. The schedules include log compaction and snapshot transfers (see sim/cluster.ts), so the
// same checks cover followers that catch up by snapshot and nodes restarted from one. Environment:
//   SIM_SEEDS=<n>       how many seeds (default 1000), starting at SIM_FIRST_SEED (default 1)
//   SIM_SEED=<n>        replay exactly one seed (and print its summary)
//   SIM_STEPS=<n>       steps of the faulty phase per seed (default below)
//   SIM_EVENTS=<n>      how many recent events a failure shows (default 50)
import { describe, expect, it } from 'vitest';
import { runSimulation, SimulationFailure, type RunSummary } from './sim/run.js';
import { yieldToEventLoop } from '../yield.js';

const DEFAULT_STEPS = 10_000;
const SEEDS_PER_TEST = 25;

const env = process.env;
const steps = intEnv('SIM_STEPS', DEFAULT_STEPS);
const eventCapacity = intEnv('SIM_EVENTS', 50);
const replaySeed = env.SIM_SEED !== undefined ? intEnv('SIM_SEED', 0) : undefined;
const seedCount = intEnv('SIM_SEEDS', 1000);
const firstSeed = intEnv('SIM_FIRST_SEED', 1);

function intEnv(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

function replayCommand(seed: number): string {
  const extra = steps !== DEFAULT_STEPS ? ` SIM_STEPS=${steps}` : '';
  return `SIM_SEED=${seed}${extra} npx vitest run test/raft/simulation.test.ts`;
}

/** Runs one seed; a failure becomes an assertion message that says how to replay it. */
function runSeed(seed: number): RunSummary {
  try {
    return runSimulation(seed, steps, eventCapacity);
  } catch (err) {
    if (err instanceof SimulationFailure) throw new Error(err.report(replayCommand(seed)));
    throw err;
  }
}

describe('raft simulation', () => {
  if (replaySeed !== undefined) {
    it(`replays seed ${replaySeed}`, () => {
      const summary = runSeed(replaySeed);
      console.log(JSON.stringify(summary, null, 2));
      // runSeed throws on any violated invariant; a replay must also have run the seed asked for.
      expect(summary.seed).toBe(replaySeed);
      expect(summary.ticks).toBeGreaterThan(0);
    });
    return;
  }

  for (let start = firstSeed; start < firstSeed + seedCount; start += SEEDS_PER_TEST) {
    const end = Math.min(start + SEEDS_PER_TEST, firstSeed + seedCount) - 1;
    it(`seeds ${start}..${end}`, { timeout: 300_000 }, async () => {
      const failures: { seed: number; message: string }[] = [];
      const totals = {
        leaders: 0,
        commits: 0,
        crashes: 0,
        lostReadies: 0,
        dropped: 0,
        notLeader: 0,
        reads: 0,
        compactions: 0,
        transfers: 0,
        installs: 0,
        restartsFromSnapshot: 0,
        sizes: new Set<number>(),
      };
      for (let seed = start; seed <= end; seed++) {
        // One seed is the longest stretch this test keeps the worker's event loop busy.
        await yieldToEventLoop();
        let s: RunSummary;
        try {
          s = runSeed(seed);
        } catch (err) {
          failures.push({ seed, message: err instanceof Error ? err.message : String(err) });
          continue;
        }
        totals.leaders += s.checks.leadersSeen;
        totals.commits += s.checks.commits;
        totals.crashes += s.cluster.crashes;
        totals.lostReadies += s.cluster.lostReadies;
        totals.dropped += s.network.dropped;
        totals.notLeader += s.cluster.notLeader;
        totals.reads += s.checks.readStates;
        totals.compactions += s.cluster.compactions;
        totals.transfers += s.cluster.transfers;
        totals.installs += s.cluster.installs;
        totals.restartsFromSnapshot += s.cluster.restartsFromSnapshot;
        totals.sizes.add(s.size);
      }
      if (failures.length > 0) {
        const others = failures.slice(1).map((f) => f.seed);
        const also = others.length ? `\n(also failing in this batch: seeds ${others.join(', ')})` : '';
        expect.fail(`${failures[0].message}${also}`);
      }
      // A simulation that quietly stopped exercising things would prove nothing: check that this
      // batch saw elections, commits, crashes mid-Ready, drops, refusals, reads, compactions,
      // snapshot transfers and installs, and restarts from a snapshot.
      if (end - start + 1 >= SEEDS_PER_TEST) {
        expect(totals.leaders).toBeGreaterThan(0);
        expect(totals.commits).toBeGreaterThan(0);
        expect(totals.crashes).toBeGreaterThan(0);
        expect(totals.lostReadies).toBeGreaterThan(0);
        expect(totals.dropped).toBeGreaterThan(0);
        expect(totals.notLeader).toBeGreaterThan(0);
        expect(totals.reads).toBeGreaterThan(0);
        expect(totals.compactions).toBeGreaterThan(0);
        expect(totals.transfers).toBeGreaterThan(0);
        expect(totals.installs).toBeGreaterThan(0);
        expect(totals.restartsFromSnapshot).toBeGreaterThan(0);
        expect([...totals.sizes].sort()).toEqual([3, 5]);
      }
    });
  }
});
