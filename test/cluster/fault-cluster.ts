// A three-node cluster whose data dirs each sit on their own fault filesystem, for the power-loss
// and disk-fault tests: cut power on any set of nodes (SIGKILL, then lose whatever their disks had
// not made durable), restart them, and always unmount and clean up, even when a test fails.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { FaultFs, faultFsUnavailable } from '../../src/launcher/fault-fs.js';
import type { LossReport } from '../../src/launcher/fault-fs.js';
import { LocalCluster } from '../../src/launcher/local-cluster.js';
import { NodeProcess } from '../../src/launcher/node-process.js';
import {
  HOST,
  expectEveryAckOnEveryNode,
  freePorts,
  printLogTails,
  removeDir,
  tempDataRoot,
  waitFor,
  type TestCluster,
} from './helpers.js';
import type { Ack } from './write-load.js';

export interface FaultCluster extends TestCluster {
  /** Node i's filesystem (1-based). */
  fs(id: number): FaultFs;
  /** SIGKILLs the given nodes at once, then drops what their disks had not made durable. */
  powerCut(ids?: number[]): Promise<LossReport[]>;
  /**
   * Makes the cluster whole again, whatever a test left behind: cuts power on `cut` (nodes whose
   * disk failed under them: what the failed fsync held must go), clears every fault, and restarts
   * every node that is not running. Safe to call on a whole cluster (then it only clears faults).
   */
  restore(cut?: number[]): Promise<void>;
}

const unavailable = await faultFsUnavailable();

/** A describe block that runs only where a FUSE filesystem can be mounted, and says why not. */
export function describeOnFaultFs(title: string, body: () => void): void {
  describe.skipIf(unavailable !== undefined)(
    `${title}${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    body,
  );
}

/**
 * One fault cluster for the tests of a describe block: started before them, killed, unmounted and
 * removed after them, its node logs printed when a test fails. Call it inside the block.
 */
export function useFaultCluster(label: string, extraArgs: string[] = []): () => FaultCluster {
  let current: FaultCluster | undefined;
  beforeAll(async () => {
    current = await startFaultCluster(label, extraArgs);
  }, 90_000);
  // The tests of a block share the cluster: one that fails halfway (a fault still set, a node
  // stopped) must not take the next ones down with it.
  afterEach(async () => {
    await current?.restore();
  }, 60_000);
  afterAll(async () => {
    await current?.destroy();
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => current && printLogTails(current.dataRoot, `${label} test failed`));
  });
  return () => {
    if (!current) throw new Error(`the ${label} cluster is not started`);
    return current;
  };
}

export async function startFaultCluster(
  label: string,
  extraArgs: string[] = [],
  timeoutMs = 60_000,
): Promise<FaultCluster> {
  const size = 3;
  const ports = await freePorts(2 * size);
  const dataRoot = tempDataRoot(label);
  const filesystems: FaultFs[] = [];
  const cluster = new LocalCluster({
    size,
    host: HOST,
    httpPorts: ports.slice(0, size),
    raftPorts: ports.slice(size),
    dataRoot,
    extraArgs,
  });
  const fc: FaultCluster = {
    cluster,
    dataRoot,
    node: (id) => cluster.node(id),
    fs: (id) => filesystems[id - 1],
    restart(id) {
      const old = cluster.node(id);
      if (old.running) throw new Error(`node ${id} is still running`);
      const fresh = new NodeProcess({ ...old.spec, join: undefined });
      cluster.nodes[id - 1] = fresh;
      fresh.start();
      return fresh;
    },
    async powerCut(ids = [1, 2, 3]) {
      await Promise.all(ids.map((id) => cluster.node(id).kill()));
      return Promise.all(ids.map((id) => filesystems[id - 1].lose()));
    },
    async restore(cut = []) {
      await fc.powerCut(cut);
      for (const fs of filesystems) await fs.setFaults({});
      for (const n of cluster.nodes) if (!n.running) fc.restart(n.spec.id);
    },
    async destroy() {
      await cluster.killAll();
      for (const fs of filesystems) await fs.unmount();
      removeDir(dataRoot);
    },
  };
  try {
    // Each node's data dir is a mountpoint of its own: its disk, cut and slowed alone.
    for (let i = 1; i <= size; i++) {
      const mountpoint = join(dataRoot, `node${i}`);
      filesystems.push(await FaultFs.mount({ label: `${label}-fs${i}`, mountpoint }));
    }
    await cluster.start(timeoutMs);
  } catch (err) {
    printLogTails(dataRoot, `cluster ${label} did not start`);
    await fc.destroy();
    throw err;
  }
  return fc;
}

/** Every acknowledged write resolves to its URL on every node. */
/**
 * Resolves once no node's disk has seen a write or sync for `quietMs` (polled): what the nodes
 * applied is then flushed to LMDB, not waiting on a timer.
 */
export async function waitForIdleDisks(c: FaultCluster, quietMs = 1_000, timeoutMs = 60_000): Promise<void> {
  const activity = async (id: number) => {
    const st = await c.fs(id).stats();
    return st.writes + st.fsyncs + st.fsyncdirs + st.dsyncWrites;
  };
  const ids = [1, 2, 3];
  const last = new Map<number, { count: number; since: number }>();
  await waitFor(
    `every node's disk to be idle for ${quietMs} ms`,
    async () => {
      const now = Date.now();
      let quiet = true;
      for (const id of ids) {
        const count = await activity(id);
        const seen = last.get(id);
        if (seen === undefined || seen.count !== count) {
          last.set(id, { count, since: now });
          quiet = false;
        } else if (now - seen.since < quietMs) quiet = false;
      }
      return quiet ? true : undefined;
    },
    timeoutMs,
    100,
  );
}

export function expectAllPresent(c: FaultCluster, acks: Ack[]): Promise<void> {
  return expectEveryAckOnEveryNode(c.cluster.nodes, acks);
}
