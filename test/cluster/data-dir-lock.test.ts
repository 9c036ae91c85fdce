// Two node processes on one data dir would both append to its write-ahead log. The second one
// must refuse to start, say why, and leave the first one (and its data) alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import { freePorts, removeDir, shorten, startNodeIn, tempDataRoot, waitFor } from './helpers.js';

const dataRoot = tempDataRoot('data-dir-lock');
const started: NodeProcess[] = [];

afterAll(async () => {
  await Promise.all(started.map((n) => n.kill()));
  removeDir(dataRoot);
});

describe('a data dir in use', () => {
  it('is refused to a second node process, which exits with a message; the first one goes on', async () => {
    const [http1, raft1, http2, raft2] = await freePorts(4);
    const first = startNodeIn(started, dataRoot, { id: 1, httpPort: http1, raftPort: raft1 });
    await waitFor(
      'node 1 to lead',
      async () => ((await first.status())?.role === 'leader' ? true : undefined),
      30_000,
    );

    // Same id and data dir (node1), other ports: exactly the operator's mistake.
    const second = startNodeIn(started, dataRoot, { id: 1, httpPort: http2, raftPort: raft2 });
    await waitFor('the second node to give up', async () => (second.running ? undefined : true), 15_000);
    expect(second.lastExit?.code).toBe(1);
    const log = readFileSync(join(dataRoot, 'node1.log'), 'utf8');
    expect(log).toContain(`is in use by process ${first.pid}`);

    expect(first.running).toBe(true);
    expect((await shorten(first.url, 'https://example.com/lock/still-works')).status).toBe(201);
  });
});
