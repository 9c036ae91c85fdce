// The free-space floor in the HTTP API: while the node's disk is low, writes and visit batches
// answer 507 insufficient_storage and change nothing; reads go on; writes resume with the space.
import { afterEach, describe, expect, it } from 'vitest';
import { json, startApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const LOW =
  "the disk holding this node's data has 1.0 MiB free, below the floor of 64.0 MiB (--min-free-bytes)";

describe('free-space floor', () => {
  it('refuses writes with 507 while low, serves reads, and takes writes again once space returns', async () => {
    let problem: string | undefined = LOW;
    h = await startApp({ diskSpaceProblem: () => problem });
    h.node.seed({ code: 'abc1234', url: 'https://example.com/x', createdAt: 1 });
    const shorten = () =>
      fetch(`${h!.baseUrl}/shorten`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'https://example.com/new' }),
      });

    const refused = await shorten();
    expect(refused.status).toBe(507);
    expect(await json(refused)).toEqual({ error: 'insufficient_storage', message: LOW });
    expect((await fetch(`${h.baseUrl}/api/urls/abc1234`, { method: 'DELETE' })).status).toBe(507);
    const visits = await fetch(`${h.baseUrl}/cluster/visits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ origin: 2, session: 1, seq: 1, visits: [['abc1234', 1, 20_000, 1]] }),
    });
    expect(visits.status).toBe(507);
    expect(h.node.createCalls).toHaveLength(0);
    expect(h.node.visitBatches).toHaveLength(0);

    expect((await fetch(`${h.baseUrl}/abc1234`, { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(`${h.baseUrl}/api/urls/abc1234`)).status).toBe(200);

    problem = undefined;
    expect((await shorten()).status).toBe(201);
  });
});
