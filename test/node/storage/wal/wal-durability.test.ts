// What was acknowledged survives SIGKILL (the WAL twin of ../durability.test.ts): a child process
// saves batches in a loop and prints "acked <lastIndex>" after each awaited save; we kill it at an
// arbitrary moment, reopen the log (which may cut a torn tail), and check every acknowledged
// entry byte for byte. Several rounds on the same directory, so recovery after a kill is itself
// killed and recovered; small segments, so kills also land around rotations.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalLogStore } from '../../../../src/node/storage/index.js';
import { EntryType } from '../../../../src/raft/types.js';
import { payloadFor } from '../fixtures/log-payload.js';
import { makeTempDir, removeTempDir } from '../temp-dir.js';
import { captureLogger } from './helpers.js';

const REGISTER = fileURLToPath(new URL('../fixtures/ts-register.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('../fixtures/wal-writer-child.mjs', import.meta.url));
const SEGMENT_BYTES = 8 * 1024;
/** [batchSize, concurrency] per round: single entries, small batches, several saves per turn, big writes. */
const ROUNDS: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [5, 1],
  [3, 4],
  [40, 1],
];
const ACKS_BEFORE_KILL = 300;
/**
 * A writer that goes this long without acking anything is stuck. A slow one is not: the deadline
 * restarts with every line it prints (every ack is a device flush on a disk others share).
 */
const STALL_MS = 30_000;
/**
 * Until it says "ready": the child loads the TypeScript compiler and transpiles the sources it
 * imports through a register hook, 9 s with the machine shared, over 30 s with both cores busy.
 * Only a hung child takes this long.
 */
const STARTUP_MS = 120_000;
/** Only a last resort: a stall fails a round with its own message well before this. */
const TEST_TIMEOUT_MS = ROUNDS.length * (STARTUP_MS + 2 * STALL_MS);

function startWriter(walDir: string, batchSize: number, concurrency: number) {
  const child = spawn(
    process.execPath,
    ['--import', REGISTER, CHILD, walDir, String(batchSize), String(concurrency), String(SEGMENT_BYTES)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  ) as unknown as ChildProcessWithoutNullStreams;
  const state = { acks: 0, lastAcked: -1, startIndex: -1, stderr: '', problem: '' };
  let wake = () => {};
  let partialLine = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (state.stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partialLine + chunk).split('\n');
    partialLine = lines.pop()!;
    for (const line of lines) {
      const [word, value] = line.split(' ');
      if (word === 'ready') state.startIndex = Number(value);
      if (word !== 'acked') continue;
      const acked = Number(value);
      if (acked <= state.lastAcked) state.problem ||= `ack ${acked} after ${state.lastAcked}`;
      state.lastAcked = acked;
      state.acks++;
    }
    wake();
  });
  child.on('exit', () => wake());

  function acked(count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const stalled = () =>
        finish(new Error(`no progress in ${limit()} ms at ${state.acks} of ${count} acks: ${state.stderr}`));
      const limit = () => (state.startIndex < 0 ? STARTUP_MS : STALL_MS);
      let timer = setTimeout(stalled, limit());
      const finish = (error?: Error) => {
        clearTimeout(timer);
        wake = () => {};
        if (error) reject(error);
        else resolve();
      };
      wake = () => {
        clearTimeout(timer);
        timer = setTimeout(stalled, limit());
        if (state.problem) finish(new Error(state.problem));
        else if (state.acks >= count) finish();
        else if (child.exitCode !== null || child.signalCode !== null) {
          finish(new Error(`writer exited (${child.exitCode ?? child.signalCode}): ${state.stderr}`));
        }
      };
      wake();
    });
  }

  return { child, state, acked };
}

describe('WAL durability under SIGKILL', { timeout: TEST_TIMEOUT_MS }, () => {
  let dataDir: string;
  let child: ChildProcessWithoutNullStreams | undefined;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
    child = undefined;
    await removeTempDir(dataDir);
  });

  it('keeps every acknowledged entry intact across repeated kills', async () => {
    const walDir = join(dataDir, 'wal');
    let previousLastAcked = 0;
    for (const [roundIndex, [batchSize, concurrency]] of ROUNDS.entries()) {
      const round = roundIndex + 1; // the child writes in term = round
      const writer = startWriter(walDir, batchSize, concurrency);
      child = writer.child;
      await writer.acked(ACKS_BEFORE_KILL);

      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGKILL');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect(signal).toBe('SIGKILL');
      expect(code).toBeNull();
      child = undefined;

      expect(writer.state.startIndex).toBeGreaterThanOrEqual(previousLastAcked);
      const lastAcked = writer.state.lastAcked;

      const store = await WalLogStore.open(walDir, {
        segmentBytes: SEGMENT_BYTES,
        logger: captureLogger().logger,
      });
      try {
        const { hardState, entries } = store.load(); // CRCs, entry checksums, continuity
        expect(hardState.term).toBe(round);
        expect(hardState.commit).toBeGreaterThanOrEqual(lastAcked);
        expect(entries[0]?.index).toBe(1);
        expect(entries.length).toBeGreaterThanOrEqual(lastAcked);
        for (let index = 1; index <= lastAcked; index++) {
          const stored = entries[index - 1];
          expect(stored.index).toBe(index);
          expect(stored.type).toBe(EntryType.Normal);
          expect(Buffer.from(stored.data).equals(payloadFor(index))).toBe(true);
        }
        expect(entries[lastAcked - 1].term).toBe(round);
        if (previousLastAcked > 0) expect(entries[previousLastAcked - 1].term).toBe(round - 1);
      } finally {
        await store.close();
      }
      previousLastAcked = lastAcked;
    }
    // The kills happened across several segments.
    expect((await readdir(walDir)).length).toBeGreaterThan(5);
  });
});
