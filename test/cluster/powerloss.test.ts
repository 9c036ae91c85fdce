// Power loss of every node at once, under a stream of writes: SIGKILL of all three nodes, then
// each node's fault filesystem drops every write and every directory change that no fsync made
// durable, as a machine that lost power would find its disk. After a restart, every acknowledged
// write must be there on every node. Cuts land at random moments and right after a snapshot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultFsUnavailable, startFaultCluster, type FaultCluster } from './fault-cluster.js';
import { mapLimit, printLogTails, resolveCode, waitFor } from './helpers.js';
import { SNAPSHOT_ARGS } from './snapshot-args.js';
import { WriteLoad, type Ack } from './write-load.js';

const unavailable = await faultFsUnavailable();
const CUTS = 3;
const ACKS_PER_ROUND = 120;

describe.skipIf(unavailable !== undefined)(
  `power loss of all nodes${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let fc: FaultCluster | undefined;
    beforeAll(async () => {
      fc = await startFaultCluster('powerloss', SNAPSHOT_ARGS);
    }, 90_000);
    afterAll(async () => {
      await fc?.destroy();
    });

    it(`keeps every acknowledged write through ${CUTS} cuts, on every node`, async ({ onTestFailed }) => {
      const c = fc!;
      onTestFailed(() => printLogTails(c.dataRoot, 'power-loss test failed'));
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
          losses.push(
            reports.map((r) => `${r.filesRestored}f/${r.bytesUndone}B/${r.opsUndone}ops`).join(' '),
          );
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
  },
);

async function snapshotIndexes(c: FaultCluster): Promise<number[]> {
  return Promise.all(c.cluster.nodes.map(async (n) => (await n.status())?.snapshotIndex ?? 0));
}

/** Every acknowledged write resolves to its URL on every node. */
async function expectAllPresent(c: FaultCluster, acks: Ack[]): Promise<void> {
  for (const node of c.cluster.nodes) {
    const wrong: string[] = [];
    await mapLimit(acks, 16, async ({ url, code }) => {
      const r = await resolveCode(node.url, code);
      if (r.status !== 302 || r.location !== url)
        wrong.push(`${code} → ${r.status} ${r.location} (want ${url})`);
    });
    expect(
      wrong,
      `node ${node.spec.id}: ${wrong.length} of ${acks.length} acknowledged writes are wrong`,
    ).toEqual([]);
  }
}
