// Power loss under a stream of writes: SIGKILL, then each cut node's fault filesystem drops every
// write and every directory change that no fsync made durable, as a machine that lost power would
// find its disk. After a restart, every acknowledged write must be there on every node.
// All three nodes at once (at random moments, and right after a snapshot and its compaction), and
// one node at a time, many times in a row, while writes go on.
import { expect, it } from 'vitest';
import { describeOnFaultFs, expectAllPresent, useFaultCluster, type FaultCluster } from './fault-cluster.js';
import { waitFor } from './helpers.js';
import { SNAPSHOT_ARGS } from './snapshot-args.js';
import { WriteLoad, type Ack } from './write-load.js';

const CUTS = 3;
const ACKS_PER_ROUND = 120;
const MINORITY_CUTS = 4;

describeOnFaultFs('power loss of all nodes', () => {
  const cluster = useFaultCluster('powerloss', SNAPSHOT_ARGS);

  it(`keeps every acknowledged write through ${CUTS} cuts, on every node`, async () => {
    const c = cluster();
    const acks: Ack[] = [];
    const losses: string[] = [];
    for (let cut = 1; cut <= CUTS; cut++) {
      const load = new WriteLoad({ nodes: () => c.cluster.nodes, clients: 6, label: `cut${cut}` });
      load.start();
      try {
        await load.waitForAcks(ACKS_PER_ROUND, 60_000);
        if (cut === 2) {
          // Right after some node takes a snapshot: its files and the compaction that follows
          // are the newest, least durable things on its disk.
          const before = await snapshotIndexes(c);
          await waitFor(
            'a node to take a new snapshot',
            async () => {
              const now = await snapshotIndexes(c);
              return now.some((s, i) => s > before[i]) ? true : undefined;
            },
            60_000,
            10,
          );
        }
        const reports = await c.powerCut();
        losses.push(reports.map((r) => `${r.filesRestored}f/${r.bytesUndone}B/${r.opsUndone}ops`).join(' '));
      } finally {
        await load.stop();
      }
      expect(load.unexpected).toEqual([]);
      expect(load.mismatches).toEqual([]);
      acks.push(...load.acks);
      for (const id of [1, 2, 3]) c.restart(id);
      await c.cluster.waitUntilConverged(60_000);
      await expectAllPresent(c, acks);
    }
    console.log(
      `power loss: ${CUTS} cuts survived, ${acks.length} acknowledged writes checked on every node; undone per cut (files/bytes/namespace ops per node): ${losses.join(' | ')}`,
    );
  }, 400_000);
});

describeOnFaultFs('power loss of one node at a time', () => {
  const cluster = useFaultCluster('powerloss-minority', SNAPSHOT_ARGS);

  it(`keeps every acknowledged write through ${MINORITY_CUTS} cuts of one node, writes going on`, async () => {
    const c = cluster();
    const load = new WriteLoad({ nodes: () => c.cluster.nodes, clients: 4, label: 'minority' });
    load.start();
    try {
      for (let cut = 1; cut <= MINORITY_CUTS; cut++) {
        await load.waitForAcks(40, 60_000);
        // The leader and a follower in turn.
        const leader = (await c.cluster.waitUntilConverged(60_000)).id;
        const victim = cut % 2 === 1 ? leader : [1, 2, 3].find((id) => id !== leader)!;
        await c.powerCut([victim]);
        await load.waitForAcks(20, 60_000);
        c.restart(victim);
      }
      await c.cluster.waitUntilConverged(60_000);
    } finally {
      await load.stop();
    }
    expect(load.unexpected).toEqual([]);
    expect(load.mismatches).toEqual([]);
    await c.cluster.waitUntilConverged(60_000);
    await expectAllPresent(c, load.acks);
    console.log(
      `power loss of one node: ${MINORITY_CUTS} cuts, ${load.acks.length} acknowledged writes checked`,
    );
  }, 400_000);
});

async function snapshotIndexes(c: FaultCluster): Promise<number[]> {
  return Promise.all(c.cluster.nodes.map(async (n) => (await n.status())?.snapshotIndex ?? 0));
}
