// The load tool end to end against stub servers and the in-process bare server: counts, report
// layout, timeline, leader discovery and 409 hops, reads and 302s, mixes, closed loop, bounds.
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startBareServer } from '../../loadtest/bare-server-app.js';
import { formatJsonReport } from '../../loadtest/report-json.js';
import { renderHtmlReport } from '../../loadtest/report-html.js';
import { formatTextReport } from '../../loadtest/report-text.js';
import { runLoad, startLoad } from '../../loadtest/run.js';
import { renderSweepHtml, runSweep } from '../../loadtest/sweep.js';
import { expectHopsOnlyInFlight } from './hops.js';
import { Cleanup, json, startStub, status } from './stub.js';

const cleanup = new Cleanup();
/** Long enough that no answer of an in-process server times out, however busy the machine. */
const REQUEST_TIMEOUT_MS = 60_000;
afterEach(() => cleanup.run());

describe('open loop against the bare server', () => {
  it(
    'sends rate x duration requests and reports every vegeta line and one timeline bucket per second',
    async () => {
      const bare = cleanup.add(await startBareServer());
      // Counting and layout are the point, not speed: the server and the loader share this process,
      // and with every core busy some answers took over the tool's default 10 s request timeout.
      const r = await runLoad({
        nodes: [bare.url],
        rate: 300,
        durationMs: 2000,
        timeoutMs: REQUEST_TIMEOUT_MS,
      });

      expect(Math.abs(r.summary.requests - 600)).toBeLessThanOrEqual(1);
      expect(r.summary.statusCodes).toEqual({ 201: r.summary.requests });
      expect(r.summary.success).toBe(1);
      // Every URL was unique, so every write created a code (no 200 "already had one").
      expect(r.summary.bytesOut.total).toBeGreaterThan(0);

      const text = formatTextReport(r);
      for (const label of [
        /^Requests {6}\[total, rate, throughput\] {9}600, 300\.\d\d, \d+\.\d\d$/m,
        /^Duration {6}\[total, attack, wait\] {13}[\d.]+m?s, 1\.99\d*s, [\d.]+(µs|ms|s)$/m,
        /^Latencies {5}\[min, mean, 50, 90, 95, 99, max\] {2}([\d.]+(µs|ms|s), ){6}[\d.]+(µs|ms|s)$/m,
        /^Bytes In {6}\[total, mean\] {21}\d+, \d+\.\d\d$/m,
        /^Bytes Out {5}\[total, mean\] {21}\d+, \d+\.\d\d$/m,
        /^Success {7}\[ratio\] {27}100\.00%$/m,
        /^Status Codes {2}\[code:count\] {22}201:600$/m,
        /^Error Set:$/m,
      ]) {
        expect(text).toMatch(label);
      }

      const report = JSON.parse(formatJsonReport(r)) as {
        timeline: Array<{ second: number; count: number; ok: number; throughput: number; p99: number }>;
      };
      expect(report.timeline.map((b) => b.second)).toEqual([0, 1]);
      expect(report.timeline.map((b) => b.count)).toEqual([300, 300]);
      expect(report.timeline.reduce((n, b) => n + b.throughput, 0)).toBe(600);
      expect(report.timeline.every((b) => b.p99 > 0)).toBe(true);
    },
    REQUEST_TIMEOUT_MS + 30_000,
  );

  it('a write=20,read=80 mix sends exact shares, seeds codes first, and reads get 302s', async () => {
    const bare = cleanup.add(await startBareServer());
    const r = await runLoad({
      nodes: [bare.url],
      mix: { write: 20, read: 80 },
      rate: 500,
      durationMs: 1000,
      seed: 50,
    });
    expect(r.seeded).toBe(50);
    expect(r.summary.byKind.write?.requests).toBe(100);
    expect(r.summary.byKind.read?.requests).toBe(400);
    expect(r.summary.statusCodes).toEqual({ 201: 100, 302: 400 });
  });
});

describe('leader discovery and 409 hops', () => {
  it('finds the leader via /cluster/status and follows a 409 to the new leader, counting the hop', async () => {
    let a409 = 0;
    const b = cleanup.add(
      await startStub((req, res) => {
        if (req.url === '/cluster/status') return json(res, 200, status(2, 'follower', 1, a.url));
        json(res, 201, { code: 'b', shortUrl: 'x', url: 'y' });
      }),
    );
    let aWrites = 0;
    const a = cleanup.add(
      await startStub((req, res) => {
        if (req.url === '/cluster/status') return json(res, 200, status(1, 'leader', 1, a.url));
        // After 50 writes, A loses leadership to B and answers like a follower.
        if (++aWrites <= 50) return json(res, 201, { code: 'a', shortUrl: 'x', url: 'y' });
        a409++;
        json(res, 409, { message: 'not the leader', leaderId: 2, leaderUrl: b.url });
      }),
    );

    // B is listed first: discovery must still pick A, which says it leads.
    const r = await runLoad({ nodes: [b.url, a.url], rate: 200, durationMs: 1000 });
    expect(r.leaderUrl).toBe(a.url);
    expect(r.finalLeaderUrl).toBe(b.url);
    expect(r.summary.statusCodes).toEqual({ 201: 200 });
    expect(a409).toBeGreaterThanOrEqual(1);
    expect(r.summary.hops.total).toBe(a409);
    expect(r.summary.hops.writes).toBe(a409);
    // Once redirected, later writes go straight to B: only requests already in flight hopped.
    expectHopsOnlyInFlight(r.recorder);
    expect(b.received.filter((q) => q.method === 'POST')).toHaveLength(150);
  });

  it('gives up after --max-hops when 409s point in a circle', async () => {
    const nodes: Array<{ url: string }> = [];
    for (let k = 0; k < 2; k++) {
      nodes.push(
        cleanup.add(
          await startStub((req, res) => {
            if (req.url === '/cluster/status') return json(res, 200, status(k + 1, 'follower', 0, null));
            json(res, 409, { message: 'not the leader', leaderId: 2 - k, leaderUrl: nodes[1 - k].url });
          }),
        ),
      );
    }
    const r = await runLoad({ nodes: nodes.map((n) => n.url), rate: 20, durationMs: 500, maxHops: 3 });
    expect(r.summary.statusCodes).toEqual({ 409: 10 });
    expect(r.summary.success).toBe(0);
    expect(r.summary.hops.total).toBe(30);
  });
});

describe('reads', () => {
  it('spreads reads over the followers, counts the 302 as success and never follows it', async () => {
    const trap = cleanup.add(await startStub((_req, res) => json(res, 200, {})));
    let n = 0;
    const leader = cleanup.add(
      await startStub((req, res) => {
        if (req.url === '/cluster/status') return json(res, 200, status(1, 'leader', 1, leader.url));
        const code = `c${n++}`;
        json(res, 201, { code, shortUrl: `x/${code}`, url: 'y' });
      }),
    );
    const follower = (id: number) =>
      startStub((req, res) => {
        if (req.url === '/cluster/status') return json(res, 200, status(id, 'follower', 1, leader.url));
        res.writeHead(302, { location: `${trap.url}/followed` });
        res.end();
      });
    const f2 = cleanup.add(await follower(2));
    const f3 = cleanup.add(await follower(3));

    const r = await runLoad({
      nodes: [leader.url, f2.url, f3.url],
      mix: { write: 0, read: 1 },
      readNodes: 'followers',
      seed: 20,
      rate: 200,
      durationMs: 1000,
    });
    expect(r.readNodes).toEqual([f2.url, f3.url]);
    expect(r.summary.statusCodes).toEqual({ 302: 200 });
    expect(r.summary.success).toBe(1);
    expect(trap.received).toHaveLength(0);
    expect(f2.received.filter((q) => q.method === 'GET' && q.path !== '/cluster/status')).toHaveLength(100);
    expect(f3.received.filter((q) => q.method === 'GET' && q.path !== '/cluster/status')).toHaveLength(100);
    // Only seeded codes are read, and the leader got only the seeding writes.
    const paths = new Set(f2.received.concat(f3.received).map((q) => q.path));
    paths.delete('/cluster/status');
    for (const p of paths) expect(p).toMatch(/^\/c(1?\d)$/);
    expect(leader.received.filter((q) => q.method === 'POST')).toHaveLength(20);
  });
});

describe('closed loop and bounds', () => {
  it('--max keeps exactly N requests in flight and measures from the send', async () => {
    let inFlight = 0;
    let peak = 0;
    const stub = cleanup.add(
      await startStub((req, res) => {
        if (req.url === '/cluster/status') return json(res, 404, {});
        peak = Math.max(peak, ++inFlight);
        // The server's own processing time, so concurrency can build up.
        setTimeout(() => {
          inFlight--;
          json(res, 201, { code: 'a' });
        }, 2);
      }),
    );
    const r = await runLoad({ nodes: [stub.url], mode: 'max', connections: 4, durationMs: 500 });
    expect(r.leaderUrl).toBe(stub.url); // no /cluster/status: the first node
    expect(peak).toBe(4);
    expect(r.summary.requests).toBeGreaterThan(40);
    expect(r.summary.sendLag.max).toBe(0);
    expect(r.summary.success).toBe(1);
  });

  it('a server that never answers costs at most the timeout: requests count as errors (status 0)', async () => {
    const stub = cleanup.add(
      await startStub((req, res) => {
        if (req.url === '/cluster/status') return json(res, 404, {});
        // POSTs are left hanging forever.
      }),
    );
    const t = performance.now();
    const r = await runLoad({ nodes: [stub.url], rate: 20, durationMs: 500, timeoutMs: 300 });
    expect(performance.now() - t).toBeLessThan(2000);
    expect(r.summary.statusCodes).toEqual({ 0: 10 });
    expect(r.summary.errors.length).toBeGreaterThan(0);
    expect(r.summary.errors[0]).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/shorten: /);
    expect(formatTextReport(r)).toContain(`Error Set:\n${r.summary.errors[0]}`);
  });

  it('--warmup sends the same load first but records only the measured part', async () => {
    const stub = cleanup.add(
      await startStub((req, res) => {
        if (req.url === '/cluster/status') return json(res, 404, {});
        json(res, 201, { code: 'a' });
      }),
    );
    const r = await runLoad({ nodes: [stub.url], rate: 100, durationMs: 500, warmupMs: 300 });
    expect(r.summary.requests).toBe(50);
    const posts = stub.received
      .filter((q) => q.method === 'POST')
      .map((q) => JSON.parse(q.body) as { url: string });
    expect(posts).toHaveLength(80);
    expect(posts.filter((p) => p.url.includes('/warmup/'))).toHaveLength(30);
  });

  it('markers added during a run land on the timeline and in the HTML', async () => {
    const bare = cleanup.add(await startBareServer());
    const run = startLoad({ nodes: [bare.url], rate: 100, durationMs: 1000 });
    await run.started;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the "fault" happens mid-run
    run.mark('kill -9 follower <2>');
    const r = await run.done;
    expect(r.markers).toHaveLength(1);
    expect(r.markers[0].atMs).toBeGreaterThan(250);
    expect(r.markers[0].atMs).toBeLessThan(1000);
    const html = renderHtmlReport(r, 'fault run');
    expect(html).toContain('kill -9 follower &#60;2&#62;');
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(html).not.toContain('<script');
  });

  it('a sweep runs the closed loop once per level and plots both curves', async () => {
    const bare = cleanup.add(await startBareServer());
    const s = await runSweep({ nodes: [bare.url], durationMs: 300 }, [1, 4]);
    expect(s.points.map((p) => p.connections)).toEqual([1, 4]);
    for (const p of s.points) {
      expect(p.throughput).toBeGreaterThan(0);
      expect(p.success).toBe(1);
    }
    expect(renderSweepHtml(s).match(/<svg /g)).toHaveLength(2);
  });
});
