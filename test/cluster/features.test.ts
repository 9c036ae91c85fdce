// The replicated features on a real three-node cluster: aliases under concurrency, expiry seen
// on every node (410) and purged by the leader's replicated purge (then 404 everywhere), delete
// replicated to every node, and an Idempotency-Key retried on a new leader after kill -9 of the
// one that acknowledged the first attempt; visit statistics counted on every node and merged by the
// leader (exact totals on every node). Nodes run with --redirect-status 307, a fast purge and a
// 200 ms visit-statistics flush.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../src/launcher/local-cluster.js';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import {
  freePorts,
  HOST,
  metricValue,
  printLogTails,
  removeDir,
  statuses,
  tempDataRoot,
  waitApplied,
  waitFor,
} from './helpers.js';

const EXPIRED_RETENTION_MS = 3_000;
let cluster: LocalCluster;
let dataRoot: string;

beforeAll(async () => {
  const ports = await freePorts(6);
  dataRoot = tempDataRoot('features');
  cluster = new LocalCluster({
    size: 3,
    host: HOST,
    httpPorts: ports.slice(0, 3),
    raftPorts: ports.slice(3),
    dataRoot,
    extraArgs: [
      '--redirect-status',
      '307',
      '--purge-interval-ms',
      '200',
      '--expired-retention-ms',
      String(EXPIRED_RETENTION_MS),
      '--stats-flush-interval-ms',
      '200',
    ],
  });
  try {
    await cluster.start(45_000);
  } catch (err) {
    printLogTails(dataRoot, 'features cluster did not start');
    throw err;
  }
}, 60_000);

afterAll(async () => {
  await cluster?.killAll();
  if (dataRoot) removeDir(dataRoot);
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => printLogTails(dataRoot, 'features test failed'));
});

const run = Date.now().toString(36);

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  url: string,
  init: { method?: string; json?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    headers: { ...(init.json === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const body =
    text && (res.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(text) : {};
  return { status: res.status, headers: res.headers, body };
}

async function leader(): Promise<NodeProcess> {
  const st = await cluster.waitForLeader(15_000);
  return cluster.node(st.id);
}

function running(): NodeProcess[] {
  return cluster.nodes.filter((n) => n.running);
}

/** Waits until every running node has applied what the leader has committed now. */
async function replicated(lead: NodeProcess): Promise<void> {
  const st = await lead.status();
  if (!st) throw new Error(`leader ${lead.spec.id} does not answer`);
  await waitApplied(running(), st.commitIndex);
}

describe('replicated features', () => {
  it('aliases under concurrency: of two clients racing for one alias exactly one gets 201, the other alias_taken', async () => {
    const lead = await leader();
    const races = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const alias = `race-${run}-${i}`;
        const urls = [`https://example.com/${run}/${i}/first`, `https://example.com/${run}/${i}/second`];
        const answers = await Promise.all(
          urls.map((url) => call(`${lead.url}/shorten`, { method: 'POST', json: { url, alias } })),
        );
        return { alias, urls, answers };
      }),
    );
    const winners = new Map<string, string>();
    for (const { alias, urls, answers } of races) {
      expect(answers.map((a) => a.status).sort(), alias).toEqual([201, 409]);
      const winner = answers.findIndex((a) => a.status === 201);
      const loser = answers[1 - winner]!;
      expect(answers[winner]!.body.code).toBe(alias);
      expect(loser.body).toEqual({ error: 'alias_taken', message: expect.any(String), alias });
      expect(loser.body).not.toHaveProperty('leaderUrl');
      winners.set(alias, urls[winner]!);
    }

    // Every node agrees on the winner of every race.
    await replicated(lead);
    for (const node of cluster.nodes) {
      for (const [alias, winnerUrl] of winners) {
        for (const method of ['GET', 'HEAD']) {
          const res = await call(`${node.url}/${alias}`, { method });
          expect(res.status, `${method} ${alias} on node ${node.spec.id}`).toBe(307);
          expect(res.headers.get('location')).toBe(winnerUrl);
          expect(res.headers.get('cache-control')).toBe('private, max-age=0');
        }
      }
    }
    // An alias request on a follower is still the not-leader 409, which is a different answer.
    const follower = cluster.nodes.find((n) => n !== lead)!;
    const redirected = await call(`${follower.url}/shorten`, {
      method: 'POST',
      json: { url: 'https://example.com/x', alias: `f-${run}` },
    });
    expect(redirected.status).toBe(409);
    expect(redirected.body).toMatchObject({
      error: 'not_leader',
      leaderId: lead.spec.id,
      leaderUrl: lead.url,
    });
  });

  it('expiry: 410 on every node once the leader-fixed instant passes, then purged everywhere by the replicated purge (404)', async () => {
    const lead = await leader();
    const created = await call(`${lead.url}/shorten`, {
      method: 'POST',
      json: { url: `https://example.com/${run}/expiring`, ttlSeconds: 4 },
    });
    expect(created.status).toBe(201);
    const code = created.body.code as string;
    const expiresAt = Date.parse(created.body.expiresAt as string);
    await replicated(lead);
    for (const node of cluster.nodes) {
      const before = await call(`${node.url}/${code}`);
      expect(Date.now(), 'the check ran before the expiry').toBeLessThan(expiresAt);
      expect(before.status, `node ${node.spec.id} before the expiry`).toBe(307);
    }

    // Every node, followers included, answers 410 from the instant on (its own clock).
    await waitFor(
      `410 for ${code} on every node`,
      async () => {
        const answers = await Promise.all(cluster.nodes.map((n) => call(`${n.url}/${code}`)));
        return answers.every((a) => a.status === 410) ? answers : undefined;
      },
      expiresAt - Date.now() + 5_000,
      50,
    ).then((answers) => {
      for (const a of answers)
        expect(a.body).toMatchObject({ error: 'expired', expiresAt: created.body.expiresAt });
    });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);

    // After the retention the leader proposes a purge; followers never purge on their own, so a
    // 404 on them shows the purge came through the log.
    await waitFor(
      `404 for ${code} on every node after the purge`,
      async () => {
        const answers = await Promise.all(cluster.nodes.map((n) => call(`${n.url}/api/urls/${code}`)));
        return answers.every((a) => a.status === 404) ? true : undefined;
      },
      EXPIRED_RETENTION_MS + 15_000,
      100,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt + EXPIRED_RETENTION_MS);
  });

  it('delete: leader only (409 on a follower), then the code is unknown on every node', async () => {
    const lead = await leader();
    const url = `https://example.com/${run}/to-delete`;
    const created = await call(`${lead.url}/shorten`, { method: 'POST', json: { url } });
    expect(created.status).toBe(201);
    const code = created.body.code as string;
    await replicated(lead);
    for (const node of cluster.nodes) expect((await call(`${node.url}/${code}`)).status).toBe(307);

    const follower = cluster.nodes.find((n) => n !== lead)!;
    const onFollower = await call(`${follower.url}/api/urls/${code}`, { method: 'DELETE' });
    expect(onFollower.status).toBe(409);
    expect(onFollower.body).toMatchObject({ error: 'not_leader', leaderUrl: lead.url });
    expect((await call(`${follower.url}/${code}`)).status).toBe(307);

    expect((await call(`${lead.url}/api/urls/${code}`, { method: 'DELETE' })).status).toBe(204);
    await replicated(lead);
    for (const node of cluster.nodes) {
      expect((await call(`${node.url}/${code}`)).status, `GET on node ${node.spec.id}`).toBe(404);
      expect((await call(`${node.url}/api/urls/${code}`)).status).toBe(404);
    }
    expect((await call(`${lead.url}/api/urls/${code}`, { method: 'DELETE' })).status).toBe(404);
    // The URL's dedup entry went with it: shortening it again makes a new code.
    const again = await call(`${lead.url}/shorten`, { method: 'POST', json: { url } });
    expect(again.status).toBe(201);
    expect(again.body.code).not.toBe(code);
  });

  it('visit statistics: redirects counted on the leader and on the followers add up to the exact total on every node', async () => {
    const lead = await leader();
    const created = await call(`${lead.url}/shorten`, {
      method: 'POST',
      json: { url: `https://example.com/${run}/visited` },
    });
    expect(created.status).toBe(201);
    const code = created.body.code as string;
    await replicated(lead);
    const followers = running().filter((n) => n !== lead);
    const plan: Array<[NodeProcess, number]> = [
      [lead, 5],
      ...followers.map((f, i): [NodeProcess, number] => [f, 3 + 4 * i]),
    ];
    const expected = plan.reduce((sum, [, times]) => sum + times, 0);

    const proposedBefore = await metricValue(lead, 'visit_batches_proposed_total');
    const dayBefore = new Date().toISOString().slice(0, 10);
    await Promise.all(
      plan.map(async ([node, times]) => {
        for (let i = 0; i < times; i++) {
          // GET and HEAD both count; each is a redirect served by that node.
          const res = await call(`${node.url}/${code}`, { method: i % 2 === 0 ? 'GET' : 'HEAD' });
          expect(res.status, `visit ${i} on node ${node.spec.id}`).toBe(307);
        }
      }),
    );
    const today = new Date().toISOString().slice(0, 10);

    // Each node sends its counts every 200 ms (followers through the leader); every node then
    // applies the merged entries. Poll until all agree, then check the numbers are exact.
    const views = await waitFor(
      `visits of ${code} to reach ${expected} on every node`,
      async () => {
        const metas = await Promise.all(running().map((n) => call(`${n.url}/api/urls/${code}`)));
        const totals = metas.map((m) => (m.body.visits as { total?: number } | undefined)?.total ?? -1);
        return totals.every((t) => t >= expected) ? metas : undefined;
      },
      15_000,
      50,
    );
    for (const [i, meta] of views.entries()) {
      const visits = meta.body.visits as { total: number; byDay: Record<string, number> };
      expect(visits.total, `total on node ${running()[i]!.spec.id}`).toBe(expected);
      if (dayBefore === today) expect(visits.byDay).toEqual({ [today]: expected });
      else expect(Object.values(visits.byDay).reduce((a, b) => a + b, 0)).toBe(expected); // midnight UTC passed
    }

    // The merge went through the leader's log, in batches: far fewer entries than visits.
    const proposed = (await metricValue(lead, 'visit_batches_proposed_total')) - proposedBefore;
    expect(proposed).toBeGreaterThanOrEqual(1);
    expect(proposed).toBeLessThan(expected);
  });

  it('Idempotency-Key: a retry on the new leader after kill -9 of the old one returns the first result, once', async () => {
    const oldLeader = await leader();
    const key = `idem-${run}`;
    // An expiring URL is never deduplicated: acting twice would make a second code.
    const body = { url: `https://example.com/${run}/idempotent`, ttlSeconds: 3600 };
    const first = await call(`${oldLeader.url}/shorten`, {
      method: 'POST',
      json: body,
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    await oldLeader.kill();
    expect(oldLeader.lastExit?.signal).toBe('SIGKILL');
    const survivors = cluster.nodes.filter((n) => n !== oldLeader);
    const newLeaderStatus = await waitFor(
      'a new leader among the survivors',
      async () => {
        const leaders = [...(await statuses(survivors)).values()].filter((st) => st.role === 'leader');
        return leaders.length === 1 ? leaders[0] : undefined;
      },
      15_000,
      25,
    );
    const newLeader = cluster.node(newLeaderStatus.id);

    // The retry a client would make: same key, same body, on the new leader (its first writes may
    // wait for its no-op entry: 503 means try again).
    const retry = await waitFor(
      'the retry on the new leader',
      async () => {
        const r = await call(`${newLeader.url}/shorten`, {
          method: 'POST',
          json: body,
          headers: { 'idempotency-key': key },
        });
        return r.status === 503 ? undefined : r;
      },
      10_000,
    );
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.code).toBe(first.body.code);
    expect(retry.body.expiresAt).toBe(first.body.expiresAt);

    // The key is in the replicated state: the same key for another request is refused.
    const misuse = await call(`${newLeader.url}/shorten`, {
      method: 'POST',
      json: { ...body, url: `${body.url}/other` },
      headers: { 'idempotency-key': key },
    });
    expect(misuse.status).toBe(422);
    expect(misuse.body.error).toBe('idempotency_key_reused');

    // One record: the code resolves on both survivors and its metadata is the first request's.
    await replicated(newLeader);
    for (const node of survivors) {
      const meta = await call(`${node.url}/api/urls/${first.body.code as string}`);
      expect(meta.status).toBe(200);
      expect(meta.body).toMatchObject({ url: body.url, expiresAt: first.body.expiresAt });
    }
  });
});
