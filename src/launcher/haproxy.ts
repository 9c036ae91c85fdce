// HAProxy (Debian's package) in front of a cluster: the config a deployment needs, written from
// one function, and a launcher that runs it as a child process and stops it by PID. The
// load-balancer test and `npm run lb` both use this file, so what is tested is what users run.
//
// What the config does, and why:
// - health checks GET /readyz/redirects: a node that can serve redirects stays in rotation during
//   an election or a lost quorum (writes then fail with 503 on every node alike);
// - round robin over the nodes; with --forward-writes on the nodes, any node takes any write;
// - X-Forwarded-For (option forwardfor): the nodes' --trust-proxy turns it into the client address;
// - retries: a request that could not be sent to a node (it died, it is restarting) goes to
//   another (option redispatch); reads are also retried after an empty or broken answer, but a
//   write is never sent twice unless nothing was sent the first time (its outcome would be unknown);
// - X-Served-By names the node that answered: an operator (and the test) can see the spread.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { stopChild } from './stop-child.js';

export interface Backend {
  name: string;
  host: string;
  port: number;
}

export interface LoadBalancerConfig {
  /** Address and port the balancer listens on. */
  host: string;
  port: number;
  backends: readonly Backend[];
  /** Time between health checks of one node. Default 1000 ms. */
  checkIntervalMs?: number;
  /** How long to wait for a node's answer; writes wait for a commit. Default 30 s. */
  serverTimeoutMs?: number;
  /**
   * Resolve backend names through this DNS server (host:port) at run time, so HAProxy starts before
   * the nodes exist (Docker's embedded DNS is 127.0.0.11:53).
   */
  dns?: string;
}

/** The path a balancer checks: "this node can serve redirects" (see README "Deploy"). */
export const LB_CHECK_PATH = '/readyz/redirects';

export function haproxyConfig(config: LoadBalancerConfig): string {
  const inter = config.checkIntervalMs ?? 1_000;
  const serverTimeout = config.serverTimeoutMs ?? 30_000;
  const bind = config.host.includes(':')
    ? `[${config.host}]:${config.port}`
    : `${config.host}:${config.port}`;
  const servers = config.backends.map((b) => {
    const addr = b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`;
    return `  server ${b.name} ${addr} check`;
  });
  const resolve = config.dns === undefined ? '' : ' resolvers dns init-addr last,libc,none';
  return [
    'global',
    '  maxconn 4096',
    '',
    ...(config.dns === undefined
      ? []
      : ['resolvers dns', `  nameserver dns ${config.dns}`, '  hold valid 1s', '']),
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    `  timeout server ${serverTimeout}ms`,
    '  timeout http-request 10s',
    '  timeout http-keep-alive 10s',
    '  option forwardfor',
    '  retries 3',
    '  option redispatch 1',
    '  retry-on all-retryable-errors',
    '',
    'frontend public',
    `  bind ${bind}`,
    '  default_backend nodes',
    '',
    'backend nodes',
    '  balance roundrobin',
    `  option httpchk GET ${LB_CHECK_PATH}`,
    '  http-check expect status 200',
    '  # A write whose request went out is never sent again: its outcome would be unknown.',
    '  http-request disable-l7-retry unless METH_GET || METH_HEAD',
    `  default-server inter ${inter}ms fastinter ${Math.max(100, Math.floor(inter / 2))}ms fall 2 rise 2${resolve}`,
    '  http-response set-header X-Served-By %[srv_name]',
    ...servers,
    '',
  ].join('\n');
}

/** The balancer of docker-compose.yml; deploy/compose/haproxy.cfg is this config, written out. */
export const COMPOSE_LOAD_BALANCER: LoadBalancerConfig = {
  host: '0.0.0.0',
  port: 8080,
  backends: [1, 2, 3].map((id) => ({ name: `node${id}`, host: `node${id}`, port: 8080 })),
  dns: '127.0.0.11:53',
};

/** The flags a node needs behind the balancer: public short URLs, forwarding, trusted proxies. */
export function lbNodeArgs(shortUrlBase: string, trustedProxies: readonly string[]): string[] {
  return ['--short-url-base', shortUrlBase, '--forward-writes', '--trust-proxy', trustedProxies.join(',')];
}

/** The haproxy binary, or undefined when it is not installed (apt-get install haproxy). */
export function findHaproxy(): string | undefined {
  for (const path of ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy']) if (existsSync(path)) return path;
  const which = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : undefined;
}

/** One HAProxy process in the foreground (-db), its config and log in `workDir`. */
export class HaproxyProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> | undefined;
  readonly configFile: string;
  readonly logFile: string;

  constructor(
    readonly config: LoadBalancerConfig,
    readonly workDir: string,
    private readonly binary = findHaproxy(),
  ) {
    this.configFile = join(workDir, 'haproxy.cfg');
    this.logFile = join(workDir, 'haproxy.log');
  }

  get url(): string {
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `http://${host}:${this.config.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Writes the config, checks it (haproxy -c), starts HAProxy and waits until it accepts connections. */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.binary === undefined) throw new Error('haproxy is not installed (apt-get install haproxy)');
    mkdirSync(this.workDir, { recursive: true });
    writeFileSync(this.configFile, haproxyConfig(this.config));
    const check = spawnSync(this.binary, ['-c', '-q', '-f', this.configFile], { encoding: 'utf8' });
    if (check.status !== 0)
      throw new Error(`haproxy refused ${this.configFile}: ${check.stderr || check.stdout}`);
    const out = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(this.binary, ['-db', '-f', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    this.child = child;
    this.exitPromise = new Promise((resolve) => child.once('exit', () => (out.end(), resolve())));
    const deadline = Date.now() + timeoutMs;
    while (!(await accepts(this.config.host, this.config.port))) {
      if (!this.running) throw new Error(`haproxy exited at start; see ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`haproxy did not listen within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (HAProxy's hard stop), by PID; SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    await stopChild(this.child!, this.exitPromise!, graceMs);
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
