// `npm run lb`: the whole deployment on one machine — a three-node cluster behind HAProxy, one
// public address for everything. The nodes run with --short-url-base (the balancer's URL),
// --forward-writes and --trust-proxy (the balancer's address), exactly as the load-balancer test
// runs them. Ctrl-C stops the balancer and the nodes, by PID.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { findHaproxy, HaproxyProcess, lbNodeArgs } from '../src/launcher/haproxy.js';
import { LocalCluster } from '../src/launcher/local-cluster.js';

const USAGE = `usage: npm run lb -- [--port 8080] [--nodes 3] [--http-port 8081] [--raft-port 9081] [--data ./data-lb]

Starts HAProxy on 127.0.0.1:<port> in front of a local cluster (nodes on http-port.., raft-port..),
node data and logs in <data>, HAProxy's config and log in <data>/lb. Needs haproxy
(apt-get install haproxy). Further flags after -- go to every node.

  --port P         the public port (default 8080): short URLs are http://127.0.0.1:P/<code>
  --public-url U   the public base if it is not http://127.0.0.1:P (e.g. behind another proxy)
  --nodes N        how many nodes (default 3)
  --http-port P    first node HTTP port (default 8081)
  --raft-port P    first node gRPC port (default 9081)
  --data DIR       data root (default ./data-lb)`;

const { values, positionals } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    'public-url': { type: 'string' },
    nodes: { type: 'string', default: '3' },
    'http-port': { type: 'string', default: '8081' },
    'raft-port': { type: 'string', default: '9081' },
    data: { type: 'string', default: './data-lb' },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const [port, size, httpBase, raftBase] = [
  values.port,
  values.nodes,
  values['http-port'],
  values['raft-port'],
].map(Number);
if (![port, size, httpBase, raftBase].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write(
    `--port, --nodes, --http-port and --raft-port must be positive integers\n\n${USAGE}\n`,
  );
  process.exit(2);
}
if (findHaproxy() === undefined) {
  process.stderr.write('haproxy is not installed: apt-get install haproxy\n');
  process.exit(2);
}
const host = '127.0.0.1';
const publicUrl = values['public-url'] ?? `http://${host}:${port}`;
const dataRoot = resolve(values.data!);
const range = (base: number) => Array.from({ length: size }, (_, i) => base + i);
const cluster = new LocalCluster({
  size,
  host,
  httpPorts: range(httpBase),
  raftPorts: range(raftBase),
  dataRoot,
  extraArgs: lbNodeArgs(publicUrl, [host]).concat(positionals),
});
const lb = new HaproxyProcess(
  {
    host,
    port,
    backends: cluster.nodes.map((n) => ({ name: `node${n.spec.id}`, host, port: n.spec.httpPort })),
  },
  resolve(dataRoot, 'lb'),
);

const say = (line: string) => process.stdout.write(`[lb] ${line}\n`);
let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) {
    await Promise.all([lb.stop(0), cluster.killAll()]);
    process.exit(130);
  }
  stopping = true;
  say('stopping the balancer and the nodes (Ctrl-C again to kill them)');
  await lb.stop();
  await cluster.stop();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown());

try {
  await cluster.start(120_000, say);
  await lb.start();
  say(`HAProxy (pid ${lb.pid}) listens on ${lb.url}; config ${lb.configFile}, log ${lb.logFile}`);
  process.stdout.write(
    [
      '',
      `  curl -s -X POST ${publicUrl}/shorten -H 'content-type: application/json' -d '{"url":"https://example.com/"}'`,
      `  curl -si ${publicUrl}/<code>                 # any node behind the balancer redirects`,
      `  open ${publicUrl}/ in a browser              # the web page, through the balancer`,
      `  nodes: ${cluster.nodes.map((n) => `${n.spec.id}=${n.url} (pid ${n.pid})`).join('  ')}`,
      '',
    ].join('\n'),
  );
} catch (err) {
  say(`did not come up: ${(err as Error).message}`);
  await Promise.all([lb.stop(0), cluster.killAll()]);
  process.exit(1);
}
