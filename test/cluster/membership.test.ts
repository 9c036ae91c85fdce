// Removing a member through the log: DELETE /cluster/members/:id on the leader. The removed node
// is gone from the membership on the others, the two remaining nodes still take writes, and the
// removed node (still running) does not disrupt them.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  freePorts,
  HOST,
  printLogTails,
  request,
  resolveCode,
  shorten,
  startCluster,
  statuses,
  waitApplied,
  waitFor,
  type TestCluster,
} from './helpers.js';

let tc: TestCluster;

beforeAll(async () => {
  tc = await startCluster('membership');
}, 60_000);

afterAll(async () => {
  await tc?.destroy();
});

/** The default election timeout is 25 ticks of 10 ms, randomized up to 2x: at most 500 ms. */
const MAX_ELECTION_TIMEOUT_MS = 500;
const run = Date.now().toString(36);

describe('membership changes', () => {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => printLogTails(tc.dataRoot, 'membership test failed'));
  });

  it('removing an unknown member is a 409 JSON error and changes nothing', async () => {
    const st = await tc.cluster.waitUntilConverged(30_000);
    const leader = tc.node(st.id);
    const res = await request(`${leader.url}/cluster/members/42`, { method: 'DELETE' });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    const after = (await leader.status())!;
    expect(after.members.map((m) => m.id).sort()).toEqual([1, 2, 3]);
    expect(after.commitIndex).toBe(st.commitIndex);
  });

  it('a removed node leaves the membership; the other two take writes and are not disrupted', async () => {
    const st = await tc.cluster.waitUntilConverged(30_000);
    const leader = tc.node(st.id);
    // Remove node 3, or another follower if node 3 happens to lead.
    const removedId = st.id === 3 ? 2 : 3;
    const removed = tc.node(removedId);
    const remaining = tc.cluster.nodes.filter((n) => n !== removed);

    const res = await request(`${leader.url}/cluster/members/${removedId}`, { method: 'DELETE' });
    expect(res.status, res.text).toBe(200);
    const answered = res.body.members as Array<{ id: number }>;
    expect(answered.map((m) => m.id).sort()).toEqual(remaining.map((n) => n.spec.id).sort());

    // Gone from the membership on both remaining nodes.
    await waitFor(
      `node ${removedId} to be gone from the membership of nodes ${remaining.map((n) => n.spec.id).join(',')}`,
      async () => {
        const sts = await statuses(remaining);
        if (sts.size !== remaining.length) return undefined;
        for (const s of sts.values()) {
          if (s.members.some((m) => m.id === removedId)) return undefined;
          if (s.members.length !== 2 || !s.members.every((m) => m.voter)) return undefined;
        }
        return true;
      },
      10_000,
    );
    expect(removed.running).toBe(true);

    // Removing it again: it is no longer a member.
    const again = await request(`${leader.url}/cluster/members/${removedId}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect(again.body.message).toEqual(expect.any(String));

    // The two-node cluster takes writes, which reach the other remaining node but not the removed one.
    const url = `https://example.com/membership/${run}/after-removal`;
    const created = await shorten(leader.url, url);
    expect(created.status, created.text).toBe(201);
    const code = created.body.code as string;
    await waitApplied(remaining, (await leader.status())!.commitIndex);
    for (const n of remaining) expect(await resolveCode(n.url, code)).toEqual({ status: 302, location: url });
    expect((await resolveCode(removed.url, code)).status).toBe(404);

    // The removed node learned of its removal (the leader announces a membership commit at once)
    // and no longer waits for a leader that will not answer: a linearizable read fails fast.
    await waitFor(
      `node ${removedId} to see itself removed`,
      async () => ((await removed.status())?.members.some((m) => m.id === removedId) ? undefined : true),
      10_000,
    );
    const asked = Date.now();
    const read = await request(`${removed.url}/${code}?consistency=linearizable`);
    expect(read.status, read.text).toBe(503);
    expect(read.body.message).toMatch(/removed from the cluster/);
    expect(Date.now() - asked).toBeLessThan(1_000);

    // The removed node keeps running but must not disrupt the others: over ~3 election timeouts,
    // the term and the leader of the remaining nodes stay the same. (This window is the thing
    // measured, so it is a fixed observation period, polled every 50 ms.)
    const baseline = await statuses(remaining);
    const term = baseline.get(leader.spec.id)!.term;
    const observed = new Set<string>();
    const until = Date.now() + 3 * MAX_ELECTION_TIMEOUT_MS;
    while (Date.now() < until) {
      for (const [id, s] of await statuses(remaining))
        observed.add(`node ${id}: term ${s.term}, leader ${s.leaderId}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect([...observed].sort()).toEqual(
      remaining.map((n) => `node ${n.spec.id}: term ${term}, leader ${leader.spec.id}`).sort(),
    );
    const removedStatus = await removed.status();
    console.log(
      `membership: the removed node ${removedId} reports ${JSON.stringify({ role: removedStatus?.role, term: removedStatus?.term, leaderId: removedStatus?.leaderId })}`,
    );

    // And writes still work after the observation window.
    const later = await shorten(leader.url, `${url}/later`);
    expect(later.status).toBe(201);
  });
});

// A node that joins and then never shows up (it crashed right after its join request, or it
// advertised a Raft address nobody can reach) must stay a learner: promoting it to voter before it
// has replicated anything changes the quorum to include a dead node. On a one-node cluster that
// is a cluster with no leader, for good: every write 503, and no leader to remove the member.
describe('a joined node that never replicates', () => {
  let single: TestCluster | undefined;

  afterAll(async () => {
    await single?.destroy();
  });

  it('is not promoted to voter, and the cluster keeps its leader and takes writes', async ({
    onTestFailed,
  }) => {
    single = await startCluster('phantom', 1);
    onTestFailed(() => printLogTails(single!.dataRoot, 'phantom-join test failed'));
    const node1 = single.node(1);
    const before = (await node1.status())!;
    expect(before.role).toBe('leader');

    // Ports nobody listens on: the "new node" never answers.
    const [phantomHttp, phantomRaft] = await freePorts(2);
    const join = await request(`${node1.url}/cluster/join`, {
      method: 'POST',
      body: JSON.stringify({
        id: 2,
        httpUrl: `http://${HOST}:${phantomHttp}`,
        raftAddr: `${HOST}:${phantomRaft}`,
      }),
      contentType: 'application/json',
    });
    expect(join.status, join.text).toBe(200);

    // Observe ~3 election timeouts (the window is what is measured), polled every 50 ms.
    const seen = new Set<string>();
    const until = Date.now() + 3 * MAX_ELECTION_TIMEOUT_MS;
    while (Date.now() < until) {
      const st = await node1.status();
      const m2 = st?.members.find((m) => m.id === 2);
      seen.add(
        `role ${st?.role}, leader ${st?.leaderId}, term ${st?.term}, node 2 ${m2 ? (m2.voter ? 'voter' : 'learner') : 'absent'}`,
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    expect([...seen]).toEqual([`role leader, leader 1, term ${before.term}, node 2 learner`]);

    const write = await shorten(node1.url, `https://example.com/membership/${run}/phantom`, 6_000);
    expect(write.status, write.text).toBe(201);
    const removed = await request(`${node1.url}/cluster/members/2`, { method: 'DELETE' });
    expect(removed.status, removed.text).toBe(200);
  });
});
