// Requests Node's HTTP parser refuses never reach the app; they still get the API's JSON error (and
// the connection closes). The access log tells a request the server ended (408 after a stalled
// body) and one the client abandoned (no status was sent) from a success.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/app.js';
import { answerClientErrors } from '../../src/http/client-error.js';
import { FakeNode } from './fake-node.js';
import { startApp, type Harness } from './harness.js';

let h: Harness | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
});

/** Sends raw bytes and resolves with everything the server wrote until it closed the connection. */
async function rawExchange(port: number, bytes: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return readUntilClosed(socket, bytes);
}

function readUntilClosed(socket: Socket, bytes?: string): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<string>((resolve) => {
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
  // A reset after the answer (the server closes with unread bytes) is not the test's concern.
  socket.on('error', () => {});
  if (bytes !== undefined) socket.write(bytes);
  return closed;
}

function parseAnswer(raw: string): { status: number; headers: string; body: Record<string, unknown> } {
  const split = raw.indexOf('\r\n\r\n');
  expect(split, `an HTTP answer, got ${JSON.stringify(raw)}`).toBeGreaterThan(0);
  const head = raw.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  return {
    status,
    headers: head.toLowerCase(),
    body: JSON.parse(raw.slice(split + 4)) as Record<string, unknown>,
  };
}

function portOf(baseUrl: string): number {
  return Number(new URL(baseUrl).port);
}

describe("errors of Node's HTTP parser", () => {
  it.each([
    ['a bad Content-Length', 'POST /shorten HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
    [
      'two different Content-Lengths',
      'POST /shorten HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    ],
    ['a control character in a header', 'GET /abc HTTP/1.1\r\nHost: x\r\nX-Test: a\x01b\r\n\r\n'],
    ['an unknown method', 'BREW /abc HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a request line that is not HTTP', 'hello there\r\n\r\n'],
    [
      'a bad chunk size',
      'POST /shorten HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ],
  ])('%s → 400 with the JSON error body, connection closed', async (_name, request) => {
    h = await startApp();
    const answer = parseAnswer(await rawExchange(portOf(h.baseUrl), request));
    expect(answer.status).toBe(400);
    expect(answer.headers).toContain('content-type: application/json');
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toEqual({ error: 'bad_request', message: expect.stringMatching(/not valid HTTP/) });
  });

  it.each([
    ['an HTTP/1.1 request without Host', 'GET /abc HTTP/1.1\r\n\r\n', 400, 'bad_request'],
    [
      'an Expect other than 100-continue',
      'GET /abc HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n',
      417,
      'expectation_failed',
    ],
    [
      'CONNECT',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      405,
      'method_not_allowed',
    ],
  ])('%s → %d JSON, connection closed', async (_name, request, status, error) => {
    h = await startApp();
    const answer = parseAnswer(await rawExchange(portOf(h.baseUrl), request));
    expect(answer.status).toBe(status);
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toEqual({ error, message: expect.any(String) });
  });

  it('headers larger than the limit → 431 JSON', async () => {
    h = await startApp();
    const request = `GET /abc HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    const answer = parseAnswer(await rawExchange(portOf(h.baseUrl), request));
    expect(answer.status).toBe(431);
    expect(answer.body).toEqual({ error: 'headers_too_large', message: expect.any(String) });
  });
});

describe('access log of requests that did not complete', () => {
  function lineOf(logs: Array<Record<string, unknown>>, url: string): Record<string, unknown> | undefined {
    return logs.find((l) => (l.req as { url?: string } | undefined)?.url === url);
  }

  async function until<T>(read: () => T | undefined): Promise<T> {
    // Polls the in-memory log; the test's own timeout is the deadline.
    for (;;) {
      const value = read();
      if (value !== undefined) return value;
      await new Promise((r) => setImmediate(r));
    }
  }

  async function startServer(options: { requestTimeout?: number; connectionsCheckingInterval?: number }) {
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const node = new FakeNode();
    const app = createHttpApp({ node, visits: node, logger, publicUrl: 'http://short.example' });
    const server = createServer(options, app);
    answerClientErrors(server, logger);
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, node, logs, port: (server.address() as AddressInfo).port };
  }

  const HALF_A_BODY =
    'POST /shorten HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"url":';

  it('a body that stalls until the request timeout: a JSON 408, logged as 408, not 200', async () => {
    // Node checks request deadlines on an interval: a short one, so the test does not wait 30 s.
    const { node, logs, port } = await startServer({ requestTimeout: 300, connectionsCheckingInterval: 50 });
    const answer = parseAnswer(await rawExchange(port, HALF_A_BODY));
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({ error: 'request_timeout', message: expect.any(String) });
    const line = await until(() => lineOf(logs, '/shorten'));
    expect(line.res).toEqual({ statusCode: 408 });
    expect(line.msg).toBe('request completed');
    expect(node.createCalls).toHaveLength(0);
  });

  it('a client that leaves mid-body: "request aborted" without a status it was never sent', async () => {
    const { server, logs, port } = await startServer({});
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    const reached = once(server, 'request');
    socket.write(HALF_A_BODY);
    await reached;
    socket.destroy();
    const line = await until(() => lineOf(logs, '/shorten'));
    expect(line.msg).toBe('request aborted');
    expect(line.level).toBe(40);
    expect(line.res).toEqual({ statusCode: null });
  });
});
