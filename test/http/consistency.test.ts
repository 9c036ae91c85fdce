// Read consistency per request (?consistency= or X-Consistency) and the /metrics endpoint.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitTimeoutError, NotLeaderError } from '../../src/domain/errors.js';
import { json, startApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const record = { code: 'abc1234', url: 'https://example.com/x', createdAt: 1_700_000_000_000 };

describe('read consistency', () => {
  it('serves local reads without a ReadIndex round', async () => {
    h = await startApp();
    h.node.seed(record);
    const res = await fetch(`${h.baseUrl}/abc1234`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(h.node.linearizableReads).toBe(0);
  });

  it('uses ReadIndex for ?consistency=linearizable and for the X-Consistency header', async () => {
    h = await startApp();
    h.node.seed(record);
    const byQuery = await fetch(`${h.baseUrl}/abc1234?consistency=linearizable`, { redirect: 'manual' });
    expect(byQuery.status).toBe(302);
    expect(byQuery.headers.get('location')).toBe(record.url);
    const byHeader = await fetch(`${h.baseUrl}/api/urls/abc1234`, {
      headers: { 'x-consistency': 'linearizable' },
    });
    expect(byHeader.status).toBe(200);
    expect((await json(byHeader)).url).toBe(record.url);
    expect(h.node.linearizableReads).toBe(2);
  });

  it('refuses an unknown consistency level with a 400', async () => {
    h = await startApp();
    const res = await fetch(`${h.baseUrl}/abc1234?consistency=eventual`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe('invalid_consistency');
  });

  it('answers 503 when no leader can confirm the read, 504 when it times out', async () => {
    h = await startApp();
    h.node.fail.lookupLinearizable = new NotLeaderError(0, null);
    const noLeader = await fetch(`${h.baseUrl}/abc1234?consistency=linearizable`, { redirect: 'manual' });
    expect(noLeader.status).toBe(503);
    expect(noLeader.headers.get('retry-after')).toBe('1');
    h.node.fail.lookupLinearizable = new CommitTimeoutError(2000);
    const slow = await fetch(`${h.baseUrl}/abc1234?consistency=linearizable`, { redirect: 'manual' });
    expect(slow.status).toBe(504);
  });
});

describe('/metrics', () => {
  it('serves Prometheus text with HTTP request counts by route pattern, not raw path', async () => {
    const registry = new Registry();
    h = await startApp({ metricsRegistry: registry });
    h.node.seed(record);
    await fetch(`${h.baseUrl}/abc1234`, { redirect: 'manual' });
    await fetch(`${h.baseUrl}/nope123`, { redirect: 'manual' });
    const res = await fetch(`${h.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{route="\/:code",method="GET",status="302"\} 1/);
    expect(text).toMatch(/http_requests_total\{route="\/:code",method="GET",status="404"\} 1/);
    expect(text).not.toContain('abc1234');
  });

  it('is absent when no registry is given', async () => {
    h = await startApp();
    expect((await fetch(`${h.baseUrl}/metrics`)).status).toBe(404);
  });
});
