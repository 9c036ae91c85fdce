// POST /cluster/visits on a real node: batches only from current members, with bounded counts, and
// days from a clock far ahead capped by the leader before it proposes, so one node's wrong clock
// cannot wipe a code's per-day history or stop later visits from reaching it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import { dayString, utcDay } from '../../src/shortener/visit-stats.js';
import {
  freePorts,
  printLogTails,
  removeDir,
  request,
  shorten,
  startNodeIn,
  tempDataRoot,
  waitFor,
} from './helpers.js';

const dataRoot = tempDataRoot('visit-batches');
const started: NodeProcess[] = [];
let node: NodeProcess;

beforeAll(async () => {
  const [httpPort, raftPort] = await freePorts(2);
  node = startNodeIn(started, dataRoot, {
    id: 1,
    httpPort,
    raftPort,
    extraArgs: ['--stats-flush-interval-ms', '100'],
  });
  await waitFor(
    'node 1 to lead',
    async () => ((await node.status())?.role === 'leader' ? true : undefined),
    30_000,
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(started.map((n) => n.kill()));
  removeDir(dataRoot);
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => printLogTails(dataRoot, 'visit-batches test failed'));
});

interface Visits {
  total: number;
  byDay: Record<string, number>;
}

async function newCode(path: string): Promise<{ code: string; createdAt: number }> {
  const created = await shorten(node.url, `https://example.com/visit-batches/${path}`);
  expect(created.status).toBe(201);
  const code = created.body.code as string;
  const meta = await request(`${node.url}/api/urls/${code}`);
  return { code, createdAt: Date.parse(meta.body.createdAt as string) };
}

async function visitsOf(code: string): Promise<Visits> {
  return (await request(`${node.url}/api/urls/${code}`)).body.visits as Visits;
}

function postBatch(batch: unknown) {
  return request(`${node.url}/cluster/visits`, {
    method: 'POST',
    body: JSON.stringify(batch),
    contentType: 'application/json',
  });
}

/** Redirects `n` times and waits until the node's flusher has counted them. */
async function visit(code: string, n: number, expectedTotal: number): Promise<Visits> {
  for (let i = 0; i < n; i++) {
    expect((await request(`${node.url}/${code}`)).status).toBe(302);
  }
  return waitFor(
    `${code} to count ${expectedTotal} visits`,
    async () => {
      const v = await visitsOf(code);
      return v.total === expectedTotal ? v : undefined;
    },
    15_000,
  );
}

let session = 1;

describe('POST /cluster/visits', () => {
  it('refuses a batch whose origin is not a member (403), counting nothing', async () => {
    const { code, createdAt } = await newCode('stranger');
    const res = await postBatch({
      origin: 2,
      session: session++,
      seq: 1,
      visits: [[code, createdAt, utcDay(Date.now()), 5]],
    });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('not_a_member');
    expect((await visitsOf(code)).total).toBe(0);
  });

  it('refuses a batch counting more than 2^32-1 visits in all (400), counting nothing', async () => {
    const { code, createdAt } = await newCode('huge');
    const today = utcDay(Date.now());
    const res = await postBatch({
      origin: 1,
      session: session++,
      seq: 1,
      visits: Array.from({ length: 5000 }, () => [code, createdAt, today, 0xffffffff]),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect((await visitsOf(code)).total).toBe(0);
  });

  it("a day far ahead is capped at the leader's tomorrow: the history stays, later visits still count per day", async () => {
    const { code, createdAt } = await newCode('future');
    const today = dayString(utcDay(Date.now()));
    await visit(code, 2, 2);
    const res = await postBatch({
      origin: 1,
      session: session++,
      seq: 1,
      visits: [[code, createdAt, 99_999_999, 1]],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ applied: true, counted: 1 });
    const afterBatch = await visitsOf(code);
    // Midnight UTC may pass during the test: compare against the day the visits were made on.
    const dayAfter = dayString(utcDay(Date.now()) + 1);
    expect(afterBatch.total).toBe(3);
    expect(afterBatch.byDay[today]).toBe(2);
    expect(Object.keys(afterBatch.byDay).every((d) => d <= dayAfter)).toBe(true);
    const later = await visit(code, 1, 4);
    const sumByDay = Object.values(later.byDay).reduce((a, b) => a + b, 0);
    expect(sumByDay).toBe(4);
  });
});
