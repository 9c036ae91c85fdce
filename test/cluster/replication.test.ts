// One healthy three-node cluster of real processes: writes on the leader are readable on every
// follower, followers refuse writes with a 409 naming the leader, and bad input is refused with
// JSON errors. The tests share the cluster and run in order; each uses its own URLs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import {
  mapLimit,
  printLogTails,
  request,
  resolveCode,
  shorten,
  startCluster,
  waitApplied,
  waitFor,
  type ClusterStatus,
  type TestCluster,
} from './helpers.js';

let tc: TestCluster;
let leader: NodeProcess;
let followers: NodeProcess[];
const run = Date.now().toString(36);

beforeAll(async () => {
  // Visit counts are replicated in batches every --stats-flush-interval-ms: with the default (1 s)
  // a batch of the redirects of an earlier test may commit in the middle of the test that checks
  // bad input commits nothing. Here only a test's own requests may write.
  tc = await startCluster('replication', 3, 45_000, ['--stats-flush-interval-ms', '3600000']);
  const st = await tc.cluster.waitUntilConverged(30_000);
  leader = tc.node(st.id);
  followers = tc.cluster.nodes.filter((n) => n !== leader);
}, 60_000);

afterAll(async () => {
  await tc?.destroy();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => printLogTails(tc.dataRoot, 'replication test failed'));
});

async function leaderStatus(): Promise<ClusterStatus> {
  const st = await leader.status();
  if (!st || st.role !== 'leader')
    throw new Error(`node ${leader.spec.id} no longer leads: ${JSON.stringify(st)}`);
  return st;
}

describe('writes on the leader, reads on every node', () => {
  it('50 URLs created on the leader resolve on every node with the same metadata', async () => {
    const urls = Array.from({ length: 50 }, (_, i) => `https://example.com/replication/${run}/${i}?q=${i}`);
    const created = await mapLimit(urls, 8, async (url) => {
      const res = await shorten(leader.url, url);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.url).toBe(url);
      expect(res.body.shortUrl).toBe(`${leader.url}/${res.body.code as string}`);
      return { url, code: res.body.code as string };
    });
    expect(new Set(created.map((c) => c.code)).size).toBe(urls.length);

    // Every node has applied what the leader has committed: then each read is a local one.
    const { commitIndex } = await leaderStatus();
    await waitApplied(tc.cluster.nodes, commitIndex);

    const meta = new Map<string, Record<string, unknown>>();
    for (const node of tc.cluster.nodes) {
      await mapLimit(created, 8, async ({ url, code }) => {
        expect(await resolveCode(node.url, code), `${code} on node ${node.spec.id}`).toEqual({
          status: 302,
          location: url,
        });
        const res = await request(`${node.url}/api/urls/${code}`);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ code, url, shortUrl: `${node.url}/${code}` });
        expect(Number.isNaN(Date.parse(res.body.createdAt as string))).toBe(false);
        // createdAt is decided once on the leader and replicated: identical on every node. (Visit
        // counts are too, but only once every node's batch arrived: this loop itself visits.)
        const { shortUrl: _ignored, visits: _counting, ...same } = res.body;
        if (!meta.has(code)) meta.set(code, same);
        else expect(same, `metadata of ${code} on node ${node.spec.id}`).toEqual(meta.get(code));
      });
    }

    // The same URL again: 200 and the existing code, on the leader.
    for (const { url, code } of created.slice(0, 10)) {
      const again = await shorten(leader.url, url);
      expect(again.status).toBe(200);
      expect(again.body.code).toBe(code);
    }
  });

  it('a code created through a form body and a text/plain body resolves everywhere', async () => {
    const formUrl = `https://example.com/replication/${run}/form`;
    const form = await request(`${leader.url}/shorten`, {
      method: 'POST',
      body: `url=${encodeURIComponent(formUrl)}`,
      contentType: 'application/x-www-form-urlencoded',
    });
    const textUrl = `https://example.com/replication/${run}/text`;
    const text = await request(`${leader.url}/shorten`, {
      method: 'POST',
      body: `${textUrl}\n`,
      contentType: 'text/plain',
    });
    expect([form.status, text.status]).toEqual([201, 201]);
    const { commitIndex } = await leaderStatus();
    await waitApplied(tc.cluster.nodes, commitIndex);
    for (const node of tc.cluster.nodes) {
      expect(await resolveCode(node.url, form.body.code as string)).toEqual({
        status: 302,
        location: formUrl,
      });
      expect(await resolveCode(node.url, text.body.code as string)).toEqual({
        status: 302,
        location: textUrl,
      });
    }
  });
});

describe('followers refuse writes', () => {
  it('POST /shorten on a follower: 409 naming the leader, and nothing is created', async () => {
    for (const f of followers) {
      const url = `https://example.com/replication/${run}/refused-by-${f.spec.id}`;
      const res = await shorten(f.url, url);
      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ leaderId: leader.spec.id, leaderUrl: leader.url });
      expect(typeof res.body.message).toBe('string');

      // Nothing was created: the URL is new to the leader.
      const onLeader = await shorten(leader.url, url);
      expect(onLeader.status).toBe(201);
    }
  });

  it('DELETE /cluster/members/:id on a follower: 409 naming the leader; a join is passed on to the leader', async () => {
    const before = await leaderStatus();
    for (const f of followers) {
      // The follower passes the join on; the leader refuses to re-address an existing member.
      const join = await request(`${f.url}/cluster/join`, {
        method: 'POST',
        body: JSON.stringify({ id: leader.spec.id, httpUrl: 'http://127.0.0.1:1', raftAddr: '127.0.0.1:2' }),
        contentType: 'application/json',
      });
      expect(join.status).toBe(409);
      expect(join.body.error).toBe('member_exists');

      // A join that was passed on once is not passed on again: 409 naming the leader.
      const passedOn = await fetch(`${f.url}/cluster/join`, {
        method: 'POST',
        body: JSON.stringify({ id: 9, httpUrl: 'http://127.0.0.1:1', raftAddr: '127.0.0.1:2' }),
        headers: { 'content-type': 'application/json', 'x-join-forwarded-by': '7' },
      });
      expect(passedOn.status).toBe(409);
      expect(await passedOn.json()).toMatchObject({ leaderId: leader.spec.id, leaderUrl: leader.url });

      const remove = await request(`${f.url}/cluster/members/${f.spec.id}`, { method: 'DELETE' });
      expect(remove.status).toBe(409);
      expect(remove.body).toMatchObject({ leaderId: leader.spec.id, leaderUrl: leader.url });
    }
    // The membership is unchanged everywhere.
    for (const n of tc.cluster.nodes) {
      const st = await n.status();
      expect(st?.members.map((m) => [m.id, m.voter])).toEqual(before.members.map((m) => [m.id, m.voter]));
    }
  });
});

describe('bad input and health on real nodes', () => {
  it('400 for a non-http scheme, invalid JSON and a URL over 8 KiB; nothing is committed', async () => {
    const before = await leaderStatus();
    for (const node of [leader, followers[0]]) {
      const ftp = await shorten(node.url, 'ftp://x');
      expect(ftp.status).toBe(400);
      expect(ftp.body.message).toEqual(expect.any(String));

      const badJson = await request(`${node.url}/shorten`, {
        method: 'POST',
        body: '{"url": "https://example.com/',
        contentType: 'application/json',
      });
      expect(badJson.status).toBe(400);
      expect(badJson.body.message).toEqual(expect.any(String));

      const long = await shorten(node.url, `https://example.com/${'a'.repeat(8 * 1024)}`);
      expect(long.status).toBe(400);
      expect(long.body.message).toEqual(expect.any(String));
    }
    const after = await leaderStatus();
    expect(after.commitIndex).toBe(before.commitIndex);
  });

  it('404 JSON for an unknown code on every node', async () => {
    for (const node of tc.cluster.nodes) {
      const res = await request(`${node.url}/NoSuchCode${run}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body.message).toEqual(expect.any(String));
      const meta = await request(`${node.url}/api/urls/NoSuchCode${run}`);
      expect(meta.status).toBe(404);
      expect(meta.body.message).toEqual(expect.any(String));
    }
  });

  it('/healthz and /readyz answer 200 on every node', async () => {
    for (const node of tc.cluster.nodes) {
      const health = await request(`${node.url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.headers.get('content-type')).toMatch(/^application\/json/);
    }
    // Every node has converged (beforeAll), but a node's readiness is its own ReadIndex round trip,
    // which is retried only after a 2 s timeout when it was lost (e.g. in an election during the
    // joins): poll, with a deadline.
    const started = Date.now();
    for (const node of tc.cluster.nodes) {
      const ready = await waitFor(
        `node ${node.spec.id} to be ready`,
        async () => {
          const r = await request(`${node.url}/readyz`);
          return r.status === 200 ? r : undefined;
        },
        5_000,
      );
      expect(ready.body.status).toBe('ready');
    }
    const waited = Date.now() - started;
    if (waited > 200) console.log(`readyz: all nodes ready ${waited} ms after the first check`);
  });
});
