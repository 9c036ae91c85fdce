// Starts the app on a real port (0) with a FakeNode and a logger whose lines the test can read.
import { once } from 'node:events';
import { afterEach, expect } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createHttpApp, type HttpAppOptions } from '../../src/http/app.js';
import { answerClientErrors } from '../../src/http/client-error.js';
import { FakeNode } from './fake-node.js';

export const PUBLIC_URL = 'http://short.example:8081';

export interface Harness {
  baseUrl: string;
  node: FakeNode;
  /** Parsed pino lines, in order. */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startApp(
  options: Partial<Omit<HttpAppOptions, 'node' | 'logger'>> = {},
): Promise<Harness> {
  const node = new FakeNode();
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const app = createHttpApp({ node, visits: node, logger, publicUrl: PUBLIC_URL + '/', ...options });
  const server: Server = createServer(app);
  answerClientErrors(server, logger);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    node,
    logs,
    async close() {
      // fetch keeps connections alive; close them or server.close() waits for their idle timeout.
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export async function json(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Record<string, unknown>;
}

/** A startApp for tests that start several apps: each is closed after its test. */
export function appsClosedAfterEach(): (options?: Parameters<typeof startApp>[0]) => Promise<Harness> {
  const started: Harness[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((h) => h.close()));
  });
  return async (options = {}) => {
    const h = await startApp(options);
    started.push(h);
    return h;
  };
}

/** The node's status says it follows `leaderId` from now on (its other calls are unchanged). */
export function becomeFollower(node: FakeNode, leaderId: number, leaderUrl: string): void {
  const leaderView = node.status();
  node.status = () => ({ ...leaderView, role: 'follower', leaderId, leaderUrl });
}
