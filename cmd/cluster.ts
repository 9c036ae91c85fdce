// The three-node join script (`npm start`): starts node 1, waits until it leads, starts the
// others with --join, waits until all are voters and caught up, prints how to use the cluster,
// and stops every node cleanly on Ctrl-C. Re-running it restarts the nodes on their data.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { LocalCluster } from '../src/launcher/local-cluster.js';

const USAGE = `usage: npm start -- [--nodes 3] [--host 127.0.0.1] [--http-port 8081] [--raft-port 9081] [--data ./data]

Starts a local cluster of node processes. Node i listens for HTTP on http-port+i-1 and for Raft
(gRPC) on raft-port+i-1, keeps its data in <data>/node<i> and its log in <data>/node<i>.log.
Ctrl-C stops all nodes gracefully (a second Ctrl-C kills them).

  --nodes N        how many nodes (default 3)
  --host HOST      address to listen on (default 127.0.0.1)
  --http-port P    first HTTP port (default 8081)
  --raft-port P    first gRPC port (default 9081)
  --data DIR       data root (default ./data)
  -- ARGS          any further flags are passed to every node (see node dist/cmd/node.js --help)`;

const { values, positionals } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    host: { type: 'string', default: '127.0.0.1' },
    'http-port': { type: 'string', default: '8081' },
    'raft-port': { type: 'string', default: '9081' },
    data: { type: 'string', default: './data' },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const size = Number(values.nodes);
const httpBase = Number(values['http-port']);
const raftBase = Number(values['raft-port']);
if (![size, httpBase, raftBase].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write(`--nodes, --http-port and --raft-port must be positive integers\n\n${USAGE}\n`);
  process.exit(2);
}
const host = values.host!;
const dataRoot = resolve(values.data!);
const range = (base: number) => Array.from({ length: size }, (_, i) => base + i);
const cluster = new LocalCluster({
  size,
  host,
  httpPorts: range(httpBase),
  raftPorts: range(raftBase),
  dataRoot,
  extraArgs: positionals,
});

const say = (line: string) => process.stdout.write(`[cluster] ${line}\n`);
let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) {
    say('second signal: killing all nodes');
    await cluster.killAll();
    process.exit(130);
  }
  stopping = true;
  say('stopping all nodes (Ctrl-C again to kill them)');
  await cluster.stop();
  say('all nodes stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
// The nodes run in their own process groups, so a closed terminal must be passed on explicitly.
process.on('SIGHUP', () => void shutdown());

for (const n of cluster.nodes) {
  // A node that dies is reported, not restarted: the cluster keeps working without it, and the
  // user may have killed it on purpose to watch a failover.
  void (async () => {
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      if (stopping) return;
      if (n.lastExit) {
        say(
          `node ${n.spec.id} exited (code ${n.lastExit.code}, signal ${n.lastExit.signal}); see ${n.spec.logFile}`,
        );
        return;
      }
    }
  })();
}

say(`data in ${dataRoot}; node logs in ${dataRoot}/node<i>.log`);
try {
  const leader = await cluster.start(120_000, say);
  const leaderUrl = leader.leaderUrl ?? cluster.node(leader.id).url;
  const follower = cluster.nodes.find((n) => n.spec.id !== leader.id) ?? cluster.node(leader.id);
  say('ready. Try:');
  process.stdout.write(
    [
      '',
      `  curl -s -X POST ${leaderUrl}/shorten -H 'content-type: application/json' -d '{"url":"https://example.com/some/long/path"}'`,
      `  curl -si ${follower.url}/<code>            # any node redirects (302)`,
      `  curl -s ${follower.url}/cluster/status     # role, term, leader, commit/applied index, members`,
      `  curl -s -X POST ${follower.url}/shorten -d 'url=https://example.com'   # a follower answers 409 with leaderUrl`,
      '',
      `  nodes: ${cluster.nodes.map((n) => `${n.spec.id}=${n.url} (pid ${n.pid})`).join('  ')}`,
      `  kill -9 <pid> of the leader to watch a failover; Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
} catch (err) {
  say(`the cluster did not come up: ${(err as Error).message}`);
  await cluster.killAll();
  process.exit(1);
}
