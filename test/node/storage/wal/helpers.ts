// Shared pieces of the WAL tests: entries, snapshots, and a logger whose lines the test can read.
import { pino, type Logger } from 'pino';
import { EntryType, type Entry, type SnapshotMeta } from '../../../../src/raft/types.js';

export function entry(index: number, term: number, text = `cmd-${index}-${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

export function range(lo: number, hiInclusive: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = lo; index <= hiInclusive; index++) entries.push(entry(index, term));
  return entries;
}

/** Entries with ~150-byte payloads, the size of a real URL command. */
export function urlRange(lo: number, hiInclusive: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = lo; index <= hiInclusive; index++) {
    entries.push(
      entry(index, term, `{"code":"c${index}","longUrl":"https://example.com/${index}/${'x'.repeat(100)}"}`),
    );
  }
  return entries;
}

export const snapshot = (index: number, term: number): SnapshotMeta => ({
  index,
  term,
  confState: { voters: [1, 2, 3], learners: [4] },
});

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger that keeps its lines in memory. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

export const PINO_WARN = 40;
