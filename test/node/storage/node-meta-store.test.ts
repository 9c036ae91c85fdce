import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptMetaError } from '../../../src/node/storage/errors.js';
import { NodeMetaStore, type Membership } from '../../../src/node/storage/node-meta-store.js';
import { openNodeDatabase } from '../../../src/node/storage/open-database.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const membership: Membership = {
  confState: { voters: [1, 2, 3], learners: [4] },
  members: [
    { id: 1, httpUrl: 'http://127.0.0.1:8001', raftAddr: '127.0.0.1:9001' },
    { id: 2, httpUrl: 'http://127.0.0.1:8002', raftAddr: '127.0.0.1:9002' },
    { id: 3, httpUrl: 'http://127.0.0.1:8003', raftAddr: '127.0.0.1:9003' },
    { id: 4, httpUrl: 'http://127.0.0.1:8004', raftAddr: '127.0.0.1:9004' },
  ],
  appliedIndex: 17,
};

describe('NodeMetaStore', () => {
  let dataDir: string;
  let root: RootDatabase | undefined;

  beforeEach(async () => {
    dataDir = await makeTempDir();
    root = openNodeDatabase(dataDir);
  });

  afterEach(async () => {
    await root?.close();
    root = undefined;
    await removeTempDir(dataDir);
  });

  async function reopen(): Promise<NodeMetaStore> {
    await root?.close();
    root = openNodeDatabase(dataDir);
    return new NodeMetaStore(root);
  }

  it('has no identity or membership in a fresh directory', () => {
    const store = new NodeMetaStore(root!);
    expect(store.getIdentity()).toBeUndefined();
    expect(store.getMembership()).toBeUndefined();
  });

  it('keeps identity and membership across reopening', async () => {
    const store = new NodeMetaStore(root!);
    await store.setIdentity({ nodeId: 2, clusterId: 'cluster-7f3a' });
    await store.setMembership(membership);

    const reopened = await reopen();
    expect(reopened.getIdentity()).toEqual({ nodeId: 2, clusterId: 'cluster-7f3a' });
    expect(reopened.getMembership()).toEqual(membership);
  });

  it('keeps node UUIDs of the identity and the members; a pending join until the identity completes it', async () => {
    const store = new NodeMetaStore(root!);
    const nodeUuid = '6f1c0d3e-8a4b-4c2d-9e7f-1a2b3c4d5e6f';
    await store.setPendingJoin({ nodeUuid });
    await store.setPendingJoin({ nodeUuid, clusterId: 'cluster-7f3a' });
    const withUuids: Membership = {
      ...membership,
      members: membership.members.map((m, i) => (i === 0 ? { ...m, nodeUuid: 'a-uuid' } : m)),
    };
    await store.setMembership(withUuids);
    let reopened = await reopen();
    expect(reopened.getPendingJoin()).toEqual({ nodeUuid, clusterId: 'cluster-7f3a' });
    expect(reopened.getMembership()).toEqual(withUuids);

    await reopened.setIdentity({ nodeId: 2, clusterId: 'cluster-7f3a', nodeUuid });
    reopened = await reopen();
    expect(reopened.getIdentity()).toEqual({ nodeId: 2, clusterId: 'cluster-7f3a', nodeUuid });
    expect(reopened.getPendingJoin()).toBeUndefined();
  });

  it('replaces membership with the latest change', async () => {
    const store = new NodeMetaStore(root!);
    await store.setMembership(membership);
    const shrunk: Membership = {
      confState: { voters: [1, 2], learners: [] },
      members: membership.members.slice(0, 2),
      appliedIndex: 40,
    };
    await store.setMembership(shrunk);
    expect((await reopen()).getMembership()).toEqual(shrunk);
  });

  it('fails loudly on a record of the wrong shape', async () => {
    const raw = root!.openDB<unknown, string>({ name: 'node-meta', encoding: 'msgpack' });
    await raw.put('identity', { nodeId: 'two', clusterId: 'c' });
    await raw.put('membership', {
      confState: { voters: [1], learners: [] },
      members: 'nope',
      appliedIndex: 1,
    });
    const store = new NodeMetaStore(root!);
    expect(() => store.getIdentity()).toThrow(CorruptMetaError);
    expect(() => store.getMembership()).toThrow(/members/);
  });
});
