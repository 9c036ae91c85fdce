// kill -9 of the leader: the survivors elect a new leader within a few seconds, writes resume on
// it, nothing acknowledged is lost, and the killed node comes back on its data dir and catches up.
import { describe, expect, it } from 'vitest';
import {
  mapLimit,
  resolveCode,
  shorten,
  statuses,
  useSharedCluster,
  waitApplied,
  waitFor,
  type ClusterStatus,
} from './helpers.js';

const tc = useSharedCluster('failover');

const run = Date.now().toString(36);

describe('kill -9 of the leader', () => {
  it('elects a new leader within 5 s, keeps every acknowledged write, and the old leader rejoins', async () => {
    const oldLeaderStatus = await tc.cluster.waitUntilConverged(30_000);
    const oldLeader = tc.node(oldLeaderStatus.id);
    const survivors = tc.cluster.nodes.filter((n) => n !== oldLeader);

    const acked = await mapLimit(
      Array.from({ length: 30 }, (_, i) => `https://example.com/failover/${run}/before/${i}`),
      6,
      async (url) => {
        const res = await shorten(oldLeader.url, url);
        expect(res.status).toBe(201);
        return { url, code: res.body.code as string };
      },
    );

    await oldLeader.kill();
    const killedAt = Date.now();
    expect(oldLeader.lastExit?.signal).toBe('SIGKILL');

    // A new leader among the survivors (polled every 25 ms).
    const newLeaderStatus = await waitFor(
      'a new leader among the survivors',
      async () => {
        const sts = await statuses(survivors);
        const leaders = [...sts.values()].filter((st) => st.role === 'leader');
        return leaders.length === 1 ? leaders[0] : undefined;
      },
      10_000,
      25,
    );
    const electionMs = Date.now() - killedAt;
    console.log(
      `failover: node ${newLeaderStatus.id} leads ${electionMs} ms after the kill of node ${oldLeader.spec.id}`,
    );
    expect(electionMs).toBeLessThan(5_000);
    expect(newLeaderStatus.id).not.toBe(oldLeader.spec.id);
    expect(newLeaderStatus.term).toBeGreaterThan(oldLeaderStatus.term);
    const newLeader = tc.node(newLeaderStatus.id);

    // Writes resume on the new leader (its first ones may wait for its no-op entry to commit).
    const after = await mapLimit(
      Array.from({ length: 10 }, (_, i) => `https://example.com/failover/${run}/after/${i}`),
      5,
      async (url) => {
        const res = await waitFor(
          `a write of ${url} on the new leader`,
          async () => {
            const r = await shorten(newLeader.url, url);
            return r.status === 503 ? undefined : r;
          },
          5_000,
        );
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return { url, code: res.body.code as string };
      },
    );

    // Every write acknowledged before the kill is on both survivors; so are the new ones.
    const leaderNow = (await newLeader.status())!;
    await waitApplied(survivors, leaderNow.commitIndex);
    for (const node of survivors) {
      await mapLimit([...acked, ...after], 8, async ({ url, code }) => {
        expect(await resolveCode(node.url, code), `${code} on node ${node.spec.id}`).toEqual({
          status: 302,
          location: url,
        });
      });
    }
    // The same URL again on the new leader keeps its code.
    const again = await shorten(newLeader.url, acked[0].url);
    expect(again.status).toBe(200);
    expect(again.body.code).toBe(acked[0].code);

    // Restart the killed node on its data dir (same id and ports, no --join): it catches up and
    // follows the new leader as a voter.
    const restarted = tc.restart(oldLeader.spec.id);
    const target = (await newLeader.status())!.commitIndex;
    const caughtUp: ClusterStatus = await waitFor(
      `node ${restarted.spec.id} to catch up to ${target} and follow node ${newLeader.spec.id}`,
      async () => {
        const st = await restarted.status();
        return st && st.appliedIndex >= target && st.role === 'follower' && st.leaderId === newLeader.spec.id
          ? st
          : undefined;
      },
      20_000,
    );
    expect(caughtUp.clusterId).toBe(oldLeaderStatus.clusterId);
    const members = (await newLeader.status())!.members;
    expect(members.map((m) => [m.id, m.voter]).sort()).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    for (const { url, code } of [...acked, ...after]) {
      expect(await resolveCode(restarted.url, code)).toEqual({ status: 302, location: url });
    }
    // It rejoined without disrupting the cluster: the new leader still leads.
    expect((await tc.cluster.leaderStatus())?.id).toBe(newLeader.spec.id);
    expect((await restarted.status())?.leaderId).toBe(newLeader.spec.id);
  });
});
