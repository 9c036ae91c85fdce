// A node id is bound to its data. A voter whose data dir is lost (a replaced volume, a wiped disk)
// and that comes back under its old id and addresses with --join has forgotten its votes and its
// log: the leader refuses to take it back as the old member, and it exits saying what to do.
// Replacing it is remove-then-add. And a join can neither alias nor re-address an existing member.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NodeProcess } from '../../src/launcher/node-process.js';
import {
  removeDir,
  request,
  resolveCode,
  shorten,
  useSharedCluster,
  waitApplied,
  waitFor,
} from './helpers.js';

const tc = useSharedCluster('node-identity');

function memberOf(status: { members: Array<{ id: number; nodeUuid?: string; voter: boolean }> }, id: number) {
  return status.members.find((m) => m.id === id);
}

describe('member ids and addresses', () => {
  // Ids are uint32 on the wire: these used to wrap to member 0, member 2 and the leader.
  it.each([
    { id: 4294967296, httpUrl: 'http://127.0.0.1:1', raftAddr: '127.0.0.1:2' },
    { id: 4294967298, httpUrl: 'http://evil.example', raftAddr: '127.0.0.1:2' },
    { id: 4294967297, httpUrl: 'http://evil.example', raftAddr: '127.0.0.1:3' },
  ])('a join with id $id is refused (400) and no member changes', async (body) => {
    const leader = await tc.cluster.waitForLeader(10_000);
    const res = await request(`${tc.node(leader.id).url}/cluster/join`, {
      method: 'POST',
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    const after = await tc.node(leader.id).status();
    expect(after?.members.map((m) => [m.id, m.httpUrl, m.raftAddr])).toEqual(
      leader.members.map((m) => [m.id, m.httpUrl, m.raftAddr]),
    );
  });

  it("a join under an existing id never changes that member's addresses", async () => {
    const leader = await tc.cluster.waitForLeader(10_000);
    const follower = leader.members.find((m) => m.id !== leader.id)!;
    const res = await request(`${tc.node(leader.id).url}/cluster/join`, {
      method: 'POST',
      body: JSON.stringify({ id: follower.id, httpUrl: 'http://evil.example', raftAddr: follower.raftAddr }),
      contentType: 'application/json',
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('member_exists');
    expect(memberOf((await tc.node(leader.id).status())!, follower.id)).toMatchObject({
      httpUrl: follower.httpUrl,
    });
  });
});

describe('a voter whose data dir was lost', () => {
  it('is refused as the old member, exits saying what to do, and rejoins as new after its removal', async () => {
    const leader = await tc.cluster.waitForLeader(10_000);
    const leaderUrl = tc.node(leader.id).url;
    const codes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await shorten(leaderUrl, `https://example.com/identity/${i}`);
      expect(res.status).toBe(201);
      codes.push(res.body.code as string);
    }
    const [id, other] = leader.members.filter((m) => m.id !== leader.id).map((m) => m.id);
    // Joins go through the other follower, which passes them on to the leader (with its errors).
    const viaFollower = tc.node(other).url;
    const recorded = memberOf(leader, id)!;
    expect(recorded.nodeUuid).toMatch(/^[0-9a-f-]{36}$/);

    // What a StatefulSet does after a lost volume: same id, ports and --join, empty data dir.
    const old = tc.node(id);
    await old.kill();
    removeDir(old.spec.dataDir);
    const wiped = new NodeProcess({ ...old.spec, join: viaFollower });
    tc.cluster.nodes[id - 1] = wiped;
    wiped.start();
    await wiped.exited();
    expect(wiped.lastExit?.code).toBe(78);
    const log = readFileSync(wiped.spec.logFile, 'utf8');
    expect(log).toMatch(/refused the join \(409\).*data dir was lost or replaced/);
    expect(log).toContain(`Remove the old member first (DELETE /cluster/members/${id}`);

    // The leader still knows node `id` as the member with the old data; writes go on with 2 of 3.
    const during = (await tc.node(leader.id).status())!;
    expect(memberOf(during, id)).toMatchObject({ voter: true, nodeUuid: recorded.nodeUuid });
    expect((await shorten(leaderUrl, 'https://example.com/identity/during')).status).toBe(201);

    // Replace it: remove the old member, then the same command joins it as a new one.
    const removed = await request(`${leaderUrl}/cluster/members/${id}`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    const fresh = new NodeProcess({ ...old.spec, join: viaFollower });
    tc.cluster.nodes[id - 1] = fresh;
    fresh.start();
    const converged = await tc.cluster.waitUntilConverged(60_000);
    const rejoined = memberOf(converged, id)!;
    expect(rejoined.voter).toBe(true);
    expect(rejoined.nodeUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(rejoined.nodeUuid).not.toBe(recorded.nodeUuid);
    await waitApplied([fresh], converged.commitIndex);
    for (const code of codes) expect((await resolveCode(fresh.url, code)).status).toBe(302);
    // Every member agrees on the new UUID (it travelled in the conf change).
    for (const n of tc.cluster.nodes) {
      await waitFor(
        `node ${n.spec.id} to know node ${id}'s new UUID`,
        async () => (memberOf((await n.status())!, id)?.nodeUuid === rejoined.nodeUuid ? true : undefined),
        10_000,
      );
    }
  }, 120_000);
});
