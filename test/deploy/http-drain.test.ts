// Graceful stop: requests in flight finish, new connections are refused, and a request that
// never finishes is cut at the bound.
import { once } from 'node:events';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { trackRequests } from '../../src/common/http-drain.js';

async function serverWith(onRequest: (res: ServerResponse) => void) {
  const server = createServer((_req, res) => onRequest(res));
  const drainable = trackRequests(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, drainable, port: (server.address() as AddressInfo).port };
}

function get(port: number): Promise<{ status: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('trackRequests().drain', () => {
  it('lets a request in flight finish, then closes; new connections are refused meanwhile', async () => {
    const pending: ServerResponse[] = [];
    const { drainable, port } = await serverWith((res) => pending.push(res));
    const inFlight = get(port);
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    expect(drainable.inFlight).toBe(1);
    let drained = false;
    const draining = drainable.drain(30_000).then(() => (drained = true));
    await expect(get(port)).rejects.toThrow(/ECONNREFUSED/);
    expect(drained).toBe(false);
    pending[0]!.end('done');
    // Its keep-alive connection is not kept: the client's next request goes elsewhere.
    expect(await inFlight).toEqual({ status: 200, connection: 'close' });
    await draining;
    expect(drainable.inFlight).toBe(0);
  });

  it('cuts a request that outlives the bound', async () => {
    const { drainable, port } = await serverWith(() => {});
    const stuck = get(port);
    while (drainable.inFlight === 0) await new Promise((r) => setImmediate(r));
    const started = performance.now();
    await drainable.drain(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    await expect(stuck).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('with nothing in flight it closes at once', async () => {
    const { drainable, server } = await serverWith((res) => res.end());
    await drainable.drain(60_000);
    expect(server.listening).toBe(false);
  });
});
