// The portability routes on a real three-node cluster: the seed's POST / creates through Raft on
// the leader and the short URL it answers resolves on every node; a follower refuses it with the
// leader's URL, as every write; a follower draws the QR code of a link created a moment ago; with
// --forward-query every node passes a redirect's query on.
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  mapLimit,
  printLogTails,
  request,
  resolveCode,
  startCluster,
  waitApplied,
  type TestCluster,
} from './helpers.js';

let tc: TestCluster;
beforeAll(async () => {
  tc = await startCluster('portability', 3, 45_000, ['--forward-query']);
}, 60_000);
afterAll(async () => {
  await tc?.destroy();
});
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => printLogTails(tc.dataRoot, 'portability test failed'));
});

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

describe('QR code on a cluster', () => {
  it('a follower draws the short URL of a link the leader just created', async () => {
    const { leader, followers } = await leaderAndFollowers();
    const created = await request(`${leader}/`, { method: 'POST', body: 'https://example.com/qr-cluster' });
    expect(created.status).toBe(201);
    const shortUrl = String(created.body.url);
    const code = shortUrl.slice(shortUrl.lastIndexOf('/') + 1);
    const res = await fetch(`${followers[1]}/api/urls/${code}/qr?format=png`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(200);
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    // Without --short-url-base every node's short URLs start with its own URL.
    const decoded = jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
    expect(decoded).toBe(`${followers[1]}/${code}`);
  });
});

describe('--forward-query on a cluster', () => {
  it("every node appends the request's query to the long URL", async () => {
    const { leader, followers } = await leaderAndFollowers();
    const created = await request(`${leader}/`, { method: 'POST', body: 'https://example.com/fq?a=1' });
    expect(created.status).toBe(201);
    const shortUrl = String(created.body.url);
    const code = shortUrl.slice(shortUrl.lastIndexOf('/') + 1);
    for (const base of [leader, ...followers]) {
      expect(await resolveCode(base, `${code}?utm_source=mail`)).toEqual({
        status: 302,
        location: 'https://example.com/fq?a=1&utm_source=mail',
      });
    }
  });
});

describe('bulk create on a cluster', () => {
  it('each item is a replicated create: every node resolves every created code; a follower answers 409', async () => {
    const { leader, followers } = await leaderAndFollowers();
    const urls = Array.from({ length: 200 }, (_, i) => `https://example.com/bulk-cluster/${i}`);
    const res = await request(`${leader}/api/urls/bulk`, {
      method: 'POST',
      body: JSON.stringify({ urls: [...urls, 'not a url'] }),
      contentType: 'application/json',
      timeoutMs: 30_000,
    });
    expect(res.status).toBe(200);
    const results = res.body.results as Array<{
      index: number;
      status: number;
      code?: string;
      error?: string;
    }>;
    expect(results.slice(0, urls.length).every((r) => r.status === 201)).toBe(true);
    expect(results[urls.length]).toMatchObject({ index: urls.length, status: 400, error: 'invalid_url' });
    const leaderStatus = await tc.cluster.waitForLeader(15_000);
    await waitApplied(tc.cluster.nodes, leaderStatus.commitIndex);
    for (const base of followers) {
      const answers = await mapLimit(results.slice(0, urls.length), 16, (r) => resolveCode(base, r.code!));
      expect(answers.map((a) => a.location)).toEqual(urls);
    }
    const refused = await request(`${followers[0]}/api/urls/bulk`, {
      method: 'POST',
      body: JSON.stringify(urls.slice(0, 1)),
      contentType: 'application/json',
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'not_leader', leaderUrl: leader });
  });
});

describe('export on a cluster', () => {
  it("a follower's export holds every link the leader acknowledged, at an index past them", async () => {
    const { leader, followers } = await leaderAndFollowers();
    const urls = Array.from({ length: 50 }, (_, i) => `https://example.com/export-cluster/${i}`);
    const created = await request(`${leader}/api/urls/bulk`, {
      method: 'POST',
      body: JSON.stringify(urls),
      contentType: 'application/json',
      timeoutMs: 30_000,
    });
    expect(created.status).toBe(200);
    const codes = (created.body.results as Array<{ code: string }>).map((r) => r.code);
    const { commitIndex } = await tc.cluster.waitForLeader(15_000);
    await waitApplied(tc.cluster.nodes, commitIndex);
    const res = await fetch(`${followers[0]}/api/export?format=jsonl`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-raft-index'))).toBeGreaterThanOrEqual(commitIndex);
    const exported = new Map(
      (await res.text())
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { code: string; url: string })
        .map((r) => [r.code, r.url]),
    );
    expect(codes.map((c) => exported.get(c))).toEqual(urls);
  });
});

describe('import on a cluster', () => {
  it('imported links resolve on every node; a re-run of the same file imports nothing', async () => {
    const { leader, followers } = await leaderAndFollowers();
    const links = Array.from({ length: 100 }, (_, i) => ({
      code: `imp${i}x`,
      url: `https://example.com/imported/${i}`,
    }));
    const body = links.map((l) => JSON.stringify(l)).join('\n');
    const first = await request(`${leader}/api/import`, {
      method: 'POST',
      body,
      contentType: 'application/x-ndjson',
      timeoutMs: 30_000,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ lines: 100, imported: 100, skipped: 0 });
    const { commitIndex } = await tc.cluster.waitForLeader(15_000);
    await waitApplied(tc.cluster.nodes, commitIndex);
    for (const base of followers) {
      const answers = await mapLimit(links, 16, (l) => resolveCode(base, l.code));
      expect(answers.map((a) => a.location)).toEqual(links.map((l) => l.url));
    }
    const again = await request(`${leader}/api/import`, {
      method: 'POST',
      body,
      contentType: 'application/x-ndjson',
      timeoutMs: 30_000,
    });
    expect(again.body).toMatchObject({ imported: 0, alreadyPresent: 100, skipped: 0 });
  });
});
