// What open() does with damaged segments: an unfinished last write (torn tail) is cut off with a
// warning; anything else is WalCorruptionError naming the file and refusing to start.
import { appendFile, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NonContiguousLogError,
  WalCorruptionError,
  WalLogStore,
} from '../../../../src/node/storage/index.js';
import { makeTempDir, removeTempDir } from '../temp-dir.js';
import { PINO_WARN, captureLogger, entry, range, snapshot, urlRange } from './helpers.js';

const HARD_STATE = { term: 1, vote: 1, commit: 0 };

describe('WalLogStore repair and corruption', () => {
  let dir: string;
  let store: WalLogStore | undefined;

  beforeEach(async () => {
    dir = join(await makeTempDir(), 'wal');
  });

  afterEach(async () => {
    await store?.close().catch(() => {});
    store = undefined;
    await removeTempDir(join(dir, '..'));
  });

  /**
   * One segment: the hard state, then entries 1..10 each in its own save (one record per write).
   * Returns the file and its size after each entry (sizes[i] = end of entry i's record).
   */
  async function writeTen(): Promise<{ file: string; sizes: number[] }> {
    const wal = await WalLogStore.open(dir, { logger: captureLogger().logger });
    await wal.save(HARD_STATE, []);
    const file = wal.segmentFiles()[0];
    const sizes = [(await stat(file)).size];
    for (const e of range(1, 10, 1)) {
      await wal.save(undefined, [e]);
      sizes.push((await stat(file)).size);
    }
    await wal.close();
    return { file, sizes };
  }

  async function openCapturing(segmentBytes?: number) {
    const { logger, lines } = captureLogger();
    store = await WalLogStore.open(dir, { logger, segmentBytes });
    return { wal: store, warnings: lines.filter((line) => line.level === PINO_WARN) };
  }

  async function openError(segmentBytes?: number): Promise<unknown> {
    return WalLogStore.open(dir, { logger: captureLogger().logger, segmentBytes }).then(
      async (wal) => {
        await wal.close();
        throw new Error('open() succeeded on a corrupt log');
      },
      (err: unknown) => err,
    );
  }

  describe('torn tail of the last segment', () => {
    // Cuts inside the header (1-7), right after it (8), inside the payload, one byte short.
    it.each([1, 4, 7, 8, 9, 15, -1])(
      'cut %i bytes into the last record: repaired, only that record lost',
      async (cut) => {
        const { file, sizes } = await writeTen();
        const start = sizes[9];
        const end = sizes[10];
        const cutAt = cut > 0 ? start + cut : end + cut;
        expect(cutAt).toBeLessThan(end);
        await truncate(file, cutAt);

        const { wal, warnings } = await openCapturing();
        expect(wal.load()).toEqual({ hardState: HARD_STATE, entries: range(1, 9, 1) });
        expect(wal.lastIndex()).toBe(9);
        expect((await stat(file)).size).toBe(start);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ file, offset: start, cutBytes: cutAt - start });
        expect(warnings[0].msg).toContain(file);

        // The log continues from the cut, and a reopen finds nothing more to repair.
        await wal.save(undefined, [entry(10, 2)]);
        await wal.close();
        const again = await openCapturing();
        expect(again.wal.load().entries).toEqual([...range(1, 9, 1), entry(10, 2)]);
        expect(again.warnings).toHaveLength(0);
      },
    );

    it.each([
      ['garbage with a huge length', Buffer.from('ffffffff0102030405060708090a', 'hex')],
      ['garbage with a small length and a wrong crc', Buffer.from('0400000011223344aabbccdd', 'hex')],
      ['zero padding', Buffer.alloc(4096)],
      ['a zero length followed by garbage', Buffer.concat([Buffer.alloc(8), Buffer.from('not a record')])],
      ['fewer bytes than a header', Buffer.from('0a0000', 'hex')],
    ])('%s after the last record: cut, nothing lost', async (_name, tail) => {
      const { file, sizes } = await writeTen();
      await appendFile(file, tail);
      const { wal, warnings } = await openCapturing();
      expect(wal.load().entries).toEqual(range(1, 10, 1));
      expect((await stat(file)).size).toBe(sizes[10]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ file, offset: sizes[10], cutBytes: tail.length });
    });

    it('a flipped byte in the last record: cut, only that record lost', async () => {
      const { file, sizes } = await writeTen();
      const bytes = await readFile(file);
      bytes[sizes[10] - 3] ^= 0x40;
      await writeFile(file, bytes);
      const { wal, warnings } = await openCapturing();
      expect(wal.load().entries).toEqual(range(1, 9, 1));
      expect((await stat(file)).size).toBe(sizes[9]);
      expect(warnings[0]).toMatchObject({ file, offset: sizes[9], defect: 'checksum' });
    });

    it('a torn first write of a just-created segment: cut, and its state records written again', async () => {
      let wal = await WalLogStore.open(dir, { segmentBytes: 1024, logger: captureLogger().logger });
      await wal.save({ term: 5, vote: 2, commit: 0 }, []);
      for (const e of urlRange(1, 30, 5)) await wal.save(undefined, [e]);
      await wal.compact(5, snapshot(5, 5));
      const files = wal.segmentFiles();
      await wal.close();
      // A crash right after rotation created the next file, in the middle of its first write.
      const next = (Number.parseInt(files[files.length - 1].slice(-20, -4), 16) + 1)
        .toString(16)
        .padStart(16, '0');
      const torn = join(dir, `${next}.wal`);
      await writeFile(torn, Buffer.from('2a000000c0ffee', 'hex'));

      const opened = await openCapturing(1024);
      wal = opened.wal;
      expect(opened.warnings[0]).toMatchObject({ file: torn, offset: 0, cutBytes: 7 });
      expect(wal.segmentFiles().at(-1)).toBe(torn);
      // Deleting every older segment must not lose the hard state or the snapshot, which were
      // only in the older segments and the (torn) first write of the new one.
      await wal.compact(30, snapshot(30, 5));
      expect(wal.segmentFiles()).toEqual([torn]);
      await wal.close();
      const reopened = await openCapturing(1024);
      expect(reopened.wal.load()).toEqual({
        hardState: { term: 5, vote: 2, commit: 0 },
        entries: [],
        snapshot: snapshot(30, 5),
      });
      expect(reopened.warnings).toHaveLength(0);
    });
  });

  describe('corruption', () => {
    it('a flipped byte in a record followed by valid ones, even in the last segment', async () => {
      const { file, sizes } = await writeTen();
      const bytes = await readFile(file);
      bytes[sizes[5] - 2] ^= 0x01; // inside entry 5's record
      await writeFile(file, bytes);
      const err = await openError();
      expect(err).toBeInstanceOf(WalCorruptionError);
      expect(err).toMatchObject({ file, offset: sizes[4], defect: 'checksum' });
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toMatch(/remove its data directory/);
      expect((await stat(file)).size).toBe(sizes[10]); // nothing was cut
    });

    it('an entry failing its own checksum inside a record whose CRC holds', async () => {
      const { file, sizes } = await writeTen();
      const bytes = await readFile(file);
      const start = sizes[9];
      bytes[sizes[10] - 1] ^= 0x01; // the last data byte of entry 10
      const payload = bytes.subarray(start + 8, sizes[10]);
      bytes.writeUInt32LE(crc32(payload), start + 4); // a sound frame around a bad entry
      await writeFile(file, bytes);
      const err = await openError();
      expect(err).toBeInstanceOf(WalCorruptionError);
      expect(err).toMatchObject({ file, offset: start, index: 10, defect: 'malformed' });
      expect((err as Error).message).toMatch(/entry 10/);
      expect((await stat(file)).size).toBe(sizes[10]);
    });

    async function writeSegments(): Promise<string[]> {
      const wal = await WalLogStore.open(dir, { segmentBytes: 1024, logger: captureLogger().logger });
      await wal.save(HARD_STATE, []);
      for (const e of urlRange(1, 40, 1)) await wal.save(undefined, [e]);
      const files = wal.segmentFiles();
      await wal.close();
      expect(files.length).toBeGreaterThan(3);
      return files;
    }

    it('a flipped byte in a segment that is not the last one', async () => {
      const files = await writeSegments();
      const bytes = await readFile(files[1]);
      bytes[bytes.length - 5] ^= 0x10;
      await writeFile(files[1], bytes);
      const err = await openError(1024);
      expect(err).toBeInstanceOf(WalCorruptionError);
      expect(err).toMatchObject({ file: files[1], defect: 'checksum' });
      expect((err as Error).message).toContain(files[1]);
      expect((err as Error).message).toMatch(/not the last/);
    });

    it('a segment that is not the last one cut short, padded with zeros, or emptied', async () => {
      const files = await writeSegments();
      const original = await readFile(files[0]);
      await writeFile(files[0], original.subarray(0, original.length - 3));
      expect(await openError(1024)).toMatchObject({ file: files[0], defect: 'truncated' });
      await writeFile(files[0], Buffer.concat([original, Buffer.alloc(4096)]));
      expect(await openError(1024)).toMatchObject({ file: files[0], defect: 'zero-length' });
      await writeFile(files[0], Buffer.alloc(0));
      expect(await openError(1024)).toMatchObject({ file: files[0], defect: 'truncated' });
    });

    it('a missing segment in the middle', async () => {
      const files = await writeSegments();
      await unlink(files[2]);
      const err = await openError(1024);
      expect(err).toBeInstanceOf(WalCorruptionError);
      expect(err).toMatchObject({ file: files[2], defect: 'missing-segment' });
    });

    it('a log with a gap fails the continuity check', async () => {
      const files = await writeSegments();
      // Keep only segment 1's first record (its hard state): its entries are gone, every frame is sound.
      const bytes = await readFile(files[1]);
      await writeFile(files[1], bytes.subarray(0, 8 + bytes.readUInt32LE(0)));
      const err = await openError(1024);
      expect(err).toBeInstanceOf(NonContiguousLogError);
    });
  });
});
