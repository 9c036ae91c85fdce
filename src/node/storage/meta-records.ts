// Shape checks for the small msgpack records kept next to the log. msgpack hands back whatever
// was stored; a record of the wrong shape must fail loudly at startup rather than feed NaN terms
// or a missing voter list into the consensus core.
import type { ConfState, HardState, SnapshotMeta } from '../../raft/types.js';
import { CorruptMetaError } from './errors.js';

type Fields = Record<string, unknown>;

export function decodeHardState(value: unknown): HardState | undefined {
  if (value === undefined) return undefined;
  const record = asRecord('hardState', value);
  return {
    term: count('hardState', record, 'term'),
    vote: count('hardState', record, 'vote'),
    commit: count('hardState', record, 'commit'),
  };
}

export function decodeSnapshotMeta(value: unknown): SnapshotMeta | undefined {
  if (value === undefined) return undefined;
  const record = asRecord('snapshot', value);
  return {
    index: count('snapshot', record, 'index'),
    term: count('snapshot', record, 'term'),
    confState: decodeConfState('snapshot', record.confState),
  };
}

export function decodeConfState(key: string, value: unknown): ConfState {
  const record = asRecord(key, value);
  return { voters: countList(key, record, 'voters'), learners: countList(key, record, 'learners') };
}

export function asRecord(key: string, value: unknown): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CorruptMetaError(key, `expected an object, found ${JSON.stringify(value)}`);
  }
  return value as Fields;
}

/** A non-negative safe integer field: terms, indexes, node ids. */
export function count(key: string, record: Fields, field: string): number {
  const value = record[field];
  if (!isCount(value)) throw new CorruptMetaError(key, `${field} is ${JSON.stringify(value)}`);
  return value;
}

export function text(key: string, record: Fields, field: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw new CorruptMetaError(key, `${field} is ${JSON.stringify(value)}`);
  return value;
}

/** A string field that may be absent: `{ [field]: value }`, or `{}` when it is. */
export function optionalText<F extends string>(
  key: string,
  record: Fields,
  field: F,
): Partial<Record<F, string>> {
  if (record[field] === undefined) return {};
  return { [field]: text(key, record, field) } as Partial<Record<F, string>>;
}

function countList(key: string, record: Fields, field: string): number[] {
  const value = record[field];
  if (!Array.isArray(value) || !value.every(isCount)) {
    throw new CorruptMetaError(key, `${field} is ${JSON.stringify(value)}`);
  }
  return [...value];
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
