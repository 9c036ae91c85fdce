// A cluster of real node processes whose Raft links all run through LinkProxies: node i listens for
// Raft on its own port and advertises proxy i's address, so every peer reaches it through the proxy.
// Tracks every process it ever started (restarts included) so that all can be stopped by PID.
import { join } from 'node:path';
import { freePorts } from '../../src/launcher/free-ports.js';
import { NodeProcess, waitFor, type StatusSnapshot } from '../../src/launcher/node-process.js';
import { resumeAllPaused } from '../faults/pauser.js';
import { LinkProxies } from './proxy.js';

const HOST = '127.0.0.1';

export interface ChaosClusterOptions {
  size: number;
  dataRoot: string;
  nodeArgs?: string[];
  rand?: () => number;
}

export class ChaosCluster {
  readonly nodes: NodeProcess[] = [];
  readonly proxies: LinkProxies;
  /** Every process started, by PID (old incarnations included). */
  readonly started: NodeProcess[] = [];
  /** PIDs that are SIGSTOPped right now (SIGCONT on cleanup, whatever happens). */
  readonly stopped = new Set<number>();
  private exitHandler: (() => void) | undefined;

  private constructor(
    readonly options: ChaosClusterOptions,
    proxies: LinkProxies,
  ) {
    this.proxies = proxies;
  }

  static async create(o: ChaosClusterOptions): Promise<ChaosCluster> {
    const ports = await freePorts(3 * o.size);
    const proxies = new LinkProxies(o.rand);
    const c = new ChaosCluster(o, proxies);
    // Last resort if the process exits without reaching cleanup.
    c.exitHandler = () => c.killAllSync();
    process.on('exit', c.exitHandler);
    try {
      for (let i = 1; i <= o.size; i++) {
        const httpPort = ports[i - 1];
        const raftPort = ports[o.size + i - 1];
        const proxyPort = ports[2 * o.size + i - 1];
        await proxies.add(i, proxyPort, raftPort);
        c.nodes.push(
          new NodeProcess({
            id: i,
            host: HOST,
            httpPort,
            raftPort,
            dataDir: join(o.dataRoot, `node${i}`),
            logFile: join(o.dataRoot, `node${i}.log`),
            join: i === 1 ? undefined : `http://${HOST}:${ports[0]}`,
            extraArgs: [...(o.nodeArgs ?? ['--no-request-log']), '--advertise-raft', proxies.address(i)],
          }),
        );
      }
    } catch (err) {
      await c.destroy();
      throw err;
    }
    return c;
  }

  node(id: number): NodeProcess {
    return this.nodes[id - 1];
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  get ids(): number[] {
    return this.nodes.map((n) => n.spec.id);
  }

  private launch(n: NodeProcess): void {
    n.start();
    this.started.push(n);
    if (n.pid !== undefined) this.proxies.registerPid(n.spec.id, n.pid);
  }

  /** Node 1 bootstraps, the others join; resolves when all are voters and caught up. */
  async start(timeoutMs: number, log: (m: string) => void): Promise<StatusSnapshot> {
    const [first, ...rest] = this.nodes;
    this.launch(first);
    log(`node 1 started (pid ${first.pid}), waiting for it to lead`);
    await waitFor(
      'node 1 to know a leader',
      async () => ((await first.status())?.leaderId ? true : undefined),
      timeoutMs,
    );
    for (const n of rest) {
      this.launch(n);
      log(`node ${n.spec.id} started (pid ${n.pid}), joining`);
    }
    const st = await this.waitUntilConverged(timeoutMs);
    log(`all ${this.nodes.length} nodes are voters and caught up; leader is node ${st.leaderId}`);
    return st;
  }

  /** Starts node `id` again on its data dir (it must not be running). */
  restart(id: number): NodeProcess {
    const old = this.node(id);
    if (old.running) throw new Error(`node ${id} is still running`);
    const fresh = new NodeProcess({ ...old.spec, join: undefined });
    this.nodes[id - 1] = fresh;
    this.launch(fresh);
    return fresh;
  }

  pause(id: number): number | undefined {
    const pid = this.node(id).pid;
    if (pid === undefined || !this.node(id).running) return undefined;
    this.stopped.add(pid);
    signal(pid, 'SIGSTOP');
    return pid;
  }

  resume(pid: number): void {
    signal(pid, 'SIGCONT');
    this.stopped.delete(pid);
  }

  resumeAll(): void {
    for (const pid of [...this.stopped]) this.resume(pid);
    resumeAllPaused();
  }

  /** Status of a running node, with a short timeout (a paused node does not answer). */
  async status(id: number, timeoutMs = 400): Promise<StatusSnapshot | undefined> {
    const n = this.node(id);
    if (!n.running) return undefined;
    return n.status(timeoutMs);
  }

  /** The node that says it leads with the highest term, among those that answer quickly. */
  async leader(timeoutMs = 400): Promise<number | undefined> {
    const all = await Promise.all(this.ids.map((id) => this.status(id, timeoutMs)));
    let best: StatusSnapshot | undefined;
    for (const st of all) if (st?.role === 'leader' && (!best || st.term > best.term)) best = st;
    return best?.id;
  }

  async waitUntilConverged(timeoutMs: number): Promise<StatusSnapshot> {
    return waitFor(
      `nodes ${this.ids.join(',')} to be voters and caught up`,
      async () => {
        const id = await this.leader(1_000);
        if (id === undefined) return undefined;
        const leader = await this.status(id, 1_000);
        if (!leader) return undefined;
        const voters = new Set(leader.members.filter((m) => m.voter).map((m) => m.id));
        if (!this.ids.every((i) => voters.has(i))) return undefined;
        for (const i of this.ids) {
          const st = await this.status(i, 1_000);
          if (!st || st.appliedIndex < leader.commitIndex || st.leaderId !== leader.id) return undefined;
        }
        return leader;
      },
      timeoutMs,
      100,
    );
  }

  /** Every process this cluster started, in every incarnation: their PIDs. */
  get pids(): number[] {
    return this.started.map((n) => n.pid).filter((p): p is number => p !== undefined);
  }

  /** Resumes, stops (SIGTERM, SIGKILL after graceMs) every process, closes the proxies. */
  async destroy(graceMs = 3_000): Promise<void> {
    this.resumeAll();
    const all = [...new Set([...this.started, ...this.nodes])];
    await Promise.all(all.map((n) => n.stop(graceMs).catch(() => n.kill())));
    this.killAllSync();
    await this.proxies.close();
    if (this.exitHandler) process.off('exit', this.exitHandler);
  }

  private killAllSync(): void {
    for (const pid of this.stopped) signal(pid, 'SIGCONT');
    for (const n of this.started) if (n.running && n.pid !== undefined) signal(n.pid, 'SIGKILL');
  }
}

function signal(pid: number, s: NodeJS.Signals): void {
  try {
    process.kill(pid, s);
  } catch {
    // gone
  }
}
