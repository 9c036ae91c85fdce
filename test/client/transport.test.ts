// The default transport's connection cap: without one, each request in flight to a node gets its
// own connection; with `connections`, requests beyond the cap wait for one (and share it).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UndiciTransport } from '../../src/client/index.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

/** A node that answers every request after 100 ms, noting the client port it came from. */
async function slowNode(): Promise<{ url: string; ports: number[] }> {
  const ports: number[] = [];
  const server: Server = createServer((req, res) => {
    ports.push(req.socket.remotePort ?? 0);
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), 100);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ports };
}

async function threeAtOnce(t: UndiciTransport, url: string): Promise<number[]> {
  const answers = await Promise.all(
    [0, 1, 2].map(() => t.request({ method: 'GET', url: `${url}/x`, headers: {}, timeoutMs: 5_000 })),
  );
  return answers.map((a) => a.status);
}

describe('UndiciTransport', () => {
  it('opens a connection per request in flight by default', async () => {
    const node = await slowNode();
    const t = new UndiciTransport();
    open.push(t);
    expect(await threeAtOnce(t, node.url)).toEqual([200, 200, 200]);
    expect(new Set(node.ports).size).toBe(3);
  });

  it('keeps to `connections` per node: the other requests wait for one', async () => {
    const node = await slowNode();
    const t = new UndiciTransport({ connections: 1 });
    open.push(t);
    const t0 = Date.now();
    expect(await threeAtOnce(t, node.url)).toEqual([200, 200, 200]);
    expect(new Set(node.ports).size).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250); // one after the other
  });

  it('rejects a cap that is not a whole number >= 1', () => {
    expect(() => new UndiciTransport({ connections: 0 })).toThrow(TypeError);
    expect(() => new UndiciTransport({ connections: 1.5 })).toThrow(TypeError);
  });
});
