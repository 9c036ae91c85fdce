// A client never crashes a node. Hundreds of odd requests, generated from a seed (printed, and
// settable with ODD_REQUESTS_SEED to replay one run), are sent as raw bytes to a real node process:
// unknown and malformed methods, broken framing, wrong lengths, odd encodings and media types,
// garbage bodies on every route, requests cut off or reset half-way, pipelined requests. Every
// answer must be well-formed HTTP, every error JSON ({ error, message }), none an unexpected 500,
// and afterwards the same process must still serve reads and writes.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../src/launcher/node-process.js';
import {
  freePorts,
  printLogTails,
  removeDir,
  shorten,
  startNodeIn,
  tempDataRoot,
  waitFor,
} from './helpers.js';
import { Prng } from '../raft/sim/prng.js';

const dataRoot = tempDataRoot('odd-requests');
const started: NodeProcess[] = [];
let node: NodeProcess;
let code: string;

beforeAll(async () => {
  const [httpPort, raftPort] = await freePorts(2);
  // With a cluster token, so that the fuzz cannot remove the node through a cluster endpoint.
  const extraArgs = ['--cluster-token', randomBytes(24).toString('hex')];
  node = startNodeIn(started, dataRoot, { id: 1, httpPort, raftPort, extraArgs });
  await waitFor(
    'node 1 to lead',
    async () => ((await node.status())?.role === 'leader' ? true : undefined),
    30_000,
  );
  const created = await shorten(node.url, 'https://example.com/odd-requests');
  expect(created.status).toBe(201);
  code = created.body.code as string;
}, 60_000);

afterAll(async () => {
  await Promise.all(started.map((n) => n.kill()));
  removeDir(dataRoot);
});

interface OddRequest {
  bytes: Buffer;
  /** How the client behaves: sends everything and half-closes, or resets after part of it. */
  mode: 'whole' | 'reset-midway';
  head: boolean;
}

function generator(seed: number, codeOf: () => string) {
  const prng = new Prng(seed);
  const rnd = () => prng.next();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const METHODS = ['GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'];
  const BAD_METHODS = ['BREW', 'G\u0001T', '', 'get', 'CONNECT', 'PRI'];
  const paths = () => [
    '/',
    '/shorten',
    `/${codeOf()}`,
    '/zzzzzzz',
    `/api/urls/${codeOf()}`,
    '/api/urls/%zz',
    '/%',
    '/%E0%A4%A',
    '/..%2f..%2fetc%2fpasswd',
    '/cluster/join',
    '/cluster/visits',
    '/cluster/status',
    '/cluster/members/1',
    '/cluster/members/99999999999999999999',
    '/cluster/members/-1',
    '/cluster/snapshot',
    '/metrics',
    '/healthz',
    '/readyz',
    '/openapi.json',
    `/${codeOf()}?consistency=linearizable`,
    `/${codeOf()}?consistency=%ff`,
    '/shorten?x=%',
    '*',
    `http://example.com/${codeOf()}`,
    `/${'a'.repeat(5_000)}`,
    '/\u00e9\u20ac',
    '/a b',
    '//',
  ];
  const jsonBodies = () => [
    '{"url":"https://example.com/odd"}',
    '{"url":1}',
    '{"url":null}',
    '{"url":"javascript:alert(1)"}',
    '{"url":"https://example.com/\\u0000"}',
    '{"url":"https://example.com/x","expiresAt":{}}',
    '{"url":"https://example.com/x","expiresAt":"2030-02-30"}',
    '{"url":"https://example.com/x","ttlSeconds":1e400}',
    '{"url":"https://example.com/x","alias":["a"]}',
    '{"url":"https://example.com/x","alias":"healthz"}',
    '{"__proto__":{"url":"https://example.com/p"}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '[]',
    '"just a string"',
    '1e999',
    `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
    '{"id":1e300,"httpUrl":"http://x","raftAddr":"x:1"}',
    '{"id":"1","httpUrl":{},"raftAddr":[]}',
    `{"origin":1,"session":1,"seq":1,"visits":[["${codeOf()}",0,20000,1]]}`,
    '{"origin":1,"session":1,"seq":1,"visits":[["x",null,null,null]]}',
    '{"a":',
    '\uFEFF{"url":"https://example.com/bom"}',
  ];
  const CONTENT_TYPES = [
    'application/json',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/x-www-form-urlencoded',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    '"; ;;=',
    'text/html',
  ];
  const noise = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  };

  return (): OddRequest => {
    const badMethod = rnd() < 0.08;
    const method = badMethod ? pick(BAD_METHODS) : pick(METHODS);
    const path = pick(paths());
    const headers: string[] = [];
    if (rnd() < 0.95) headers.push('Host: 127.0.0.1');
    let body: Buffer = Buffer.alloc(0);
    if (method !== 'GET' && method !== 'HEAD' ? rnd() < 0.85 : rnd() < 0.15) {
      const kind = rnd();
      body =
        kind < 0.6
          ? Buffer.from(pick(jsonBodies()))
          : kind < 0.8
            ? Buffer.from(pick(['url=https%3A%2F%2Fexample.com%2Fform', 'url=%zz&url=1', 'a=b&&=&']))
            : noise(Math.floor(rnd() * 300));
      if (rnd() < 0.9) headers.push(`Content-Type: ${pick(CONTENT_TYPES)}`);
    }
    const framing = rnd();
    let payload: Buffer = body;
    if (framing < 0.6) {
      headers.push(`Content-Length: ${body.length}`);
    } else if (framing < 0.7) {
      headers.push(
        `Content-Length: ${pick([body.length + 10, Math.max(0, body.length - 1), -1, 'abc', '1e3', ' 5'])}`,
      );
    } else if (framing < 0.8) {
      headers.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([
        Buffer.from(`${body.length.toString(16)}\r\n`),
        body,
        Buffer.from(rnd() < 0.8 ? '\r\n0\r\n\r\n' : '\r\nzz\r\n'),
      ]);
    } else if (framing < 0.85) {
      headers.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
    }
    const extras = [
      'Content-Encoding: gzip',
      'Content-Encoding: br, identity, x-unknown',
      'Accept: text/html',
      'Accept: */*;q=nan',
      'Origin: http://evil.example',
      'X-Consistency: linearizable',
      'X-Consistency: \u00ff',
      'Idempotency-Key: ',
      `Idempotency-Key: ${'k'.repeat(300)}`,
      'Authorization: Bearer',
      'X-Api-Key: x',
      'X-Cluster-Token: x',
      'Forwarded: for=1.2.3.4',
      'Expect: 100-continue',
      'Expect: the-unexpected',
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Range: bytes=0-1',
      'X-Bad: a\u0001b',
      'Bad Header: x',
      `X-Long: ${'v'.repeat(20_000)}`,
    ];
    for (let i = 0; i < 3; i++) if (rnd() < 0.25) headers.push(pick(extras));
    headers.push(pick(['Connection: close', 'Connection: keep-alive', 'Connection: close']));
    const head = Buffer.from(
      `${method} ${path} ${pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x'])}\r\n${headers.join('\r\n')}\r\n\r\n`,
      'latin1',
    );
    let bytes = Buffer.concat([head, payload]);
    // Sometimes a second request after the first on the same connection (pipelining).
    if (rnd() < 0.1)
      bytes = Buffer.concat([bytes, Buffer.from(`GET /${codeOf()} HTTP/1.1\r\nHost: x\r\n\r\n`)]);
    return { bytes, mode: rnd() < 0.1 ? 'reset-midway' : 'whole', head: method === 'HEAD' };
  };
}

interface Answer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** The HTTP/1.1 answers in `raw`, in order, as far as they can be framed (Content-Length). */
function parseAnswers(raw: Buffer, firstIsHead: boolean): Answer[] {
  const answers: Answer[] = [];
  let offset = 0;
  while (offset < raw.length) {
    const end = raw.indexOf('\r\n\r\n', offset);
    if (end < 0)
      throw new Error(
        `an incomplete answer head: ${JSON.stringify(raw.subarray(offset).toString('latin1'))}`,
      );
    const lines = raw.subarray(offset, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]!);
    if (!m) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0])}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const status = Number(m[1]);
    offset = end + 4;
    if (status === 100) continue;
    let body = '';
    // An answer to HEAD has no body, unless the request was refused before its method was known
    // (then the JSON error follows, and the connection closes after it).
    const rest = raw.subarray(offset);
    const headWithoutBody =
      answers.length === 0 &&
      firstIsHead &&
      (rest.length === 0 || rest.subarray(0, 7).toString() === 'HTTP/1.');
    if (!headWithoutBody && status !== 204 && status !== 304) {
      const length = headers.get('content-length');
      if (length === undefined || headers.has('transfer-encoding')) {
        // Not framed by length (chunked, or until the close): the rest belongs to this answer.
        body = rest.toString('utf8');
        offset = raw.length;
      } else {
        body = raw.subarray(offset, offset + Number(length)).toString('utf8');
        offset += Number(length);
      }
    }
    answers.push({ status, headers, body });
  }
  return answers;
}

/** Sends one odd request and returns everything the node wrote until it closed the connection. */
async function exchange(port: number, request: OddRequest, timeoutMs: number): Promise<Buffer> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {}); // resets are part of the game
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  // Not events.once: it rejects on 'error', and a node may reset a connection it has answered.
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  if (request.mode === 'reset-midway') {
    socket.write(request.bytes.subarray(0, Math.max(1, request.bytes.length >> 1)));
    socket.resetAndDestroy();
  } else {
    // Half-close after the request: a node waiting for more body gets EOF instead of a stall.
    socket.end(request.bytes);
  }
  const timer = setTimeout(() => socket.destroy(new Error('no close within the deadline')), timeoutMs);
  await closed;
  clearTimeout(timer);
  return Buffer.concat(chunks);
}

describe('odd requests against a real node', () => {
  it('never crash it: well-formed answers, JSON errors, no 500, and the node serves on', async () => {
    const seed = Number(process.env.ODD_REQUESTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`odd requests: seed ${seed} (replay with ODD_REQUESTS_SEED=${seed})`);
    const next = generator(seed, () => code);
    const port = Number(new URL(node.url).port);
    const problems: string[] = [];
    const COUNT = 400;
    const CONCURRENCY = 4;
    let sent = 0;
    const worker = async () => {
      while (sent < COUNT) {
        sent++;
        const request = next();
        // Generous: the bound is the point (a stalled answer is a finding), not speed.
        const raw = await exchange(port, request, 30_000);
        const shown = JSON.stringify(request.bytes.subarray(0, 300).toString('latin1'));
        if (request.mode === 'reset-midway') continue;
        let answers: Answer[];
        try {
          answers = parseAnswers(raw, request.head);
        } catch (err) {
          problems.push(`${(err as Error).message} for ${shown}`);
          continue;
        }
        for (const [i, a] of answers.entries()) {
          if (a.status === 500) problems.push(`500 ${a.body} for ${shown}`);
          const isHead = i === 0 && request.head;
          // A browser's form post (Accept: text/html) is answered with a page, errors included.
          const page =
            a.headers.get('content-type')?.startsWith('text/html') === true &&
            request.bytes.includes('Accept: text/html');
          if (a.status >= 400 && !isHead && !page) {
            let body: unknown;
            try {
              body = JSON.parse(a.body);
            } catch {
              problems.push(
                `${a.status} with a body that is not JSON (${JSON.stringify(a.body.slice(0, 100))}) for ${shown}`,
              );
              continue;
            }
            const { error, message } = body as { error?: unknown; message?: unknown };
            if (typeof error !== 'string' || typeof message !== 'string') {
              problems.push(`${a.status} without { error, message }: ${a.body.slice(0, 200)} for ${shown}`);
            }
          }
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      expect(problems).toEqual([]);
      expect(node.running).toBe(true);
      // The same process still writes and reads (the fuzz may have deleted the first code).
      const after = await shorten(node.url, 'https://example.com/odd-requests/after');
      expect(after.status).toBe(201);
      const res = await fetch(`${node.url}/${after.body.code as string}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(readFileSync(join(dataRoot, 'node1.log'), 'utf8')).not.toMatch(/uncaught|unhandled/i);
    } catch (err) {
      printLogTails(dataRoot, 'odd requests');
      throw err;
    }
  }, 240_000);
});
