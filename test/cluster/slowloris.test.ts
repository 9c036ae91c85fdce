// A slowloris flood on loopback against a real node with a low open-file limit: many connections
// that never finish their request headers. The node must keep file descriptors for its WAL (a node
// that cannot open its next segment has to exit) and keep serving other clients meanwhile.
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { NodeProcess, waitFor } from '../../src/launcher/node-process.js';
import { freePorts, HOST, mapLimit, printLogTails, removeDir, tempDataRoot } from './helpers.js';

const FD_LIMIT = 1024;
/** Twice the limit: without a cap, the node could not even hold them all. */
const FLOOD = 2 * FD_LIMIT;
/** The flood comes from another loopback address than the clients it must not lock out. */
const FLOOD_FROM = '127.0.0.2';

let node: NodeProcess | undefined;
let dataRoot: string | undefined;
const flood: Socket[] = [];
afterEach(async (ctx) => {
  for (const s of flood.splice(0)) s.destroy();
  if (ctx.task.result?.state === 'fail' && dataRoot) printLogTails(dataRoot, ctx.task.name);
  await node?.kill();
  if (dataRoot) removeDir(dataRoot);
});

/** Opens a connection that sends the start of a request and then nothing. */
function slowConnection(port: number, onClosed: () => void): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port, localAddress: FLOOD_FROM });
    socket.on('error', () => {});
    socket.once('close', onClosed);
    socket.once('connect', () => {
      socket.write('GET /cluster/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      resolve(socket);
    });
    socket.once('close', () => resolve(socket));
  });
}

/**
 * One request, on a connection of its own (a client arriving during the flood) or on `agent`'s
 * kept-alive one (a client that was connected before it).
 */
function send(
  url: string,
  method: string,
  body?: string,
  agent: Agent | false = false,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent,
        headers: body ? { 'content-type': 'application/json' } : {},
        signal: AbortSignal.timeout(10_000),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const lastSegment = (walDir: string) => readdirSync(walDir).sort().at(-1);

it('a slowloris flood neither exhausts file descriptors nor locks out clients; WAL rotation goes on', async () => {
  dataRoot = tempDataRoot('slowloris');
  const [httpPort, raftPort] = await freePorts(2);
  const dataDir = join(dataRoot, 'node1');
  node = new NodeProcess({
    id: 1,
    bootstrap: true,
    host: HOST,
    httpPort,
    raftPort,
    dataDir,
    logFile: join(dataRoot, 'node1.log'),
    // Small WAL segments: the writes below make the node open new segment files during the flood.
    extraArgs: ['--wal-segment-bytes', '4096', '--no-request-log'],
    wrapper: ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--'],
  });
  node.start();
  await waitFor(
    'node 1 to lead',
    async () => ((await node!.status())?.role === 'leader' ? true : undefined),
    20_000,
  );
  const pid = node.pid!;
  const serving = readFileSync(join(dataRoot, 'node1.log'), 'utf8')
    .split('\n')
    .find((l) => l.includes('"node is serving"'));
  const maxConnections = (JSON.parse(serving!) as { maxConnections: number }).maxConnections;
  expect(maxConnections).toBe(FD_LIMIT / 2);
  const fdsBefore = openFds(pid);
  const segmentBefore = lastSegment(join(dataDir, 'wal'));

  // A client connected before the flood keeps its connection.
  const connectedBefore = new Agent({ keepAlive: true, maxSockets: 1 });
  const write = (i: number, agent: Agent | false) =>
    send(
      `http://${HOST}:${httpPort}/shorten`,
      'POST',
      JSON.stringify({ url: `https://example.com/during-the-flood/${i}/${'x'.repeat(100)}` }),
      agent,
    );
  expect((await write(0, connectedBefore)).status).toBe(201);

  let closedByNode = 0;
  const sockets = await mapLimit(
    Array.from({ length: FLOOD }, (_, i) => i),
    64,
    () => slowConnection(httpPort, () => closedByNode++),
  );
  flood.push(...sockets);

  // Writes that make the WAL open new segments, from the client connected before the flood and
  // from clients arriving during it; reads too.
  const codes: string[] = [];
  for (let i = 1; i <= 40; i++) {
    const res = await write(i, i <= 20 ? connectedBefore : false);
    expect(res.status, res.body).toBe(201);
    codes.push((JSON.parse(res.body) as { code: string }).code);
  }
  connectedBefore.destroy();
  for (const code of codes.slice(0, 5)) {
    expect((await send(`http://${HOST}:${httpPort}/${code}`, 'GET')).status).toBe(302);
  }
  expect(lastSegment(join(dataDir, 'wal'))! > segmentBefore!).toBe(true);
  expect(node.running).toBe(true);

  // The cap holds: beyond it, flood connections were closed, oldest first.
  await waitFor(
    'the node to close the connections beyond its cap',
    () => (closedByNode >= FLOOD - maxConnections ? true : undefined),
    30_000,
  );
  expect(openFds(pid)).toBeLessThanOrEqual(fdsBefore + maxConnections + 16);

  const metrics = await send(`http://${HOST}:${httpPort}/metrics`, 'GET');
  const shed = /^http_connections_shed_total (\d+)/m.exec(metrics.body)?.[1];
  expect(Number(shed)).toBeGreaterThanOrEqual(FLOOD - maxConnections);
}, 120_000);
