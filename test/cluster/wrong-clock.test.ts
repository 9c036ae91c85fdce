// One node with a wrong clock cannot purge live short URLs. A node whose purges have run restarts
// with its wall clock ten years ahead (its monotonic clock untouched, as after a bad time step),
// leads, and purges: the purge's instant is held back to what the node has measured since the last
// purge, so a link that expires in an hour survives, and redirects again once the clock is right.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NodeProcess } from '../../src/launcher/node-process.js';
import { freePorts, HOST, printLogTails, removeDir, request, tempDataRoot, waitFor } from './helpers.js';

const TEN_YEARS_MS = 10 * 365 * 86_400_000;
const RETENTION_MS = 1_000;
const HELD_BACK = 'the clock is ahead of the last purge';

const dataRoot = tempDataRoot('wrong-clock');
const started: NodeProcess[] = [];
let spec: ConstructorParameters<typeof NodeProcess>[0];

// Loaded with --import into the node: Date (and so Date.now) runs CLOCK_OFFSET_MS ahead.
const CLOCK_SHIFT = `
const offset = Number(process.env.CLOCK_OFFSET_MS ?? 0);
const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);
class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(realNow() + offset);
    else super(...args);
  }
  static now() {
    return realNow() + offset;
  }
}
globalThis.Date = ShiftedDate;
`;

function start(extra: Partial<typeof spec> = {}): NodeProcess {
  const n = new NodeProcess({ ...spec, ...extra });
  started.push(n);
  n.start();
  return n;
}

async function leading(n: NodeProcess): Promise<void> {
  await waitFor(
    'the node to lead',
    async () => ((await n.status())?.role === 'leader' ? true : undefined),
    30_000,
  );
}

async function create(n: NodeProcess, path: string, ttlSeconds: number): Promise<string> {
  const res = await request(`${n.url}/shorten`, {
    method: 'POST',
    body: JSON.stringify({ url: `https://example.com/wrong-clock/${path}`, ttlSeconds }),
    contentType: 'application/json',
  });
  expect(res.status).toBe(201);
  return res.body.code as string;
}

beforeAll(async () => {
  const [httpPort, raftPort] = await freePorts(2);
  const shift = join(dataRoot, 'clock-shift.mjs');
  writeFileSync(shift, CLOCK_SHIFT);
  spec = {
    id: 1,
    host: HOST,
    httpPort,
    raftPort,
    dataDir: join(dataRoot, 'node1'),
    logFile: join(dataRoot, 'node1.log'),
    extraArgs: ['--purge-interval-ms', '100', '--expired-retention-ms', String(RETENTION_MS)],
    execArgv: ['--import', shift],
  };
});

afterAll(async () => {
  await Promise.all(started.map((n) => n.kill()));
  removeDir(dataRoot);
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => printLogTails(dataRoot, 'wrong-clock test failed'));
});

describe('a leader whose clock jumps ten years ahead', () => {
  it('purges nothing that was live: the link expiring in an hour survives and redirects again', async () => {
    let node = start({ bootstrap: true }); // the first start founds the cluster
    await leading(node);
    const soon = await create(node, 'soon', 1);
    const live = await create(node, 'live', 3600);
    // The first purge: the cluster now has a purge instant that a later leader is measured against.
    await waitFor(
      'the expired link to be purged',
      async () => ((await request(`${node.url}/api/urls/${soon}`)).status === 404 ? true : undefined),
      30_000,
    );
    await node.stop();

    node = start({ env: { CLOCK_OFFSET_MS: String(TEN_YEARS_MS) } });
    await leading(node);
    // On its clock everything has expired (410); what matters is whether a purge removes it (404).
    expect((await request(`${node.url}/api/urls/${live}`)).status).toBe(410);
    const outcome = await waitFor(
      'the purger to run on the wrong clock',
      async () => {
        if ((await request(`${node.url}/api/urls/${live}`)).status === 404) return 'purged';
        const heldBack = readFileSync(spec.logFile, 'utf8').split(HELD_BACK).length - 1;
        return heldBack >= 3 ? 'held back' : undefined;
      },
      30_000,
    );
    expect(outcome).toBe('held back');
    await node.stop();

    node = start();
    await leading(node);
    expect((await request(`${node.url}/${live}`)).status).toBe(302);
  }, 120_000);
});
