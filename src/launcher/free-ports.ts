// Free loopback ports, found by listening on them: tests and benchmarks never use fixed ports.
import { createServer, type Server } from 'node:net';

const HOST = '127.0.0.1';

function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: HOST, exclusive: true }, () => resolve(server));
  });
}

function closeAll(servers: Server[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
}

/** `count` distinct free loopback ports: all are held open together, then released. */
export async function freePorts(count: number): Promise<number[]> {
  const held: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = await listenOn(0);
      if (!s) throw new Error('cannot listen on an ephemeral port');
      held.push(s);
    }
    return held.map((s) => (s.address() as { port: number }).port);
  } finally {
    await closeAll(held);
  }
}

/**
 * `ranges` runs of `length` consecutive free ports each (e.g. the join script's P..P+2 and
 * Q..Q+2), all distinct, all probed while held open together.
 */
export async function freePortRanges(ranges: number, length: number): Promise<number[][]> {
  const held: Server[] = [];
  const result: number[][] = [];
  try {
    for (let attempt = 0; result.length < ranges; attempt++) {
      if (attempt > 200) throw new Error(`no run of ${length} consecutive free ports found`);
      const first = await listenOn(0);
      if (!first) continue;
      const base = (first.address() as { port: number }).port;
      const run = [first];
      for (let p = base + 1; p < base + length && p <= 65535; p++) {
        const s = await listenOn(p);
        if (!s) break;
        run.push(s);
      }
      if (run.length === length) {
        held.push(...run);
        result.push(run.map((s) => (s.address() as { port: number }).port));
      } else {
        await closeAll(run);
      }
    }
    return result;
  } finally {
    await closeAll(held);
  }
}
