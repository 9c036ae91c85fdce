// Managing links on a real three-node cluster: an edit (PATCH) is one replicated command seen on
// every node, also after a follower restarts; the "same URL, same code" index follows it; and the
// visit limit: all traffic on one node stops at exactly maxVisits, traffic spread over every node
// stops within the stated bound (at most maxVisits per node serving it), and every node then
// answers 410. Nodes flush visit counts every 200 ms.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import { printLogTails, request, startCluster, waitApplied, waitFor, type TestCluster } from './helpers.js';

let tc: TestCluster;

beforeAll(async () => {
  tc = await startCluster('links', 3, 45_000, ['--stats-flush-interval-ms', '200']);
}, 60_000);

afterAll(async () => {
  await tc?.destroy();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => printLogTails(tc.dataRoot, 'links test failed'));
});

const run = Date.now().toString(36);

async function leader(): Promise<NodeProcess> {
  const st = await tc.cluster.waitForLeader(15_000);
  return tc.node(st.id);
}

function followers(lead: NodeProcess): NodeProcess[] {
  return tc.cluster.nodes.filter((n) => n !== lead);
}

/** Waits until every running node has applied what the leader has committed now. */
async function replicated(lead: NodeProcess): Promise<void> {
  const st = await lead.status();
  if (!st) throw new Error(`leader ${lead.spec.id} does not answer`);
  await waitApplied(
    tc.cluster.nodes.filter((n) => n.running),
    st.commitIndex,
  );
}

const json = (method: string, body: unknown) => ({
  method,
  body: JSON.stringify(body),
  contentType: 'application/json',
});

describe('edit', () => {
  it('a PATCH on the leader is seen on every node (record, redirect, tags), also after a follower restarts', async () => {
    const lead = await leader();
    const oldUrl = `https://example.com/${run}/old`;
    const newUrl = `https://example.com/${run}/new`;
    const created = await request(`${lead.url}/shorten`, json('POST', { url: oldUrl }));
    expect(created.status).toBe(201);
    const code = created.body.code as string;

    const [follower] = followers(lead);
    const refused = await request(`${follower!.url}/api/urls/${code}`, json('PATCH', { url: newUrl }));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'not_leader', leaderId: lead.spec.id });

    const edited = await request(
      `${lead.url}/api/urls/${code}`,
      json('PATCH', { url: newUrl, tags: ['B', 'a'] }),
    );
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ code, url: newUrl, tags: ['a', 'b'] });
    await replicated(lead);
    for (const node of tc.cluster.nodes) {
      const record = await request(`${node.url}/api/urls/${code}`);
      expect(record.body, `node ${node.spec.id}`).toMatchObject({ url: newUrl, tags: ['a', 'b'] });
      const hop = await request(`${node.url}/${code}`);
      expect(hop.headers.get('location'), `node ${node.spec.id}`).toBe(newUrl);
    }

    // "Same URL, same code" follows the edit.
    const again = await request(`${lead.url}/shorten`, json('POST', { url: newUrl }));
    expect(again.status).toBe(200);
    expect(again.body.code).toBe(code);
    const fresh = await request(`${lead.url}/shorten`, json('POST', { url: oldUrl }));
    expect(fresh.status).toBe(201);
    expect(fresh.body.code).not.toBe(code);

    // A follower killed and restarted on its data still has the edit (from LMDB and the log).
    await follower!.kill();
    const restarted = tc.restart(follower!.spec.id);
    await tc.cluster.waitUntilConverged(30_000);
    await waitFor(
      `node ${restarted.spec.id} to serve the edited record`,
      async () => {
        const res = await request(`${restarted.url}/api/urls/${code}`).catch(() => undefined);
        return res?.status === 200 && res.body.url === newUrl ? res : undefined;
      },
      30_000,
    );

    // Bad input changes nothing.
    const bad = await request(`${lead.url}/api/urls/${code}`, json('PATCH', { url: 'ftp://example.com/' }));
    expect(bad.status).toBe(400);
    const missing = await request(`${lead.url}/api/urls/no-such-${run}`, json('PATCH', { tags: ['x'] }));
    expect(missing.status).toBe(404);
    expect((await request(`${lead.url}/api/urls/${code}`)).body.url).toBe(newUrl);
  });
});

describe('list', () => {
  it('a follower serves the list from its own copy: newest first, pages by cursor, filters, edits seen', async () => {
    const lead = await leader();
    const tag = `l${run}`.slice(0, 32);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(
        `${lead.url}/shorten`,
        json('POST', { url: `https://example.com/${run}/list/${i}`, tags: [tag] }),
      );
      expect(res.status).toBe(201);
      made.push(res.body.code as string);
    }
    await replicated(lead);
    const [follower] = followers(lead);
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `tag=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await request(`${follower!.url}/api/urls?${query}`);
      expect(res.status).toBe(200);
      pages.push((res.body.items as Array<{ code: string }>).map((i) => i.code));
      cursor = res.body.nextCursor as string | null;
    } while (cursor !== null && pages.length < 10);
    expect(pages.flat()).toEqual([...made].reverse());
    expect(pages[0]).toHaveLength(2);

    const search = await request(`${follower!.url}/api/urls?q=${run}/list/3`);
    expect((search.body.items as Array<{ code: string }>).map((i) => i.code)).toEqual([made[3]]);

    // An edit that drops the tag leaves the tag's list on every node.
    await request(`${lead.url}/api/urls/${made[0]}`, json('PATCH', { tags: [] }));
    await replicated(lead);
    for (const node of tc.cluster.nodes) {
      const res = await request(`${node.url}/api/urls?tag=${tag}&limit=10`);
      expect((res.body.items as Array<{ code: string }>).map((i) => i.code)).toEqual(
        [...made.slice(1)].reverse(),
      );
    }
    const bad = await request(`${follower!.url}/api/urls?cursor=AA`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_cursor' });
  });
});

/** GETs /code on `node` until it answers 410; returns how many redirects it served before. */
async function visitUntilGone(node: NodeProcess, code: string, cap: number): Promise<number> {
  let served = 0;
  for (let i = 0; i < cap; i++) {
    const res = await request(`${node.url}/${code}`);
    if (res.status === 410) {
      expect(res.body).toMatchObject({ error: 'visit_limit_reached' });
      return served;
    }
    expect(res.status).toBe(302);
    served++;
  }
  throw new Error(`node ${node.spec.id} still redirects ${code} after ${cap} visits`);
}

async function totalOn(node: NodeProcess, code: string): Promise<number> {
  const res = await request(`${node.url}/api/urls/${code}`);
  return (res.body.visits as { total: number }).total;
}

describe('visit limit', () => {
  it('all traffic on one follower: exactly maxVisits redirects, then 410 there and, once counted, everywhere', async () => {
    const lead = await leader();
    const maxVisits = 5;
    const created = await request(
      `${lead.url}/shorten`,
      json('POST', { url: `https://example.com/${run}/limited`, maxVisits }),
    );
    expect(created.status).toBe(201);
    const code = created.body.code as string;
    await replicated(lead);
    const [follower] = followers(lead);
    expect(await visitUntilGone(follower!, code, 50)).toBe(maxVisits);
    for (const node of tc.cluster.nodes) {
      await waitFor(
        `node ${node.spec.id} to hold all ${maxVisits} visits`,
        async () => ((await totalOn(node, code)) === maxVisits ? true : undefined),
        15_000,
      );
      const res = await request(`${node.url}/${code}`);
      expect(res.status, `node ${node.spec.id}`).toBe(410);
    }

    // Raising the limit makes it redirect again, on every node.
    const raised = await request(`${lead.url}/api/urls/${code}`, json('PATCH', { maxVisits: maxVisits + 1 }));
    expect(raised.body).toMatchObject({ maxVisits: maxVisits + 1 });
    await replicated(lead);
    expect(await visitUntilGone(lead, code, 50)).toBe(1);
  });

  it('traffic on every node at once: at most maxVisits per node serving it, and every visit served is counted', async () => {
    const lead = await leader();
    const maxVisits = 8;
    const created = await request(
      `${lead.url}/shorten`,
      json('POST', { url: `https://example.com/${run}/spread`, maxVisits }),
    );
    const code = created.body.code as string;
    await replicated(lead);
    const served = await Promise.all(tc.cluster.nodes.map((n) => visitUntilGone(n, code, 100)));
    const total = served.reduce((a, b) => a + b, 0);
    // The bound stated in the README: each node stops once what it knows reaches the limit, so
    // together they serve at least maxVisits and at most maxVisits per node.
    expect(total).toBeGreaterThanOrEqual(maxVisits);
    expect(total).toBeLessThanOrEqual(maxVisits * tc.cluster.nodes.length);
    for (const node of tc.cluster.nodes) {
      await waitFor(
        `node ${node.spec.id} to count ${total} visits`,
        async () => ((await totalOn(node, code)) === total ? true : undefined),
        15_000,
      );
    }
  });
});
