// Tiny HTTP servers for the load-tool tests, on port 0 on loopback, each recording what it received.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  body: string;
}

export interface Stub {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export async function startStub(handler: Handler): Promise<Stub> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', path: req.url ?? '', body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A /cluster/status body for a stub node. */
export function status(id: number, role: 'leader' | 'follower', leaderId: number, leaderUrl: string | null) {
  return { id, role, term: 1, leaderId, leaderUrl, commitIndex: 10, appliedIndex: 10, members: [] };
}

/** Closes everything registered, for afterEach. */
export class Cleanup {
  private readonly items: Array<() => Promise<void>> = [];
  add<T extends { close(): Promise<void> }>(item: T): T {
    this.items.push(() => item.close());
    return item;
  }
  async run(): Promise<void> {
    await Promise.all(this.items.splice(0).map((f) => f()));
  }
}
