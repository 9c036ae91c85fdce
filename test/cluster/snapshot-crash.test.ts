// kill -9 at random moments while nodes compact, stream, receive and install snapshots: with tiny
// thresholds every node compacts every ~150 writes and a restarted node is always behind the
// compacted log, so each restart starts a snapshot transfer (1 KiB chunks) and install that the
// next kill may cut anywhere. Afterwards every node must restart cleanly, agree with the others
// and hold every acknowledged write. The seed is printed; SNAPSHOT_CRASH_SEED=n replays the timing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import { Prng } from '../raft/sim/prng.js';
import { SNAPSHOT_ARGS } from './snapshot-args.js';
import {
  mapLimit,
  printLogTails,
  request,
  shorten,
  startCluster,
  statuses,
  waitApplied,
  waitFor,
  type TestCluster,
} from './helpers.js';

const ROUNDS = 8;
// The test's own deadlines bound each wait; its timeout only backs them up, so it is their sum: per
// round a leader, 250 writes and the fault pauses, then convergence, catch-up and the final checks.
const ROUND_DEADLINES_MS = 20_000 + 30_000 + 1_800;
const TEST_TIMEOUT_MS = 30_000 + ROUNDS * ROUND_DEADLINES_MS + 60_000 + 30_000 + 15_000 + 60_000;
const seed = Number(process.env.SNAPSHOT_CRASH_SEED ?? Date.now() % 1_000_000);
const prng = new Prng(seed);
const random = () => prng.next();
const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms)); // fault timing, not synchronisation

let tc: TestCluster;

beforeAll(async () => {
  tc = await startCluster('snapshot-crash', 3, 45_000, SNAPSHOT_ARGS);
}, 60_000);

afterAll(async () => {
  await tc?.destroy();
});

describe('kill -9 during compaction and snapshot install', { timeout: TEST_TIMEOUT_MS }, () => {
  it(`leaves nodes that restart and agree (seed ${seed})`, async ({ onTestFailed }) => {
    onTestFailed(() =>
      printLogTails(tc.dataRoot, `snapshot-crash failed; replay with SNAPSHOT_CRASH_SEED=${seed}`),
    );
    await tc.cluster.waitUntilConverged(30_000);

    const acked = new Map<string, string>(); // url -> code
    let stop = false;
    let seq = 0;
    const writer = async () => {
      let target = tc.node(1).url;
      while (!stop) {
        const url = `https://example.com/crash/${seq++}/${'x'.repeat(between(10, 200))}`;
        try {
          const res = await shorten(target, url, 3_000);
          if (res.status === 201 || res.status === 200) acked.set(url, res.body.code as string);
          else if (res.status === 409 && typeof res.body.leaderUrl === 'string') target = res.body.leaderUrl;
          else target = tc.node(between(1, 3)).url;
        } catch {
          target = tc.node(between(1, 3)).url;
          await pause(20); // retry pacing while a node is down
        }
      }
    };
    const writers = Array.from({ length: 4 }, () => writer());

    for (let round = 0; round < ROUNDS; round++) {
      const leaderId = (await tc.cluster.waitForLeader(20_000)).id;
      // Mostly followers (they receive and install snapshots); sometimes the leader (it compacts and sends).
      const victim = random() < 0.25 ? leaderId : [1, 2, 3].filter((id) => id !== leaderId)[between(0, 1)]!;
      await tc.node(victim).kill();
      // The others write on and compact past the victim's log, so it will need a snapshot.
      const target = acked.size + 250;
      await waitFor('250 more writes', () => (acked.size >= target ? true : undefined), 30_000);
      tc.restart(victim);
      await pause(between(100, 1_200)); // somewhere in: starting, receiving, installing, compacting
      await tc.node(victim).kill();
      tc.restart(victim);
      await pause(between(200, 600));
    }
    stop = true;
    await Promise.all(writers);

    // Every node restarts from whatever the last kill left, and converges.
    const leader = await tc.cluster.waitUntilConverged(60_000);
    await waitApplied(tc.cluster.nodes, leader.commitIndex, 30_000);
    const all = await statuses(tc.cluster.nodes);
    expect([...all.values()].map((s) => s.id).sort()).toEqual([1, 2, 3]);
    console.log(
      `snapshot-crash seed ${seed}: ${acked.size} acknowledged writes, ${ROUNDS * 2} kills; ` +
        `snapshot index per node ${JSON.stringify([...all.values()].map((s) => [s.id, s.snapshotIndex]))}`,
    );
    expect(acked.size).toBeGreaterThan(200);
    // The kills did land among snapshot transfers: count what the logs say happened.
    const logs = [1, 2, 3].map((id) => readFileSync(join(tc.dataRoot, `node${id}.log`), 'utf8')).join('');
    const count = (text: string) => logs.split(text).length - 1;
    const transfers = count('sending a snapshot to a follower');
    const installs = count('installed a snapshot from the leader');
    const resumed = count('finishing the install of a snapshot interrupted');
    console.log(
      `snapshot transfers started ${transfers}, installs completed ${installs}, installs resumed ${resumed}`,
    );
    // Not every restart needs one (a restarted leader, a follower that catches up from the kept tail).
    expect(transfers).toBeGreaterThanOrEqual(ROUNDS / 2);
    expect(installs).toBeGreaterThan(0);

    const missing: string[] = [];
    await mapLimit([...acked], 16, async ([url, code]) => {
      for (const node of tc.cluster.nodes as NodeProcess[]) {
        const res = await request(`${node.url}/api/urls/${code}`);
        if (res.status !== 200 || res.body.url !== url)
          missing.push(`node ${node.spec.id} ${code}: ${res.status}`);
      }
    });
    expect(missing.slice(0, 10), `${missing.length} reads wrong`).toEqual([]);

    // The same applied state everywhere: the URL counts agree once all applied the same index.
    await waitFor(
      'all nodes at the same applied index',
      async () => {
        const s = [...(await statuses(tc.cluster.nodes)).values()];
        return s.length === 3 && s.every((x) => x.appliedIndex === s[0]!.appliedIndex) ? true : undefined;
      },
      15_000,
    );
  });
});
