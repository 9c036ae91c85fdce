// Log compaction and InstallSnapshot between real processes: with tiny thresholds the leader
// compacts every few hundred writes, so a follower that was down, or a node that joins late, can
// only catch up by a snapshot streamed in 1 KiB chunks — and then goes on by plain replication.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import {
  freePorts,
  mapLimit,
  metricValue,
  printLogTails,
  request,
  shorten,
  startCluster,
  startNodeIn,
  statuses,
  waitApplied,
  waitFor,
  type TestCluster,
} from './helpers.js';
import { SNAPSHOT_ARGS } from './snapshot-args.js';

let tc: TestCluster;
const extra: NodeProcess[] = [];

beforeAll(async () => {
  tc = await startCluster('snapshots', 3, 45_000, SNAPSHOT_ARGS);
}, 60_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') printLogTails(tc.dataRoot, 'snapshot test failed');
});

afterAll(async () => {
  await Promise.all(extra.map((n) => n.kill()));
  await tc?.destroy();
});

async function writeMany(leaderUrl: string, prefix: string, count: number): Promise<Map<string, string>> {
  const codes = new Map<string, string>();
  await mapLimit(
    Array.from({ length: count }, (_, i) => `https://example.com/${prefix}/${i}`),
    16,
    async (url) => {
      const res = await shorten(leaderUrl, url, 10_000);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      codes.set(url, res.body.code as string);
    },
  );
  return codes;
}

async function expectAllReadable(node: NodeProcess, codes: Map<string, string>): Promise<void> {
  const missing: string[] = [];
  await mapLimit([...codes], 16, async ([url, code]) => {
    const res = await request(`${node.url}/api/urls/${code}`);
    if (res.status !== 200 || res.body.url !== url) missing.push(`${code}: ${res.status}`);
  });
  expect(
    missing.slice(0, 5),
    `${missing.length} of ${codes.size} codes missing on node ${node.spec.id}`,
  ).toEqual([]);
}

describe('log compaction and snapshots', () => {
  it('compacts the log and frees WAL segments under steady writes', async () => {
    const leaderStatus = await tc.cluster.waitUntilConverged(30_000);
    const leader = tc.node(leaderStatus.id);
    await writeMany(leader.url, 'compact', 1_200);
    await waitFor(
      'every node to compact its log',
      async () => {
        const all = await statuses(tc.cluster.nodes);
        return [...all.values()].every((s) => s.snapshotIndex > 500) ? true : undefined;
      },
      15_000,
    );
    // 1,200 writes of ~150 bytes fill a dozen 32 KiB segments; compaction keeps only the recent ones.
    const segments = readdirSync(join(tc.dataRoot, `node${leader.spec.id}`, 'wal'));
    expect(segments.length).toBeLessThan(8);
    expect(await metricValue(leader, 'raft_log_compactions_total')).toBeGreaterThan(0);
  });

  it('brings a follower that was down back by a snapshot, then by replication', async () => {
    const leaderStatus = await tc.cluster.waitUntilConverged(30_000);
    const leader = tc.node(leaderStatus.id);
    const follower = tc.cluster.nodes.find((n) => n.spec.id !== leader.spec.id)!;
    await follower.kill();
    const whileDown = await writeMany(leader.url, 'down', 800);
    const leaderNow = (await leader.status())!;
    expect(leaderNow.snapshotIndex).toBeGreaterThan(300);

    const back = tc.restart(follower.spec.id);
    await waitApplied([back], leaderNow.commitIndex, 30_000);
    expect(await metricValue(back, 'raft_snapshots_installed_total')).toBeGreaterThan(0);
    expect(await metricValue(leader, 'raft_snapshots_sent_total')).toBeGreaterThan(0);
    await expectAllReadable(back, whileDown);

    // Replication goes on from the snapshot: a new write reaches the follower.
    const after = await writeMany(leader.url, 'after', 5);
    await waitApplied([back], (await leader.status())!.commitIndex, 10_000);
    await expectAllReadable(back, after);
  });

  it('lets a new member join a compacted cluster by snapshot and serve reads', async () => {
    const leaderStatus = await tc.cluster.waitUntilConverged(30_000);
    const leader = tc.node(leaderStatus.id);
    const before = await writeMany(leader.url, 'before-join', 300);
    const [httpPort, raftPort] = await freePorts(2);
    const joiner = startNodeIn(extra, tc.dataRoot, {
      id: 4,
      httpPort,
      raftPort,
      join: leader.url,
      extraArgs: SNAPSHOT_ARGS,
    });
    await waitFor(
      'node 4 to become a voter',
      async () => {
        const st = await leader.status();
        return st?.members.some((m) => m.id === 4 && m.voter) ? true : undefined;
      },
      30_000,
    );
    await waitApplied([joiner], (await leader.status())!.commitIndex, 20_000);
    expect(await metricValue(joiner, 'raft_snapshots_installed_total')).toBeGreaterThan(0);
    await expectAllReadable(joiner, before);
    const redirect = await fetch(`${joiner.url}/${[...before.values()][0]}`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
  });

  it('backs up a running node and starts a new cluster from the backup', async () => {
    const leaderStatus = await tc.cluster.waitUntilConverged(30_000);
    const leader = tc.node(leaderStatus.id);
    const written = await writeMany(leader.url, 'backup', 200);
    // The backup is taken from a follower: any member holds the whole store.
    const follower = tc.cluster.nodes.find((n) => n.spec.id !== leader.spec.id)!;
    await waitApplied([follower], (await leader.status())!.commitIndex, 10_000);
    const res = await fetch(`${follower.url}/cluster/snapshot`);
    expect(res.status).toBe(200);
    const backupFile = join(tc.dataRoot, 'backup.snap');
    writeFileSync(backupFile, Buffer.from(await res.arrayBuffer()));

    const [httpPort, raftPort, httpPort2, raftPort2] = await freePorts(4);
    const restoreRoot = join(tc.dataRoot, 'restored');
    const restored = startNodeIn(extra, restoreRoot, {
      id: 1,
      httpPort,
      raftPort,
      extraArgs: ['--restore-from', backupFile, ...SNAPSHOT_ARGS],
    });
    await waitFor(
      'the restored node to lead',
      async () => ((await restored.status())?.role === 'leader' ? true : undefined),
      20_000,
    );
    const status = (await restored.status())!;
    expect(status.clusterId).not.toBe(leaderStatus.clusterId);
    await expectAllReadable(restored, written);
    // The new cluster grows like any other: a member joins and gets the data by snapshot.
    const second = startNodeIn(extra, restoreRoot, {
      id: 2,
      httpPort: httpPort2,
      raftPort: raftPort2,
      join: restored.url,
    });
    await waitFor(
      'node 2 of the restored cluster to become a voter',
      async () => ((await restored.status())?.members.some((m) => m.id === 2 && m.voter) ? true : undefined),
      30_000,
    );
    await waitApplied([second], (await restored.status())!.commitIndex, 20_000);
    await expectAllReadable(second, written);
  });
});
