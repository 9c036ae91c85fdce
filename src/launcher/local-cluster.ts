// A cluster of node processes on one machine, formed the way an operator would: the first node
// bootstraps, the others join it and are promoted to voters once caught up.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NodeProcess, waitFor } from './node-process.js';
import type { ClusterStatus } from '../domain/cluster-status.js';

export interface LocalClusterOptions {
  size: number;
  host: string;
  /** Ports for node i (1-based): httpPorts[i-1], raftPorts[i-1]. */
  httpPorts: number[];
  raftPorts: number[];
  dataRoot: string;
  extraArgs?: string[];
  /** Node.js runtime flags for every node (see NodeProcessSpec.execArgv). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

export class LocalCluster {
  readonly nodes: NodeProcess[];

  constructor(readonly options: LocalClusterOptions) {
    this.nodes = [];
    for (let i = 1; i <= options.size; i++) {
      this.nodes.push(
        new NodeProcess({
          id: i,
          host: options.host,
          httpPort: options.httpPorts[i - 1],
          raftPort: options.raftPorts[i - 1],
          dataDir: join(options.dataRoot, `node${i}`),
          logFile: join(options.dataRoot, `node${i}.log`),
          join: i === 1 ? undefined : `http://${options.host}:${options.httpPorts[0]}`,
          extraArgs: options.extraArgs,
          execArgv: options.execArgv,
          env: options.env,
        }),
      );
    }
  }

  node(id: number): NodeProcess {
    return this.nodes[id - 1];
  }

  /**
   * A new cluster: starts node 1 and waits for a leader, then the others, which join it. A cluster
   * that already has data (a second `npm start`): starts every node at once, since node 1 alone
   * cannot elect a leader among voters that are not running. Either way, waits until all are
   * voters and caught up.
   */
  async start(timeoutMs = 60_000, onProgress: (line: string) => void = () => {}): Promise<ClusterStatus> {
    if (this.nodes.some((n) => existsSync(join(n.spec.dataDir, 'wal')))) {
      for (const n of this.nodes) {
        n.start();
        onProgress(`node ${n.spec.id} started (pid ${n.pid}), restarting on its data`);
      }
    } else {
      await this.bootstrapAndJoin(timeoutMs, onProgress);
    }
    const status = await this.waitUntilConverged(timeoutMs);
    onProgress(`all ${this.nodes.length} nodes are voters and caught up; leader is node ${status.leaderId}`);
    return status;
  }

  private async bootstrapAndJoin(timeoutMs: number, onProgress: (line: string) => void): Promise<void> {
    const [first, ...rest] = this.nodes;
    // Only this first start founds the cluster: a later start of node 1 on a lost data dir must
    // not found a second one behind the same address.
    first.start({ bootstrap: true });
    onProgress(`node 1 started (pid ${first.pid}), founding the cluster, waiting for a leader`);
    await waitFor(
      'node 1 to know a leader',
      async () => ((await first.status())?.leaderId ? true : undefined),
      timeoutMs,
    );
    for (const n of rest) {
      n.start();
      onProgress(`node ${n.spec.id} started (pid ${n.pid}), joining via ${n.spec.join}`);
    }
  }

  /**
   * The leader's status once every node is a voter, has applied the leader's commit index and is
   * ready. Ready matters apart from caught up: a restarted node serves redirects only after one
   * ReadIndex round since its start, so a caller that next takes the quorum away must wait for it.
   */
  async waitUntilConverged(
    timeoutMs: number,
    ids = this.nodes.map((n) => n.spec.id),
  ): Promise<ClusterStatus> {
    return waitFor(
      `nodes ${ids.join(',')} to be voters and caught up`,
      async () => {
        const leader = await this.leaderStatus();
        if (!leader) return undefined;
        const voters = new Set(leader.members.filter((m) => m.voter).map((m) => m.id));
        if (!ids.every((id) => voters.has(id))) return undefined;
        for (const id of ids) {
          const st = await this.node(id).status();
          if (!st || st.appliedIndex < leader.commitIndex || st.leaderId !== leader.id) return undefined;
          if (!(await this.node(id).ready())) return undefined;
        }
        return leader;
      },
      timeoutMs,
      100,
    );
  }

  /** The status of the node that says it leads (undefined if none does right now). */
  async leaderStatus(): Promise<ClusterStatus | undefined> {
    for (const n of this.nodes) {
      if (!n.running) continue;
      const st = await n.status();
      if (st && st.role === 'leader') return st;
    }
    return undefined;
  }

  async waitForLeader(timeoutMs: number, exclude: number[] = []): Promise<ClusterStatus> {
    return waitFor(
      'a leader',
      async () => {
        const st = await this.leaderStatus();
        return st && !exclude.includes(st.id) ? st : undefined;
      },
      timeoutMs,
    );
  }

  /** Stops every node: SIGTERM, then SIGKILL after the grace period. */
  async stop(graceMs = 5_000): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(graceMs)));
  }

  /** SIGKILLs every running node (test cleanup that must not depend on graceful shutdown). */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }
}
