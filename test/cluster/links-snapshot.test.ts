// Links through a snapshot: a follower that was down while tagged links were created and edited
// comes back by InstallSnapshot (the log was compacted past it), and its list — the indexes are
// not in the snapshot but rebuilt when it is installed — shows the same pages, tags and edits as
// the leader's; so does a node restarted on its own data.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  mapLimit,
  metricValue,
  printLogTails,
  request,
  startCluster,
  waitApplied,
  type TestCluster,
} from './helpers.js';
import { SNAPSHOT_ARGS } from './snapshot-args.js';

let tc: TestCluster;

beforeAll(async () => {
  tc = await startCluster('links-snapshot', 3, 45_000, SNAPSHOT_ARGS);
}, 60_000);

afterAll(async () => {
  await tc?.destroy();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => printLogTails(tc.dataRoot, 'links-snapshot test failed'));
});

const run = Date.now().toString(36);
const json = (method: string, body: unknown) => ({
  method,
  body: JSON.stringify(body),
  contentType: 'application/json',
});

/** Every page of `query` on `baseUrl`, as codes. */
async function listAll(baseUrl: string, query: string): Promise<string[]> {
  const codes: string[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 100; n++) {
    const res = await request(`${baseUrl}/api/urls?${query}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    codes.push(...(res.body.items as Array<{ code: string }>).map((i) => i.code));
    cursor = res.body.nextCursor as string | null;
    if (cursor === null) return codes;
  }
  throw new Error('the list did not end');
}

describe('links and snapshots', () => {
  it('a follower brought back by a snapshot lists what the leader lists, tags and edits included', async () => {
    const leaderStatus = await tc.cluster.waitUntilConverged(30_000);
    const leader = tc.node(leaderStatus.id);
    const follower = tc.cluster.nodes.find((n) => n.spec.id !== leader.spec.id)!;
    await follower.kill();

    const tag = `s${run}`;
    const codes = await mapLimit(
      Array.from({ length: 400 }, (_, i) => i),
      16,
      async (i) => {
        const res = await request(
          `${leader.url}/shorten`,
          json('POST', {
            url: `https://example.com/${run}/snap/${i}`,
            ...(i % 4 === 0 ? { tags: [tag] } : {}),
          }),
        );
        expect(res.status).toBe(201);
        return res.body.code as string;
      },
    );
    const edited = await request(
      `${leader.url}/api/urls/${codes[0]}`,
      json('PATCH', { url: `https://example.com/${run}/edited`, tags: [] }),
    );
    expect(edited.status).toBe(200);
    const leaderNow = (await leader.status())!;
    expect(leaderNow.snapshotIndex).toBeGreaterThan(200);

    const back = tc.restart(follower.spec.id);
    await waitApplied([back], leaderNow.commitIndex, 30_000);
    expect(await metricValue(back, 'raft_snapshots_installed_total')).toBeGreaterThan(0);

    const onLeader = await listAll(leader.url, `tag=${tag}`);
    expect(onLeader).toHaveLength(99); // 100 tagged, one of them untagged by the edit
    expect(await listAll(back.url, `tag=${tag}`)).toEqual(onLeader);
    expect(await listAll(back.url, `q=${run}/edited`)).toEqual([codes[0]]);
    const everything = await listAll(back.url, `q=${run}/`);
    expect(new Set(everything)).toEqual(new Set(codes));

    // Restarted on its own data (LMDB and the log), the same node lists the same.
    await back.kill();
    const again = tc.restart(follower.spec.id);
    await waitApplied([again], (await leader.status())!.commitIndex, 30_000);
    expect(await listAll(again.url, `tag=${tag}`)).toEqual(onLeader);
  });
});
