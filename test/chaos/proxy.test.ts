// The link proxy on its own: forwards, identifies the connecting process by PID, stalls, resets and
// delays per directed link. This test process plays "node 2" connecting to proxy 1.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkProxies } from '../../loadtest/chaos/proxy.js';
import { freePorts, waitFor } from '../cluster/helpers.js';

let proxies: LinkProxies | undefined;
let echo: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proxies?.close();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  proxies = undefined;
  echo = undefined;
});

async function setup(): Promise<{ port: number }> {
  const [echoPort, proxyPort] = await freePorts(2);
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo!.listen(echoPort, '127.0.0.1', () => r()));
  proxies = new LinkProxies();
  await proxies.add(1, proxyPort, echoPort);
  proxies.registerPid(2, process.pid);
  return { port: proxyPort };
}

function client(port: number): { socket: Socket; received: () => string } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  let got = '';
  socket.on('data', (b: Buffer) => (got += b.toString()));
  return { socket, received: () => got };
}

describe('link proxies', () => {
  it('forwards, and identifies the sender by its PID', async () => {
    const { port } = await setup();
    const c = client(port);
    c.socket.write('hello');
    await waitFor('the echo', () => (c.received() === 'hello' ? true : undefined), 5_000, 10);
    expect(proxies!.stats.unidentified).toBe(0);
  });

  it('stalls a blocked link and lets the held data through on heal', async () => {
    const { port } = await setup();
    const c = client(port);
    c.socket.write('a');
    await waitFor('the echo', () => (c.received() === 'a' ? true : undefined), 5_000, 10);
    proxies!.setRule(2, 1, { block: 'stall' });
    c.socket.write('b');
    // Nothing comes back while stalled (bounded look: 200 ms of polling).
    await expect(waitFor('b', () => (c.received() === 'ab' ? true : undefined), 200, 10)).rejects.toThrow();
    // A rule on another link changes nothing for this one.
    proxies!.healAll();
    await waitFor('b after heal', () => (c.received() === 'ab' ? true : undefined), 5_000, 10);
  });

  it('resets connections on a reset rule, and refuses new ones until healed', async () => {
    const { port } = await setup();
    const c = client(port);
    c.socket.write('a');
    await waitFor('the echo', () => (c.received() === 'a' ? true : undefined), 5_000, 10);
    proxies!.setRule(2, 1, { block: 'reset' });
    await waitFor(
      'the reset',
      () => (c.socket.destroyed || c.socket.readableEnded ? true : undefined),
      5_000,
      10,
    );
    const d = client(port);
    await waitFor(
      'a refused connection',
      () => (d.socket.destroyed || d.socket.readableEnded ? true : undefined),
      5_000,
      10,
    );
    // Both closings were the rule's doing (the open connection and the new one), not an unknown sender.
    expect(proxies!.stats).toMatchObject({ resets: 2, unidentified: 0 });
    expect(c.received()).toBe('a');
    expect(d.received()).toBe('');
    proxies!.healAll();
    const e = client(port);
    e.socket.write('x');
    await waitFor('the echo after heal', () => (e.received() === 'x' ? true : undefined), 5_000, 10);
    expect(proxies!.stats.resets).toBe(2);
  });

  it('delays a link, in order', async () => {
    const { port } = await setup();
    proxies!.setRule(2, 1, { delayMs: 150, jitterMs: 50 });
    const c = client(port);
    const t = Date.now();
    for (const ch of 'abcdef') c.socket.write(ch);
    await waitFor('the echo', () => (c.received().length === 6 ? true : undefined), 5_000, 5);
    expect(c.received()).toBe('abcdef');
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
  });
});
