// Fault-injecting TCP proxies for the Raft links (loopback only). Node i advertises its proxy's
// address (--advertise-raft), so every peer's connection to node i goes through proxy i, which
// forwards it to node i's real Raft port. Raft traffic is one client stream per (sender, receiver),
// so a connection into proxy i opened by node j carries j→i messages; the proxy finds j by the
// connection's source port (Linux: /proc/net/tcp gives the socket inode, /proc/<pid>/fd the process
// that holds it, matched against the node PIDs the runner registers).
//
// Per directed link j→i the runner sets:
//   - block 'stall': the connection stops moving in both directions (as when packets are dropped:
//     TCP holds the data; a gRPC keepalive or Raft's own timeouts notice), new connections are held
//     unanswered; on heal the held data flows on, late;
//   - block 'reset': connections are reset, new ones closed at once (an ICMP-unreachable network);
//   - delay: each chunk j→i is forwarded delayMs (+ up to jitterMs) later, in order.
import { readFile, readdir, readlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface LinkRule {
  block?: 'stall' | 'reset';
  delayMs?: number;
  jitterMs?: number;
}

export interface ProxyStats {
  connections: number;
  unidentified: number;
  resets: number;
  bytes: number;
}

const HOST = '127.0.0.1';
/** Bytes held in a delay queue before the source is paused. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

interface Pipe {
  from: number; // source node id (0: unidentified)
  client: Socket;
  upstream: Socket | undefined;
  queue: Array<{ buf: Buffer; due: number }>;
  queuedBytes: number;
  lastDue: number;
  timer: NodeJS.Timeout | undefined;
  stalled: boolean;
  closed: boolean;
}

/** The proxies of one cluster: proxy i in front of node i. */
export class LinkProxies {
  private readonly servers = new Map<number, Server>();
  private readonly listenPorts = new Map<number, number>();
  private readonly targets = new Map<number, number>();
  private readonly pids = new Map<number, number>(); // pid -> node id
  private readonly rules = new Map<string, LinkRule>(); // "from>to"
  private readonly pipes = new Map<number, Set<Pipe>>(); // by destination node
  readonly stats: ProxyStats = { connections: 0, unidentified: 0, resets: 0, bytes: 0 };
  private closed = false;

  constructor(private readonly rand: () => number = Math.random) {}

  /** Starts proxy `id` on `listenPort`, forwarding to `targetPort` (both on 127.0.0.1). */
  async add(id: number, listenPort: number, targetPort: number): Promise<void> {
    this.targets.set(id, targetPort);
    this.pipes.set(id, new Set());
    const server = createServer({ pauseOnConnect: true, noDelay: true }, (s) => void this.accept(id, s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: listenPort, host: HOST, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    this.servers.set(id, server);
    this.listenPorts.set(id, listenPort);
  }

  address(id: number): string {
    return `${HOST}:${this.listenPorts.get(id)}`;
  }

  /** The node process that now runs node `id` (after every start and restart). */
  registerPid(id: number, pid: number): void {
    for (const [p, n] of this.pids) if (n === id) this.pids.delete(p);
    this.pids.set(pid, id);
  }

  rule(from: number, to: number): LinkRule {
    return this.rules.get(`${from}>${to}`) ?? {};
  }

  /** Sets (or clears, with {}) the rule of the directed link from→to, applying it to live connections. */
  setRule(from: number, to: number, rule: LinkRule): void {
    const key = `${from}>${to}`;
    if (!rule.block && !rule.delayMs) this.rules.delete(key);
    else this.rules.set(key, rule);
    for (const p of this.pipes.get(to) ?? []) if (p.from === from) this.apply(to, p);
  }

  /** Clears every rule: stalled connections flow again, delays end. */
  healAll(): void {
    const keys = [...this.rules.keys()];
    this.rules.clear();
    for (const k of keys) {
      const [from, to] = k.split('>').map(Number);
      for (const p of this.pipes.get(to) ?? []) if (p.from === from) this.apply(to, p);
    }
  }

  activeRules(): Array<{ from: number; to: number; rule: LinkRule }> {
    return [...this.rules].map(([k, rule]) => {
      const [from, to] = k.split('>').map(Number);
      return { from, to, rule };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.rules.clear();
    for (const set of this.pipes.values()) for (const p of set) this.destroy(p);
    await Promise.all([...this.servers.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.clear();
  }

  // ------------------------------------------------------------------ connections

  private async accept(to: number, client: Socket): Promise<void> {
    this.stats.connections++;
    client.on('error', () => undefined);
    const from = await this.identify(client).catch(() => 0);
    if (from === 0) {
      // Not one of the registered node processes (e.g. one killed while connecting): a connection
      // the rules could not be applied to must not exist. A live sender reconnects and is found then.
      this.stats.unidentified++;
      client.destroy();
      return;
    }
    const pipe: Pipe = {
      from,
      client,
      upstream: undefined,
      queue: [],
      queuedBytes: 0,
      lastDue: 0,
      timer: undefined,
      stalled: false,
      closed: false,
    };
    if (this.closed || client.destroyed) return void client.destroy();
    this.pipes.get(to)!.add(pipe);
    client.once('close', () => this.destroy(pipe, to));
    client.on('data', (buf: Buffer) => this.forward(to, pipe, buf));
    this.apply(to, pipe);
  }

  /** (Re)applies the link's current rule to one connection. */
  private apply(to: number, p: Pipe): void {
    if (p.closed) return;
    const rule = this.rule(p.from, to);
    if (rule.block === 'reset') {
      this.stats.resets++;
      this.destroy(p, to);
      return;
    }
    if (rule.block === 'stall') {
      p.stalled = true;
      p.client.pause();
      p.upstream?.pause();
      if (p.timer) clearTimeout(p.timer);
      p.timer = undefined;
      return;
    }
    p.stalled = false;
    if (!p.upstream) this.connectUpstream(to, p);
    else p.upstream.resume();
    if (p.queuedBytes < MAX_QUEUED_BYTES) p.client.resume();
    this.pump(p);
  }

  private connectUpstream(to: number, p: Pipe): void {
    const up = createConnection({ host: HOST, port: this.targets.get(to)!, noDelay: true });
    p.upstream = up;
    up.on('error', () => undefined);
    up.once('close', () => this.destroy(p, to));
    up.on('data', (buf: Buffer) => {
      // Server → client: HTTP/2 control frames only (settings, window updates, pings, the ack).
      this.stats.bytes += buf.length;
      if (!p.client.write(buf)) {
        up.pause();
        p.client.once('drain', () => !p.stalled && up.resume());
      }
    });
  }

  private forward(to: number, p: Pipe, buf: Buffer): void {
    const rule = this.rule(p.from, to);
    const now = Date.now();
    const delay = (rule.delayMs ?? 0) + (rule.jitterMs ? this.rand() * rule.jitterMs : 0);
    // Due times never go backwards: the stream stays in order.
    p.lastDue = Math.max(p.lastDue, now + delay);
    p.queue.push({ buf, due: p.lastDue });
    p.queuedBytes += buf.length;
    if (p.queuedBytes >= MAX_QUEUED_BYTES) p.client.pause();
    this.pump(p);
  }

  private pump(p: Pipe): void {
    if (p.closed || p.stalled || !p.upstream || p.timer) return;
    const now = Date.now();
    while (p.queue.length > 0 && p.queue[0].due <= now) {
      const { buf } = p.queue.shift()!;
      p.queuedBytes -= buf.length;
      this.stats.bytes += buf.length;
      p.upstream.write(buf);
    }
    if (p.queuedBytes < MAX_QUEUED_BYTES && !p.stalled) p.client.resume();
    if (p.queue.length > 0) {
      p.timer = setTimeout(() => {
        p.timer = undefined;
        this.pump(p);
      }, p.queue[0].due - now);
    }
  }

  private destroy(p: Pipe, to?: number): void {
    if (p.closed) return;
    p.closed = true;
    if (p.timer) clearTimeout(p.timer);
    p.client.destroy();
    p.upstream?.destroy();
    if (to !== undefined) this.pipes.get(to)?.delete(p);
    else for (const s of this.pipes.values()) s.delete(p);
  }

  // ------------------------------------------------------------------ who is connecting

  /** The node id of the process holding the other end of `s` (0 when not found). */
  private async identify(s: Socket): Promise<number> {
    const port = s.remotePort;
    const localPort = s.localPort;
    if (port === undefined || localPort === undefined) return 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const inode = await socketInode(port, localPort);
      if (inode !== undefined) {
        for (const [pid, id] of this.pids) {
          if (await holdsSocket(pid, inode)) return id;
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return 0;
  }
}

const hexPort = (p: number): string => p.toString(16).toUpperCase().padStart(4, '0');

/** The inode of the loopback socket whose local port is `port` and remote port `remotePort`. */
async function socketInode(port: number, remotePort: number): Promise<string | undefined> {
  const text = await readFile('/proc/net/tcp', 'utf8');
  const local = `0100007F:${hexPort(port)}`;
  const remote = `0100007F:${hexPort(remotePort)}`;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[2] === remote) return f[9];
  }
  return undefined;
}

async function holdsSocket(pid: number, inode: string): Promise<boolean> {
  const want = `socket:[${inode}]`;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if ((await readlink(`/proc/${pid}/fd/${fd}`)) === want) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}
