// What was acknowledged survives SIGKILL: a child process saves batches in a loop and prints
// "acked <lastIndex>" after each awaited save; we kill it at an arbitrary moment, reopen the
// store, and check every acknowledged entry byte for byte. Several rounds on the same directory,
// so recovery after a kill is itself killed and recovered.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNodeDatabase } from '../../../src/node/storage/open-database.js';
import { RaftLogStore } from '../../../src/node/storage/raft-log-store.js';
import { EntryType } from '../../../src/raft/types.js';
import { payloadFor } from './fixtures/log-payload.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const REGISTER = fileURLToPath(new URL('./fixtures/ts-register.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/log-writer-child.mjs', import.meta.url));
/** [batchSize, concurrency] per round: single entries, small batches, several saves per turn. */
const ROUNDS: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [5, 1],
  [3, 4],
];
const ACKS_BEFORE_KILL = 300;
const DEADLINE_MS = 30_000;

/**
 * Spawns the writer. `acked(n)` resolves once n acknowledgements have been read, driven by the
 * child's output events; it rejects if the child exits first or the deadline passes.
 */
function startWriter(dataDir: string, batchSize: number, concurrency: number) {
  const child = spawn(
    process.execPath,
    ['--import', REGISTER, CHILD, dataDir, String(batchSize), String(concurrency)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  ) as unknown as ChildProcessWithoutNullStreams;
  const state = { acks: 0, lastAcked: -1, startIndex: -1, stderr: '', problem: '' };
  let wake = () => {};
  let partialLine = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (state.stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partialLine + chunk).split('\n');
    partialLine = lines.pop()!; // an incomplete line waits for the next chunk
    for (const line of lines) {
      const [word, value] = line.split(' ');
      if (word === 'ready') state.startIndex = Number(value);
      if (word !== 'acked') continue;
      const acked = Number(value);
      // Acks must rise: a save resolving out of order would be a bug in itself.
      if (acked <= state.lastAcked) state.problem ||= `ack ${acked} after ${state.lastAcked}`;
      state.lastAcked = acked;
      state.acks++;
    }
    wake();
  });
  child.on('exit', () => wake());

  function acked(count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`no ${count} acks in ${DEADLINE_MS} ms: ${state.stderr}`)),
        DEADLINE_MS,
      );
      const finish = (error?: Error) => {
        clearTimeout(timer);
        wake = () => {};
        if (error) reject(error);
        else resolve();
      };
      wake = () => {
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

describe('durability under SIGKILL', () => {
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
    let previousLastAcked = 0;
    for (const [roundIndex, [batchSize, concurrency]] of ROUNDS.entries()) {
      const round = roundIndex + 1; // the child writes in term = round
      const writer = startWriter(dataDir, batchSize, concurrency);
      child = writer.child;
      await writer.acked(ACKS_BEFORE_KILL);

      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGKILL');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect(signal).toBe('SIGKILL');
      expect(code).toBeNull();
      child = undefined;

      // The child resumed after everything acknowledged before (maybe after more: durable, unacked).
      expect(writer.state.startIndex).toBeGreaterThanOrEqual(previousLastAcked);
      const lastAcked = writer.state.lastAcked;

      const root = openNodeDatabase(dataDir);
      try {
        const { hardState, entries } = new RaftLogStore(root).load(); // verifies checksums + continuity
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
        // Entries of this round carry this round's term; none of the earlier ones were rewritten.
        expect(entries[lastAcked - 1].term).toBe(round);
        if (previousLastAcked > 0) expect(entries[previousLastAcked - 1].term).toBe(round - 1);
      } finally {
        await root.close();
      }
      previousLastAcked = lastAcked;
    }
  });
});
