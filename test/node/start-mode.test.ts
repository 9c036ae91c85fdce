// A node founds a cluster only when asked, only on an empty dir, and never reuses a dir that holds
// anything but a node identity.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decideStartMode,
  isEmptyDataDir,
  StartRefusedError,
  type StartRequest,
} from '../../src/node/start-mode.js';

const base: StartRequest = {
  dataDir: '/data/n1',
  hasIdentity: false,
  hasPendingJoin: false,
  isEmpty: true,
  bootstrap: false,
  join: false,
  restore: false,
};
const refused = (r: Partial<StartRequest>) => () => decideStartMode({ ...base, ...r });

describe('decideStartMode', () => {
  it('founds a cluster only when asked, on an empty dir', () => {
    expect(decideStartMode({ ...base, bootstrap: true })).toBe('bootstrap');
    expect(decideStartMode({ ...base, restore: true })).toBe('restore');
    expect(decideStartMode({ ...base, bootstrap: true, restore: true })).toBe('restore');
  });

  it('refuses an empty dir without --join or --bootstrap, saying what to do', () => {
    expect(refused({})).toThrow(StartRefusedError);
    expect(refused({})).toThrow(/neither --join nor --bootstrap.*--bootstrap.*--join/s);
  });

  it('refuses to found a cluster over a dir with files but no identity', () => {
    expect(refused({ isEmpty: false, bootstrap: true })).toThrow(
      /refusing to found a new cluster \(--bootstrap\)/,
    );
    expect(refused({ isEmpty: false, restore: true })).toThrow(
      /refusing to found a new cluster \(--restore-from\)/,
    );
    expect(refused({ isEmpty: false })).toThrow(/holds no node identity/);
    expect(refused({ isEmpty: false, join: true })).toThrow(/cannot join a cluster with them/);
  });

  it('restarts a dir that holds an identity, whatever founding flag is given', () => {
    for (const flags of [{}, { bootstrap: true }, { join: true }, { restore: true }]) {
      expect(decideStartMode({ ...base, isEmpty: false, hasIdentity: true, ...flags })).toBe('restart');
    }
  });

  it('joins with an empty dir, and resumes a join the dir began', () => {
    expect(decideStartMode({ ...base, join: true })).toBe('join');
    expect(decideStartMode({ ...base, isEmpty: false, hasPendingJoin: true, join: true })).toBe('join');
    expect(refused({ isEmpty: false, hasPendingJoin: true })).toThrow(/start the node again with --join/);
    expect(refused({ isEmpty: false, hasPendingJoin: true, bootstrap: true })).toThrow(/refusing to found/);
  });

  it('refuses --join together with --bootstrap or --restore-from', () => {
    expect(refused({ join: true, bootstrap: true })).toThrow(/--join excludes/);
    expect(refused({ join: true, restore: true })).toThrow(/--join excludes/);
  });
});

describe('isEmptyDataDir', () => {
  it('counts a missing dir, our LOCK and lost+found as empty, anything else as used', () => {
    const root = mkdtempSync(join(tmpdir(), 'start-mode-'));
    try {
      expect(isEmptyDataDir(join(root, 'missing'))).toBe(true);
      writeFileSync(join(root, 'LOCK'), '1');
      mkdirSync(join(root, 'lost+found'));
      expect(isEmptyDataDir(root)).toBe(true);
      writeFileSync(join(root, 'stray'), '');
      expect(isEmptyDataDir(root)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
