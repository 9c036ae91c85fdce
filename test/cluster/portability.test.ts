// The portability routes on a real three-node cluster: the seed's POST / creates through Raft on
// the leader and the short URL it answers resolves on every node; a follower refuses it with the
// leader's URL, as every write.
import { describe, expect, it } from 'vitest';
import { request, resolveCode, useSharedCluster } from './helpers.js';

const tc = useSharedCluster('portability');

async function leaderAndFollowers(): Promise<{ leader: string; followers: string[] }> {
  const st = await tc.cluster.waitForLeader(15_000);
  const leader = st.members.find((m) => m.id === st.id)!.httpUrl;
  const followers = st.members.filter((m) => m.id !== st.id).map((m) => m.httpUrl);
  return { leader, followers };
}

describe('POST / (the seed contract) on a cluster', () => {
  it('creates on the leader; the short URL redirects on every node; a follower answers 409', async () => {
    const { leader, followers } = await leaderAndFollowers();
    const created = await request(`${leader}/`, {
      method: 'POST',
      body: 'https://example.com/seed-contract',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(created.status).toBe(201);
    expect(created.body.redirectsTo).toBe('https://example.com/seed-contract');
    const shortUrl = String(created.body.url);
    const code = shortUrl.slice(shortUrl.lastIndexOf('/') + 1);
    // A follower's miss waits for one ReadIndex round, so the fresh code resolves at once.
    for (const base of [leader, ...followers]) {
      expect(await resolveCode(base, code)).toEqual({
        status: 302,
        location: 'https://example.com/seed-contract',
      });
    }
    const refused = await request(`${followers[0]}/`, { method: 'POST', body: 'https://example.com/x' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'not_leader', leaderUrl: leader });
  });
});
