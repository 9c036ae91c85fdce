// GET /metrics on real nodes after some writes: Prometheus text with the Raft gauges (role, term,
// commit and applied index, per-peer match index on the leader), counters and histograms
// (proposals, commit and fsync latency), HTTP requests by route and status, and process metrics.
import { describe, expect, it } from 'vitest';
import {
  mapLimit,
  parseMetrics,
  request,
  shorten,
  useSharedCluster,
  waitApplied,
  type Sample,
} from './helpers.js';

const tc = useSharedCluster('metrics');

/** The samples of `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The one sample of `name` with `labels`; fails if there is none or more than one. */
function one(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels);
  expect(found, `${name}${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0].value;
}

const run = Date.now().toString(36);
const WRITES = 40;

describe('GET /metrics on real nodes', () => {
  it('reports role, term, indexes, peer progress, proposals, latencies, HTTP requests and process metrics', async () => {
    const st = await tc.cluster.waitUntilConverged(30_000);
    const leader = tc.node(st.id);
    const followers = tc.cluster.nodes.filter((n) => n !== leader);

    const codes: string[] = [];
    await mapLimit(
      Array.from({ length: WRITES }, (_, i) => `https://example.com/metrics/${run}/${i}`),
      4,
      async (url) => {
        const res = await shorten(leader.url, url);
        expect(res.status, res.text).toBe(201);
        codes.push(res.body.code as string);
      },
    );
    expect((await request(`${leader.url}/${codes[0]}`)).status).toBe(302);
    // One write that is refused on a follower (409) and one bad request (400), for the status label.
    expect((await shorten(followers[0].url, `https://example.com/metrics/${run}/x`)).status).toBe(409);
    expect((await shorten(leader.url, 'ftp://example.com/')).status).toBe(400);
    const status = (await leader.status())!;
    await waitApplied(tc.cluster.nodes, status.commitIndex);

    const res = await request(`${leader.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^# HELP raft_role /m);
    expect(res.text).toMatch(/^# TYPE raft_commit_latency_seconds histogram$/m);
    const m = parseMetrics(res.text);

    // Raft gauges on the leader.
    expect(one(m, 'raft_role', { role: 'leader' })).toBe(1);
    for (const role of ['follower', 'pre-candidate', 'candidate'])
      expect(one(m, 'raft_role', { role })).toBe(0);
    const term = one(m, 'raft_term');
    expect(term).toBeGreaterThanOrEqual(1);
    expect(term).toBe((await leader.status())!.term);
    expect(one(m, 'raft_leader_id')).toBe(leader.spec.id);
    const commit = one(m, 'raft_commit_index');
    expect(commit).toBeGreaterThanOrEqual(WRITES);
    expect(commit).toBeGreaterThanOrEqual(status.commitIndex);
    expect(one(m, 'raft_applied_index')).toBeGreaterThanOrEqual(status.commitIndex);
    expect(one(m, 'raft_last_index')).toBeGreaterThanOrEqual(commit);
    for (const f of followers) {
      const match = one(m, 'raft_peer_match_index', { peer: String(f.spec.id) });
      expect(match, `match index of follower ${f.spec.id}`).toBeGreaterThanOrEqual(status.commitIndex);
      expect(one(m, 'raft_peer_lag_entries', { peer: String(f.spec.id) })).toBeGreaterThanOrEqual(0);
    }

    // Counters and histograms.
    expect(one(m, 'raft_proposals_total')).toBeGreaterThanOrEqual(WRITES);
    expect(one(m, 'raft_commit_latency_seconds_count')).toBeGreaterThanOrEqual(WRITES);
    expect(one(m, 'raft_commit_latency_seconds_sum')).toBeGreaterThan(0);
    expect(one(m, 'raft_commit_latency_seconds_bucket', { le: '+Inf' })).toBe(
      one(m, 'raft_commit_latency_seconds_count'),
    );
    expect(one(m, 'raft_fsync_latency_seconds_count')).toBeGreaterThan(0);
    // The current leader won an election in this process (its election counters: see below).
    expect(one(m, 'raft_elections_won_total')).toBeGreaterThanOrEqual(1);
    expect(find(m, 'raft_elections_started_total')).toHaveLength(1);

    // HTTP requests by route pattern and status.
    expect(
      one(m, 'http_requests_total', { route: '/shorten', method: 'POST', status: '201' }),
    ).toBeGreaterThanOrEqual(WRITES);
    expect(one(m, 'http_requests_total', { route: '/shorten', method: 'POST', status: '400' })).toBe(1);
    expect(
      find(m, 'http_request_duration_seconds_count', { route: '/shorten' })[0]?.value,
    ).toBeGreaterThanOrEqual(WRITES);
    // Short codes are not routes: no series per code, the redirect counts under its pattern.
    const routes = new Set(find(m, 'http_requests_total').map((s) => s.labels.route));
    for (const code of codes) expect(routes).not.toContain(`/${code}`);
    expect(one(m, 'http_requests_total', { route: '/:code', method: 'GET', status: '302' })).toBe(1);

    // Process metrics (prom-client's defaults).
    expect(one(m, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(one(m, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(find(m, 'nodejs_eventloop_lag_seconds').length).toBe(1);

    // A follower: its own role, the same term, applied as far, its 409 counted, no peer progress.
    const fm = parseMetrics((await request(`${followers[0].url}/metrics`)).text);
    expect(one(fm, 'raft_role', { role: 'follower' })).toBe(1);
    expect(one(fm, 'raft_role', { role: 'leader' })).toBe(0);
    expect(one(fm, 'raft_term')).toBe(term);
    expect(one(fm, 'raft_leader_id')).toBe(leader.spec.id);
    expect(one(fm, 'raft_applied_index')).toBeGreaterThanOrEqual(status.commitIndex);
    expect(one(fm, 'raft_fsync_latency_seconds_count')).toBeGreaterThan(0);
    expect(one(fm, 'http_requests_total', { route: '/shorten', method: 'POST', status: '409' })).toBe(1);
    const followerPeers = find(fm, 'raft_peer_match_index').map((s) => s.labels.peer);
    console.log(
      `metrics: leader ${leader.spec.id} term ${term} commit ${commit}, ` +
        `proposals ${one(m, 'raft_proposals_total')}, commit latency count ${one(m, 'raft_commit_latency_seconds_count')} ` +
        `sum ${one(m, 'raft_commit_latency_seconds_sum').toFixed(4)} s, fsync count ${one(m, 'raft_fsync_latency_seconds_count')}, ` +
        `RSS ${(one(m, 'process_resident_memory_bytes') / 2 ** 20).toFixed(0)} MiB; ` +
        `follower ${followers[0].spec.id} reports peer match indexes for [${followerPeers.join(',')}]`,
    );
  });

  // PRODUCT BUG (fails on purpose): node 1 bootstraps a one-voter cluster and wins its election,
  // but the runtime derives raft_elections_started_total from role changes it sees between Ready
  // batches, and a single-voter campaign goes follower → pre-candidate → candidate → leader inside
  // one step of the core: the runtime only sees follower → leader. So node 1 reports
  // raft_elections_won_total 1 and raft_elections_started_total 0: more elections won than started.
  it('counts every election a node wins as started too (raft_elections_started_total ≥ won)', async () => {
    await tc.cluster.waitUntilConverged(30_000);
    const m = parseMetrics((await request(`${tc.node(1).url}/metrics`)).text);
    const won = one(m, 'raft_elections_won_total');
    const started = one(m, 'raft_elections_started_total');
    expect(won, 'node 1 won the election of its bootstrap').toBeGreaterThanOrEqual(1);
    expect(
      started,
      `node 1: raft_elections_won_total ${won} but raft_elections_started_total ${started}`,
    ).toBeGreaterThanOrEqual(won);
  });
});
