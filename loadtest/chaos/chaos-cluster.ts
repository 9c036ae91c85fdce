// A cluster of real node processes whose Raft links all run through LinkProxies: node i listens for
// Raft on its own port and advertises proxy i's address, so every peer reaches it through the proxy.
// Tracks every process it ever started (restarts and replacements included) so that all can be
// stopped by PID.
//
// Membership changes (membership.ts) make the set of nodes dynamic: `ids` are the members the
// runner intends (what faults target and what the final checks read), `clientIds()` what clients
// may still address (a removed node keeps answering until it is stopped: clients learn late).
// A node added under a new id gets its own ports and its own proxy; one re-added under its old id
// reuses them, on a wiped data dir.
import { appendFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FaultFs } from '../../src/launcher/fault-fs.js';
import { freePorts } from '../../src/launcher/free-ports.js';
import { NodeProcess, waitFor } from '../../src/launcher/node-process.js';
import type { ClusterStatus } from '../../src/domain/cluster-status.js';
import { resumeAllPaused } from '../faults/pauser.js';
import type { NodeDirectory } from './clients.js';
import { LinkProxies } from './proxy.js';

const HOST = '127.0.0.1';

export interface ChaosClusterOptions {
  size: number;
  dataRoot: string;
  nodeArgs?: string[];
  rand?: () => number;
  /** Put each node's data dir on a fault filesystem of its own (for the disk fault kinds). */
  faultDisks?: boolean;
}

export class ChaosCluster implements NodeDirectory {
  readonly proxies: LinkProxies;
  /** Every process started, by PID (old incarnations included). */
  readonly started: NodeProcess[] = [];
  /** PIDs that are SIGSTOPped right now (SIGCONT on cleanup, whatever happens). */
  readonly stopped = new Set<number>();
  /** The current process of every node id clients or faults may still address. */
  private readonly procs = new Map<number, NodeProcess>();
  /** The last process of each removed and stopped node: its ports and proxy, if its id comes back. */
  private readonly retired = new Map<number, NodeProcess>();
  /** The intended members, in id order. */
  private members: number[] = [];
  private maxId: number;
  /** Each node's fault filesystem, by id (with faultDisks). */
  private readonly disks = new Map<number, FaultFs>();
  private exitHandler: (() => void) | undefined;

  private constructor(
    readonly options: ChaosClusterOptions,
    proxies: LinkProxies,
  ) {
    this.proxies = proxies;
    this.maxId = options.size;
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
        const [httpPort, raftPort, proxyPort] = [0, 1, 2].map((k) => ports[k * o.size + i - 1]);
        const joinUrl = i === 1 ? undefined : `http://${HOST}:${ports[0]}`;
        c.procs.set(i, await c.spec(i, httpPort, raftPort, proxyPort, joinUrl));
        c.members.push(i);
      }
    } catch (err) {
      await c.destroy();
      throw err;
    }
    return c;
  }

  /** A node process for `id`, its proxy started in front of its Raft port. */
  private async spec(
    id: number,
    httpPort: number,
    raftPort: number,
    proxyPort: number,
    joinUrl: string | undefined,
  ): Promise<NodeProcess> {
    await this.proxies.add(id, proxyPort, raftPort);
    const dataDir = join(this.options.dataRoot, `node${id}`);
    if (this.options.faultDisks) {
      this.disks.set(id, await FaultFs.mount({ label: `chaos-disk${id}`, mountpoint: dataDir }));
    }
    return new NodeProcess({
      id,
      host: HOST,
      httpPort,
      raftPort,
      dataDir,
      logFile: join(this.options.dataRoot, `node${id}.log`),
      join: joinUrl,
      extraArgs: [
        ...(this.options.nodeArgs ?? ['--no-request-log']),
        '--advertise-raft',
        this.proxies.address(id),
      ],
    });
  }

  get originalSize(): number {
    return this.options.size;
  }

  node(id: number): NodeProcess {
    const n = this.procs.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** The intended members (what faults target and what the final checks read). */
  get ids(): number[] {
    return [...this.members];
  }

  // ------------------------------------------------------------------ NodeDirectory (clients)

  clientIds(): number[] {
    return [...this.procs.keys()].filter((id) => this.members.includes(id) || this.procs.get(id)!.running);
  }

  url(id: number): string | undefined {
    return this.procs.get(id)?.url;
  }

  idOfUrl(url: string): number | undefined {
    const u = url.replace(/\/+$/, '');
    for (const [id, n] of this.procs) if (n.url === u) return id;
    return undefined;
  }

  // ------------------------------------------------------------------ processes

  private launch(n: NodeProcess, options: { bootstrap?: boolean } = {}): void {
    n.start(options);
    this.started.push(n);
    if (n.pid !== undefined) this.proxies.registerPid(n.spec.id, n.pid);
  }

  /** Node 1 bootstraps, the others join; resolves when all are voters and caught up. */
  async start(timeoutMs: number, log: (m: string) => void): Promise<ClusterStatus> {
    const [first, ...rest] = this.members.map((id) => this.node(id));
    // Only the first start founds the cluster (a restart on its data dir needs no flag).
    this.launch(first, { bootstrap: true });
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
    log(`all ${this.members.length} nodes are voters and caught up; leader is node ${st.leaderId}`);
    return st;
  }

  /** Starts node `id` again on its data dir (it must not be running). */
  restart(id: number): NodeProcess {
    const old = this.node(id);
    if (old.running) throw new Error(`node ${id} is still running`);
    const fresh = new NodeProcess({ ...old.spec, join: undefined });
    this.procs.set(id, fresh);
    this.launch(fresh);
    return fresh;
  }

  // ------------------------------------------------------------------ membership

  /** Marks `id` as an intended member (after its promotion) or not (after its removal). */
  setMember(id: number, member: boolean): void {
    this.members = this.members.filter((m) => m !== id);
    if (member) this.members = [...this.members, id].sort((a, b) => a - b);
  }

  /** A node id never used in this run. */
  newId(): number {
    return ++this.maxId;
  }

  /**
   * Starts a node that joins the cluster through `joinUrl` on an empty data dir: `id` new (new
   * ports, a new proxy) or a removed node's id (its ports and proxy; its old process must be
   * stopped, and its data dir is wiped, as an operator replacing a node does).
   */
  async startJoining(id: number, joinUrl: string): Promise<NodeProcess> {
    const old = this.procs.get(id) ?? this.retired.get(id);
    let n: NodeProcess;
    if (old) {
      if (old.running) throw new Error(`node ${id} is still running`);
      if (this.members.includes(id)) throw new Error(`node ${id} is still a member`);
      await this.wipe(id, old.spec.dataDir);
      n = new NodeProcess({ ...old.spec, join: joinUrl });
    } else {
      const [httpPort, raftPort, proxyPort] = await freePorts(3);
      n = await this.spec(id, httpPort, raftPort, proxyPort, joinUrl);
    }
    // One log file per id across incarnations: mark where the new one begins.
    appendFileSync(
      n.spec.logFile,
      `${JSON.stringify({ chaos: `a fresh node ${id} starts on an empty data dir, joining via ${joinUrl}` })}\n`,
    );
    this.retired.delete(id);
    this.procs.set(id, n);
    this.launch(n);
    return n;
  }

  /** Empties a data dir (a mountpoint stays, and its emptiness is made durable). */
  private async wipe(id: number, dataDir: string): Promise<void> {
    const disk = this.disks.get(id);
    if (!disk) return rmSync(dataDir, { recursive: true, force: true });
    for (const name of readdirSync(dataDir)) rmSync(join(dataDir, name), { recursive: true, force: true });
    await disk.syncAll();
  }

  /** Node `id`'s fault filesystem (only with faultDisks). */
  disk(id: number): FaultFs {
    const d = this.disks.get(id);
    if (!d) throw new Error(`node ${id} has no fault filesystem (faultDisks is off)`);
    return d;
  }

  /** Forgets a removed node whose process has stopped: clients no longer address it. */
  retire(id: number): void {
    if (this.members.includes(id)) throw new Error(`node ${id} is still a member`);
    const n = this.procs.get(id);
    if (!n) return;
    if (n.running) throw new Error(`node ${id} is still running`);
    this.procs.delete(id);
    this.retired.set(id, n);
  }

  // ------------------------------------------------------------------ pauses

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

  // ------------------------------------------------------------------ status

  /** Status of a running node, with a short timeout (a paused node does not answer). */
  async status(id: number, timeoutMs = 400): Promise<ClusterStatus | undefined> {
    const n = this.procs.get(id);
    if (!n?.running) return undefined;
    return n.status(timeoutMs);
  }

  /** The member that says it leads with the highest term, among those that answer quickly. */
  async leader(timeoutMs = 400): Promise<number | undefined> {
    return (await this.leaderStatus(timeoutMs))?.id;
  }

  async leaderStatus(timeoutMs = 400): Promise<ClusterStatus | undefined> {
    const all = await Promise.all(this.ids.map((id) => this.status(id, timeoutMs)));
    let best: ClusterStatus | undefined;
    for (const st of all) if (st?.role === 'leader' && (!best || st.term > best.term)) best = st;
    return best;
  }

  /**
   * Resolves with the leader's status once the leader's membership is exactly the intended
   * members, all voters, and every one of them follows it and has applied its commit index.
   */
  async waitUntilConverged(timeoutMs: number): Promise<ClusterStatus> {
    return waitFor(
      `nodes ${this.ids.join(',')} to be the voters, and caught up`,
      async () => {
        const leader = await this.leaderStatus(1_000);
        if (!leader) return undefined;
        const members = leader.members.map((m) => `${m.id}${m.voter ? '' : ' (learner)'}`).sort();
        if (members.join() !== this.ids.map(String).sort().join()) return undefined;
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

  // ------------------------------------------------------------------ cleanup

  /** Every process this cluster started, in every incarnation: their PIDs. */
  get pids(): number[] {
    return this.started.map((n) => n.pid).filter((p): p is number => p !== undefined);
  }

  /** Resumes, stops (SIGTERM, SIGKILL after graceMs) every process, closes the proxies. */
  async destroy(graceMs = 3_000): Promise<void> {
    this.resumeAll();
    const all = [...new Set([...this.started, ...this.procs.values(), ...this.retired.values()])];
    await Promise.all(all.map((n) => n.stop(graceMs).catch(() => n.kill())));
    this.killAllSync();
    for (const disk of this.disks.values()) await disk.unmount();
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
