// A nearly full disk under a real node: its data dir on a small tmpfs the test mounts. Below the
// free-space floor writes answer 507 while reads go on and the log is compacted; once space is
// freed, writes resume.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { NodeProcess, waitFor } from '../../src/launcher/node-process.js';
import { freePorts, HOST, printLogTails, removeDir, request, shorten, tempDataRoot } from './helpers.js';

const MIB = 1024 * 1024;
const FS_BYTES = 64 * MIB;
const FLOOR_BYTES = 16 * MIB;
const isRoot = process.getuid?.() === 0;

let node: NodeProcess | undefined;
let dataRoot: string | undefined;
let mounted: string | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && dataRoot) printLogTails(dataRoot, ctx.task.name);
  await node?.kill();
  if (mounted) execFileSync('umount', [mounted]);
  mounted = undefined;
  if (dataRoot) removeDir(dataRoot);
});

const freeBytes = (dir: string) => {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
};

/** Writes until one answers `status` (each try is a real write). */
function shortenUntil(status: number, what: string) {
  return waitFor(
    what,
    async () => {
      const res = await shorten(node!.url, `https://example.com/until-${status}`);
      return res.status === status ? res : undefined;
    },
    20_000,
  );
}

// Mounting a file system needs root; CI runs as root.
it.runIf(isRoot)(
  'below the free-space floor writes answer 507 and reads go on; the log is compacted; writes resume when space returns (needs root: mounts a tmpfs)',
  async () => {
    dataRoot = tempDataRoot('disk-full');
    const disk = join(dataRoot, 'disk');
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_BYTES}`, 'tmpfs', disk]);
    mounted = disk;
    const [httpPort, raftPort] = await freePorts(2);
    node = new NodeProcess({
      id: 1,
      bootstrap: true,
      host: HOST,
      httpPort,
      raftPort,
      dataDir: join(disk, 'node1'),
      logFile: join(dataRoot, 'node1.log'),
      // Small segments, so that a compaction frees whole segment files.
      extraArgs: ['--min-free-bytes', String(FLOOR_BYTES), '--wal-segment-bytes', '16384'],
    });
    node.start();
    await waitFor(
      'node 1 to lead',
      async () => ((await node!.status())?.role === 'leader' ? true : undefined),
      20_000,
    );
    const codes: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await shorten(
        node.url,
        `https://example.com/before-the-disk-fills/${i}/${'x'.repeat(500)}`,
      );
      expect(res.status).toBe(201);
      codes.push(res.body.code as string);
    }
    expect((await node.status())!.snapshotIndex).toBe(0);

    // Fill the disk to halfway below the floor.
    const ballast = join(disk, 'ballast');
    writeFileSync(ballast, Buffer.alloc(freeBytes(disk) - FLOOR_BYTES / 2));
    const refused = await shortenUntil(507, 'writes to be refused');
    expect(refused.body.error).toBe('insufficient_storage');
    expect(refused.body.message).toMatch(/below the floor/);
    const del = await request(`${node.url}/api/urls/${codes[0]}`, { method: 'DELETE' });
    expect(del.status).toBe(507);

    // Reads go on.
    for (const code of codes) {
      const res = await request(`${node.url}/${code}`);
      expect(res.status).toBe(302);
    }
    expect((await request(`${node.url}/cluster/status`)).status).toBe(200);
    const metrics = await request(`${node.url}/metrics`);
    expect(metrics.text).toMatch(/^disk_space_low 1$/m);
    // Low space compacts the log, whatever the usual thresholds.
    await waitFor(
      'the log to be compacted',
      async () => ((await node!.status())!.snapshotIndex > 0 ? true : undefined),
      20_000,
    );

    // Space returns: writes resume.
    rmSync(ballast);
    const created = await shortenUntil(201, 'writes to resume');
    expect((await request(`${node.url}/${created.body.code as string}`)).status).toBe(302);
    expect(node.running).toBe(true);
  },
  120_000,
);
