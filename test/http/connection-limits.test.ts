// The HTTP server's connection limits: slow headers, stalled downloads, and the connection cap.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/app.js';
import {
  connectionServerOptions,
  defaultMaxConnections,
  limitConnections,
  type ConnectionLimits,
} from '../../src/http/connection-limits.js';
import { FakeNode } from './fake-node.js';

let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (server) {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
    server = undefined;
  }
});

async function start(
  limits: ConnectionLimits,
  node = new FakeNode(),
): Promise<{ port: number; registry: Registry }> {
  const registry = new Registry();
  const app = createHttpApp({ node, logger: pino({ level: 'silent' }), publicUrl: 'http://127.0.0.1' });
  server = createServer(connectionServerOptions(limits), app);
  limitConnections(server, limits, { registry });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, registry };
}

/** A raw connection that has sent `text`; `closed` resolves when the server closes it. */
async function rawConnection(
  port: number,
  text: string,
): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  socket.on('error', () => {});
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  await once(socket, 'connect');
  socket.write(text);
  return { socket, closed };
}

const LONG = {
  maxConnections: 100,
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
};

describe('connection limits', () => {
  it('closes a connection that does not finish its headers within headersTimeoutMs (slowloris)', async () => {
    const { port } = await start({ ...LONG, headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const started = performance.now();
    const { closed } = await rawConnection(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const answer = await closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts a backup download whose client stopped reading, and releases the snapshot', async () => {
    const node = new FakeNode();
    // Far more than socket buffers hold: the server must wait for the client to read.
    const chunk = Buffer.alloc(1024 * 1024, 7);
    node.backupBytes = (function* () {
      for (let i = 0; i < 256; i++) yield chunk;
    })();
    const { port } = await start({ ...LONG, idleTimeoutMs: 500 }, node);
    const { socket, closed } = await rawConnection(
      port,
      'GET /cluster/snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    );
    await once(socket, 'data');
    socket.pause();
    // The server gives up on the stalled response and releases the snapshot it was reading...
    await expectEventually(() => node.backupsClosed === 1);
    // ... and the client, reading again, finds the download cut short.
    socket.resume();
    const answer = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer.length).toBeLessThan(256 * chunk.length);
  });

  it('at the cap, closes the oldest connection without a request in progress, not the newcomer', async () => {
    const { port, registry } = await start({ ...LONG, maxConnections: 3 });
    const slow = [];
    for (let i = 0; i < 3; i++) slow.push(await rawConnection(port, 'GET / HTTP/1.1\r\nX-Slow: '));
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    await slow[0].closed;
    // The others were younger: still open.
    expect(slow.slice(1).map((s) => s.socket.destroyed)).toEqual([false, false]);
    const shed = (await registry.getSingleMetric('http_connections_shed_total')!.get()).values[0].value;
    expect(shed).toBeGreaterThanOrEqual(1);
  });
});

describe('defaultMaxConnections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limits-'));
  it('is half the soft open-file limit, bounded', () => {
    const file = (soft: string) => {
      const path = join(dir, `limits-${soft}`);
      writeFileSync(
        path,
        `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                1048576              files\n`,
      );
      return path;
    };
    expect(defaultMaxConnections(file('1024'))).toBe(512);
    expect(defaultMaxConnections(file('1048576'))).toBe(16_384);
    expect(defaultMaxConnections(file('unlimited'))).toBe(16_384);
    expect(defaultMaxConnections(join(dir, 'missing'))).toBe(4_096);
    rmSync(dir, { recursive: true, force: true });
  });
});

async function expectEventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
