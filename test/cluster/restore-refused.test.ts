// --restore-from checks what the backup holds, not only its checksums: a backup whose store would
// answer GET /:code with a Location that is not an http(s) URL is refused, the node exits saying
// why, and the data dir is left empty of any cluster, so the same dir restores a good backup.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import { encodeCommand } from '../../src/shortener/commands.js';
import { UrlStore } from '../../src/shortener/url-store.js';
import { freePorts, removeDir, resolveCode, startNodeIn, tempDataRoot, waitFor } from './helpers.js';

const started: NodeProcess[] = [];
const roots: string[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.kill()));
  for (const r of roots.splice(0)) removeDir(r);
});

/** A backup file (the snapshot format) of a store holding these codes. */
async function backupOf(dir: string, urls: Record<string, string>): Promise<string> {
  const root = open({ path: join(dir, 'lmdb') });
  try {
    const store = new UrlStore(root);
    store.applyBatch(
      Object.entries(urls).map(([code, url], i) => ({
        index: i + 1,
        data: encodeCommand({ type: 'create', code, url, createdAt: 1_700_000_000_000 }),
      })),
    );
    await store.flush();
    const view = store.openSnapshotView();
    const parts: Buffer[] = [];
    try {
      const description = {
        term: 1,
        confState: { voters: [1], learners: [] },
        members: [],
        clusterId: 'old-cluster',
      };
      for await (const frame of view.frames(description)) parts.push(frame);
    } finally {
      view.close();
    }
    const file = join(dir, `backup-${Object.keys(urls).join('-')}.snap`);
    writeFileSync(file, Buffer.concat(parts));
    return file;
  } finally {
    await root.close();
  }
}

describe('--restore-from', () => {
  it('refuses a backup holding a URL that is not a valid Location, then restores a good one', async () => {
    const dataRoot = tempDataRoot('restore-refused');
    roots.push(dataRoot);
    const bad = await backupOf(join(dataRoot, 'bad'), {
      good001: 'https://example.com/fine',
      evil001: 'javascript:alert(document.cookie)',
    });
    const good = await backupOf(join(dataRoot, 'good'), { good001: 'https://example.com/fine' });
    const [httpPort, raftPort] = await freePorts(2);
    const spec = { id: 1, httpPort, raftPort };

    const refused = startNodeIn(started, dataRoot, { ...spec, extraArgs: ['--restore-from', bad] });
    const outcome = await waitFor(
      'the node to exit or to lead',
      async () =>
        !refused.running ? 'exited' : (await refused.status())?.role === 'leader' ? 'leads' : undefined,
      30_000,
    );
    expect(outcome).toBe('exited');
    expect(refused.lastExit?.code).not.toBe(0);
    const log = readFileSync(join(dataRoot, 'node1.log'), 'utf8');
    expect(log).toContain('evil001');
    expect(log).toContain('not a valid http(s) URL');

    // A fresh dir: a node never starts a cluster over a dir that holds anything.
    const restored = startNodeIn(started, join(dataRoot, 'retry'), {
      ...spec,
      extraArgs: ['--restore-from', good],
    });
    await waitFor(
      'the restored node to lead',
      async () => ((await restored.status())?.role === 'leader' ? true : undefined),
      30_000,
    );
    expect(await resolveCode(restored.url, 'good001')).toEqual({
      status: 302,
      location: 'https://example.com/fine',
    });
    expect((await resolveCode(restored.url, 'evil001')).status).toBe(404);
  });
});
