import { describe, expect, it } from 'vitest';
import { NonContiguousLogError } from '../../../src/node/storage/errors.js';
import { verifyContinuity } from '../../../src/node/storage/log-continuity.js';
import { EntryType, type Entry, type SnapshotMeta } from '../../../src/raft/types.js';

function log(...termsFrom: Array<[index: number, term: number]>): Entry[] {
  return termsFrom.map(([index, term]) => ({ index, term, type: EntryType.Normal, data: new Uint8Array(0) }));
}

function snapshotAt(index: number, term: number): SnapshotMeta {
  return { index, term, confState: { voters: [1, 2, 3], learners: [] } };
}

function defectOf(entries: Entry[], snapshot?: SnapshotMeta): NonContiguousLogError {
  try {
    verifyContinuity(entries, snapshot);
  } catch (error) {
    if (error instanceof NonContiguousLogError) return error;
    throw error;
  }
  throw new Error('verifyContinuity accepted a broken log');
}

describe('verifyContinuity', () => {
  it('accepts an empty log, a contiguous log, and a log kept from below the snapshot', () => {
    expect(() => verifyContinuity([], undefined)).not.toThrow();
    expect(() => verifyContinuity(log([1, 1], [2, 1], [3, 2], [4, 5]), undefined)).not.toThrow();
    expect(() => verifyContinuity(log([11, 2], [12, 3]), snapshotAt(10, 2))).not.toThrow();
    expect(() => verifyContinuity(log([8, 2], [9, 2], [10, 2], [11, 3]), snapshotAt(10, 2))).not.toThrow();
  });

  it('reports a hole in the log at the first missing index', () => {
    const error = defectOf(log([1, 1], [2, 1], [4, 1], [5, 1]));
    expect(error.defect).toBe('gap');
    expect(error.index).toBe(3);
    expect(error.message).toContain('entry 2 is followed by entry 4');
  });

  it('reports a term that goes down', () => {
    const error = defectOf(log([1, 1], [2, 3], [3, 2]));
    expect(error.defect).toBe('term-regression');
    expect(error.index).toBe(3);
  });

  it('reports a log that starts after the snapshot leaves a hole', () => {
    const error = defectOf(log([13, 2]), snapshotAt(10, 2));
    expect(error.defect).toBe('gap');
    expect(error.index).toBe(13);
  });

  it('reports an entry whose term is below the snapshot it follows', () => {
    const error = defectOf(log([11, 1]), snapshotAt(10, 2));
    expect(error.defect).toBe('term-regression');
    expect(error.index).toBe(11);
  });
});
