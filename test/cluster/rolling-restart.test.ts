// A rolling restart of all three nodes under a steady write load: each node in turn gets SIGTERM
// (a leader hands leadership over first), exits 0, is restarted on its data dir and catches up.
// No acknowledged write is lost, every node has every one, and the longest stretch without a
// successful write stays well under a second or two (the leader hands over instead of leaving the
// cluster to an election timeout).
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import {
  mapLimit,
  printLogTails,
  request,
  resolveCode,
  startCluster,
  waitApplied,
  waitFor,
  type TestCluster,
} from './helpers.js';
import { WriteLoad } from './write-load.js';

let tc: TestCluster;
let load: WriteLoad | undefined;

beforeAll(async () => {
  tc = await startCluster('rolling');
}, 60_000);

afterAll(async () => {
  await load?.stop();
  await tc?.destroy();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => printLogTails(tc.dataRoot, 'rolling-restart test failed'));
});

/** Bound on the longest gap without an acknowledged write (the election timeout is 250–500 ms). */
const MAX_GAP_MS = 2_000;

function logFrom(node: NodeProcess, offset: number): string {
  return readFileSync(node.spec.logFile, 'utf8').slice(offset);
}

describe('rolling restart under a steady write load', () => {
  it('SIGTERM hands leadership over, no acknowledged write is lost, the blip is short', async () => {
    const first = await tc.cluster.waitUntilConverged(30_000);
    // Restart the leader first (so a leader is certainly SIGTERMed), then the others by id.
    const order = [first.id, ...[1, 2, 3].filter((id) => id !== first.id)];

    load = new WriteLoad({ nodes: () => tc.cluster.nodes, clients: 4, label: 'rolling', paceMs: 20 });
    load.start();
    await load.waitForAcks(50, 10_000);

    const steps: string[] = [];
    let leadersStopped = 0;
    for (const id of order) {
      const node = tc.node(id);
      const wasLeader = (await node.status())?.role === 'leader';
      const logOffset = statSync(node.spec.logFile).size;
      const t0 = Date.now();
      await node.stop(10_000); // SIGTERM; SIGKILL only if it has not exited after 10 s
      const stopMs = Date.now() - t0;
      expect(node.lastExit, `node ${id} exit after SIGTERM`).toEqual({ code: 0, signal: null });
      const log = logFrom(node, logOffset);
      if (wasLeader) {
        leadersStopped++;
        expect(log, `node ${id} was leading when SIGTERMed`).toContain('leadership handed over');
      }

      // Writes go on while it is down.
      await load.waitForAcks(40, 10_000);

      const restarted = tc.restart(id);
      const t1 = Date.now();
      // Caught up: it knows a leader, has applied what the leader had committed after the
      // restart, is ready, and the leader sees it as a voter with its match index that far (so
      // the next SIGTERM leaves a quorum that works).
      const target = (await tc.cluster.waitForLeader(10_000)).commitIndex;
      await waitFor(
        `restarted node ${id} to follow a leader and apply index ${target}`,
        async () => {
          const st = await restarted.status();
          if (!st || st.leaderId === 0 || st.appliedIndex < target) return undefined;
          const ready = await request(`${restarted.url}/readyz`, { timeoutMs: 1_000 });
          if (ready.status !== 200) return undefined;
          const leader = await tc.cluster.leaderStatus();
          const me = leader?.members.find((m) => m.id === id);
          return me?.voter && (me.matchIndex ?? 0) >= target ? true : undefined;
        },
        20_000,
      );
      steps.push(
        `node ${id}${wasLeader ? ' (leader)' : ''}: exited 0 ${stopMs} ms after SIGTERM, caught up ${Date.now() - t1} ms after restart`,
      );
      await load.waitForAcks(40, 10_000);
    }
    await load.stop();

    const gap = load.longestGap();
    const acks = load.acks;
    console.log(
      `rolling restart: ${steps.join('; ')}\n` +
        `  ${acks.length} acknowledged writes in ${load.stoppedAt - load.startedAt} ms by 4 clients; ` +
        `longest gap without a successful write ${gap.ms} ms (at +${gap.from - load.startedAt} ms); ` +
        `success ratio (excluding 409 redirects) ${(100 * load.successRatio()).toFixed(1)}%; ` +
        `URLs acked at the first attempt ${load.firstAttemptAcks}/${load.urlsTried}; outcomes ${load.describeOutcomes()}`,
    );
    expect(leadersStopped).toBeGreaterThanOrEqual(1);
    expect(load.unexpected).toEqual([]);
    expect(load.mismatches).toEqual([]);
    expect(gap.ms).toBeLessThan(MAX_GAP_MS);

    // Every acknowledged write resolves on every node.
    const leader = await tc.cluster.waitUntilConverged(20_000);
    await waitApplied(tc.cluster.nodes, leader.commitIndex);
    for (const node of tc.cluster.nodes) {
      const missing: string[] = [];
      await mapLimit(acks, 16, async ({ url, code }) => {
        const got = await resolveCode(node.url, code);
        if (got.status !== 302 || got.location !== url)
          missing.push(`${code} (${url}): ${got.status} ${got.location}`);
      });
      expect(missing, `acknowledged writes missing on node ${node.spec.id}`).toEqual([]);
    }
  });
});
