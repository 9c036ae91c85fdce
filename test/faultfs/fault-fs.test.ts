// The fault filesystem itself: what a power cut keeps and loses, and the injected faults. The
// node-level tests rely on exactly these semantics.
import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultFs, faultFsUnavailable } from '../../src/launcher/fault-fs.js';
import { syncDirectory } from '../../src/common/sync-directory.js';

const unavailable = await faultFsUnavailable();

describe.skipIf(unavailable !== undefined)(
  `fault filesystem${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let fs: FaultFs;
    let n = 0;
    let dir: string;
    beforeAll(async () => {
      fs = await FaultFs.mount({ label: 'faultfs-test' });
    });
    afterAll(async () => {
      await fs?.unmount();
    });
    // Each test in a directory of its own, itself durable.
    const freshDir = async () => {
      dir = join(fs.mountpoint, `t${++n}`);
      await mkdir(dir);
      await syncDirectory(fs.mountpoint);
      await fs.setFaults({});
      return dir;
    };

    it('keeps fsynced bytes and drops the unsynced tail of a file', async () => {
      const d = await freshDir();
      const f = await open(join(d, 'a'), 'w');
      await f.write('durable');
      await f.sync();
      await f.write(' lost');
      await f.close();
      await syncDirectory(d);
      expect(await readFile(join(d, 'a'), 'utf8')).toBe('durable lost');
      const report = await fs.lose();
      expect(report.bytesUndone).toBeGreaterThan(0);
      expect(await readFile(join(d, 'a'), 'utf8')).toBe('durable');
    });

    it('restores overwritten bytes that were not synced', async () => {
      const d = await freshDir();
      const f = await open(join(d, 'b'), 'w');
      await f.write('aaaaaaaa', 0);
      await f.datasync();
      await f.write('bb', 2);
      await f.close();
      await syncDirectory(d);
      await fs.lose();
      expect(await readFile(join(d, 'b'), 'utf8')).toBe('aaaaaaaa');
    });

    it('counts writes through an O_DSYNC descriptor as durable at once', async () => {
      const d = await freshDir();
      const f = await open(join(d, 'w'), constants.O_CREAT | constants.O_WRONLY | constants.O_DSYNC);
      await f.write('one ', 0);
      await f.write('two', 4);
      await f.close();
      await syncDirectory(d);
      await fs.lose();
      expect(await readFile(join(d, 'w'), 'utf8')).toBe('one two');
    });

    it('loses a create, rename or unlink whose directory was not fsynced', async () => {
      const d = await freshDir();
      await writeFile(join(d, 'old'), 'old');
      await writeFile(join(d, 'gone'), 'gone');
      for (const name of ['old', 'gone']) {
        const f = await open(join(d, name), 'r+');
        await f.sync();
        await f.close();
      }
      await syncDirectory(d);
      const f = await open(join(d, 'new.tmp'), 'w');
      await f.write('new');
      await f.sync();
      await f.close();
      await rename(join(d, 'new.tmp'), join(d, 'old'));
      await unlink(join(d, 'gone'));
      await writeFile(join(d, 'created'), 'x');
      expect((await readdir(d)).sort()).toEqual(['created', 'old']);
      const report = await fs.lose();
      expect(report.opsUndone).toBe(4);
      expect((await readdir(d)).sort()).toEqual(['gone', 'old']);
      expect(await readFile(join(d, 'old'), 'utf8')).toBe('old');
      expect(await readFile(join(d, 'gone'), 'utf8')).toBe('gone');
    });

    it('keeps a rename once its directory is fsynced', async () => {
      const d = await freshDir();
      const f = await open(join(d, 'x.tmp'), 'w');
      await f.write('x');
      await f.sync();
      await f.close();
      await rename(join(d, 'x.tmp'), join(d, 'x'));
      await syncDirectory(d);
      await fs.lose();
      expect(await readdir(d)).toEqual(['x']);
      expect(await readFile(join(d, 'x'), 'utf8')).toBe('x');
    });

    it('fails fsync with EIO, and the data it did not sync stays lost after a later fsync', async () => {
      const d = await freshDir();
      const f = await open(join(d, 'e'), 'w');
      await f.write('kept');
      await f.sync();
      await f.write(' dropped');
      await fs.setFaults({ fsyncError: 'EIO' });
      await expect(f.sync()).rejects.toMatchObject({ code: 'EIO' });
      await fs.setFaults({});
      await f.sync(); // succeeds, as after fsyncgate, without bringing the data back
      await f.close();
      await syncDirectory(d);
      await fs.lose();
      expect(await readFile(join(d, 'e'), 'utf8')).toBe('kept');
    });

    it('fails writes with EIO on the paths it is told', async () => {
      const d = await freshDir();
      await fs.setFaults({ writeError: 'EIO', path: '/only-here' });
      await writeFile(join(d, 'fine'), 'ok');
      await expect(writeFile(join(d, 'only-here'), 'no')).rejects.toMatchObject({ code: 'EIO' });
    });

    it('answers ENOSPC once the growth budget is used, and takes writes again when it is lifted', async () => {
      const d = await freshDir();
      await fs.setFaults({ spaceBytes: 100 });
      const f = await open(join(d, 'full'), 'w');
      await f.write(Buffer.alloc(80), 0, 80, 0);
      await expect(f.write(Buffer.alloc(40), 0, 40, 80)).rejects.toMatchObject({ code: 'ENOSPC' });
      await f.write(Buffer.alloc(40), 0, 40, 0); // overwriting needs no new space
      await fs.setFaults({ spaceBytes: 0 });
      await f.write(Buffer.alloc(40), 0, 40, 0);
      await expect(writeFile(join(d, 'another'), 'x')).rejects.toMatchObject({ code: 'ENOSPC' });
      await fs.setFaults({});
      await f.write(Buffer.alloc(40), 0, 40, 80);
      await f.close();
      expect((await readFile(join(d, 'full'))).length).toBe(120);
      expect((await fs.stats()).enospc).toBe(2);
    });

    it('delays fsync by the fixed latency it is given', async () => {
      const d = await freshDir();
      const f = await open(join(d, 'slow'), 'w');
      await f.write('x');
      await fs.setFaults({ fsyncDelay: { ms: 150 } });
      const t0 = performance.now();
      await f.sync();
      const took = performance.now() - t0;
      await fs.setFaults({});
      await f.close();
      expect(took).toBeGreaterThanOrEqual(150);
    });
  },
);
