// A node never founds a cluster by accident: bootstrapping is asked for (--bootstrap), only on an
// empty data dir; a used dir restarts its node whatever the flags; an id must fit the wire.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import { freePorts, printLogTails, removeDir, startNodeIn, tempDataRoot, waitFor } from './helpers.js';

const started: NodeProcess[] = [];
const roots: string[] = [];
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') for (const r of roots) printLogTails(r, 'bootstrap test failed');
  await Promise.all(started.map((n) => n.kill()));
  started.length = 0;
  for (const r of roots.splice(0)) removeDir(r);
});

async function startOne(spec: { bootstrap?: boolean; extraArgs?: string[]; id?: number }) {
  const dataRoot = tempDataRoot('bootstrap');
  roots.push(dataRoot);
  const [httpPort, raftPort] = await freePorts(2);
  return {
    dataRoot,
    httpPort,
    raftPort,
    start: () => startNodeIn(started, dataRoot, { id: 1, httpPort, raftPort, ...spec }),
  };
}

async function refusal(n: NodeProcess): Promise<string> {
  await n.exited();
  expect(n.lastExit?.code).toBe(78);
  return readFileSync(n.spec.logFile, 'utf8');
}

describe('bootstrap', () => {
  it('a node with neither --join nor --bootstrap on an empty dir exits, says what to do and writes nothing', async () => {
    const { start } = await startOne({ bootstrap: false });
    const n = start();
    const log = await refusal(n);
    expect(log).toContain('neither --join nor --bootstrap was given');
    expect(log).toContain('remove the old member');
    expect(existsSync(n.spec.dataDir) ? readdirSync(n.spec.dataDir) : []).toEqual([]);
  });

  it('--bootstrap over a dir with stray files but no identity is refused', async () => {
    const { start, dataRoot } = await startOne({ bootstrap: true });
    mkdirSync(join(dataRoot, 'node1'));
    writeFileSync(join(dataRoot, 'node1', 'stray.txt'), 'not a node');
    const log = await refusal(start());
    expect(log).toContain('refusing to found a new cluster (--bootstrap)');
  });

  it('--bootstrap on a used dir restarts the node it holds (same cluster) and says it ignored the flag', async () => {
    const { start } = await startOne({ bootstrap: true });
    const first = start();
    const before = await waitFor(
      'node 1 to lead',
      async () => {
        const st = await first.status();
        return st?.role === 'leader' ? st : undefined;
      },
      30_000,
    );
    await first.stop();
    const again = start();
    const after = await waitFor(
      'node 1 to lead again',
      async () => {
        const st = await again.status();
        return st?.role === 'leader' ? st : undefined;
      },
      30_000,
    );
    expect(after.clusterId).toBe(before.clusterId);
    expect(readFileSync(again.spec.logFile, 'utf8')).toContain(
      '--bootstrap, --join and --restore-from are ignored',
    );
  });

  it('a used dir without the founding node identity is not restarted without flags', async () => {
    const { start, dataRoot } = await startOne({ bootstrap: false });
    mkdirSync(join(dataRoot, 'node1', 'wal'), { recursive: true });
    const log = await refusal(start());
    expect(log).toContain('holds no node identity');
  });
});

describe('--id', () => {
  // Ids are uint32 on the wire: a larger one would wrap onto another member's.
  it.each(['0', '4294967296', '4294967298', '1e3'])('--id %s is refused at start-up', async (id) => {
    // startNodeIn passes --id 1 first; the later --id wins.
    const { start } = await startOne({ bootstrap: true, extraArgs: ['--id', id] });
    const n = start();
    await n.exited();
    expect(n.lastExit?.code).toBe(2);
    expect(readFileSync(n.spec.logFile, 'utf8')).toContain(
      `--id must be an integer from 1 to 4294967295, got "${id}"`,
    );
  });
});
