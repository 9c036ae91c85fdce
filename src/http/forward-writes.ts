// --forward-writes: a follower passes a write (POST /shorten, / or /api/urls/bulk, PATCH and DELETE
// /api/urls/:code) to the leader
// over HTTP and returns the leader's answer as it is — status, headers, body — so idempotency keys,
// 201/200, 409 alias_taken, 422, 429 and the rest mean exactly what they mean on the leader, who
// decides everything. Behind a load balancer that spreads writes over all nodes, this is what
// turns "two writes in three get a 409" into one answer per write.
//
// Without the flag a follower answers 409 not_leader with leaderId and leaderUrl (the default
// contract). A write is also answered here, never forwarded, when this node leads or knows no
// leader (503 no_leader), or when it arrives forwarded already (so two nodes that each believe the
// other leads cannot pass a write back and forth: the second one answers its own 409).
//
// Failures that are the hop's, not the leader's:
// - the leader could not be connected to: nothing was sent, 503 leader_unreachable + Retry-After;
// - the connection broke or timed out after the request went out: the write may have been applied,
//   504 leader_timeout (retry with the same Idempotency-Key to be sure of one result).
// A 409 not_leader from the target (leadership moved meanwhile) is followed once more to the
// leader it names; the body is buffered (at most maxBodyBytes) so it can be sent again.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Agent } from 'undici';
import { errorCodeOf } from '../client/transport.js';
import type { HotRoute } from './hot-routes.js';
import { HttpError, toErrorResponse } from './errors.js';
import { NOT_LEADER } from '../domain/errors.js';
import { RETRY_SOON } from './error-table.js';
import { writeJson } from './json-response.js';
import { BULK_MAX_BODY_BYTES } from './routes/bulk.js';

const BULK_PATH = '/api/urls/bulk';

/** Where this node's writes go: the leader's id and URL when another node leads, else undefined. */
export type LeaderOfWrites = () => { id: number; url: string } | undefined;

export interface WriteForwarding {
  leader: LeaderOfWrites;
  /** Sent along, so the leader accepts this node as a proxy for the client's address. */
  clusterToken?: string;
  /** The cluster CA, when the API is HTTPS. */
  ca?: Buffer;
  /** How long the leader may take to answer (it waits for the commit). */
  timeoutMs: number;
  maxBodyBytes: number;
  /** This node's id, in the marker header that stops a second forward. */
  nodeId: number;
}

/** Marks a forwarded write; its value is the forwarding node's id. */
export const FORWARDED_HEADER = 'x-forwarded-write';

/** Hops at most: the leader asked first, then the one a 409 not_leader names. */
const MAX_HOPS = 2;

/** Request headers that belong to one connection, or that undici sets itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  FORWARDED_HEADER,
  'x-cluster-token',
]);

/** Answer headers not to copy: per connection, or recomputed for the body as written here. */
const ANSWER_SKIP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const WRITE_PATH = /^\/api\/urls\/[^/?]+$/;

/** Whether a request is one of the writes a follower forwards. */
export function isForwardableWrite(method: string | undefined, url: string | undefined): boolean {
  if (url === undefined) return false;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (method === 'POST') return path === '/shorten' || path === '/' || path === BULK_PATH;
  if (method === 'DELETE' || method === 'PATCH') return WRITE_PATH.test(path);
  return false;
}

/** Returns the route that forwards this request, or undefined to answer it here. */
export function writeForwarder(options: WriteForwarding): (req: IncomingMessage) => HotRoute | undefined {
  const agent = new Agent({ keepAliveTimeout: 4_000, ...(options.ca && { connect: { ca: options.ca } }) });
  const serve = (
    path: '/shorten' | '/' | typeof BULK_PATH | '/api/urls/:code',
    maxBodyBytes = options.maxBodyBytes,
  ): HotRoute => ({
    path,
    serve(req, res) {
      void forward(req, res, { ...options, maxBodyBytes }, agent);
    },
  });
  const shorten = serve('/shorten');
  const seedCreate = serve('/');
  const bulk = serve(BULK_PATH, BULK_MAX_BODY_BYTES);
  const remove = serve('/api/urls/:code');
  return (req) => {
    // GETs are nearly all requests: one comparison and out.
    if (req.method === 'GET' || req.method === 'HEAD') return undefined;
    if (!isForwardableWrite(req.method, req.url)) return undefined;
    if (req.headers[FORWARDED_HEADER] !== undefined) return undefined;
    if (options.leader() === undefined) return undefined;
    if (req.method !== 'POST') return remove;
    const url = req.url!;
    if (url === '/' || url.startsWith('/?')) return seedCreate;
    return url.startsWith(BULK_PATH) ? bulk : shorten;
  };
}

async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  options: WriteForwarding,
  agent: Agent,
): Promise<void> {
  let body: Buffer | undefined;
  try {
    body = await readBody(req, options.maxBodyBytes);
  } catch (err) {
    return fail(res, err);
  }
  const headers = forwardedHeaders(req, options);
  let target = options.leader();
  for (let hop = 1; target !== undefined; hop++) {
    let answer;
    try {
      answer = await send(agent, target.url, req, headers, body, options.timeoutMs);
    } catch (err) {
      return fail(res, hopFailure(err, target.id));
    }
    const next = hop < MAX_HOPS ? redirectedLeader(answer, target.url) : undefined;
    if (next === undefined) return relay(res, answer);
    target = next;
  }
}

interface LeaderAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function send(
  agent: Agent,
  leaderUrl: string,
  req: IncomingMessage,
  headers: Record<string, string>,
  body: Buffer | undefined,
  timeoutMs: number,
): Promise<LeaderAnswer> {
  const origin = new URL(leaderUrl);
  const res = await agent.request({
    origin: origin.origin,
    path: req.url!,
    method: req.method as 'POST' | 'PATCH' | 'DELETE',
    headers,
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body: bytes };
}

/** The next leader to try when the target answered 409 not_leader naming another node. */
function redirectedLeader(answer: LeaderAnswer, tried: string): { id: number; url: string } | undefined {
  if (answer.status !== 409) return undefined;
  let parsed: { error?: unknown; leaderId?: unknown; leaderUrl?: unknown };
  try {
    parsed = JSON.parse(answer.body.toString('utf8')) as typeof parsed;
  } catch {
    return undefined;
  }
  if (parsed.error !== NOT_LEADER || typeof parsed.leaderUrl !== 'string') return undefined;
  if (typeof parsed.leaderId !== 'number' || parsed.leaderUrl === tried) return undefined;
  return { id: parsed.leaderId, url: parsed.leaderUrl };
}

function relay(res: ServerResponse, answer: LeaderAnswer): void {
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined && !ANSWER_SKIP.has(name)) res.setHeader(name, value);
  }
  res.setHeader('Content-Length', answer.body.length);
  res.end(answer.body);
}

function forwardedHeaders(req: IncomingMessage, options: WriteForwarding): Record<string, string> {
  const out: Record<string, string> = {};
  const given: IncomingHttpHeaders = req.headers;
  for (const name in given) {
    const value = given[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // The leader sees this node as the peer: the client's address travels as a proxy's would.
  const peer = req.socket.remoteAddress ?? 'unknown';
  out['x-forwarded-for'] = out['x-forwarded-for'] ? `${out['x-forwarded-for']}, ${peer}` : peer;
  out[FORWARDED_HEADER] = String(options.nodeId);
  if (options.clusterToken !== undefined) out['x-cluster-token'] = options.clusterToken;
  return out;
}

function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'payload_too_large', `the request body exceeds ${maxBodyBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(size === 0 ? undefined : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function hopFailure(err: unknown, leaderId: number): HttpError {
  const code = errorCodeOf(err);
  if (code !== undefined && CONNECT_FAILURES.has(code)) {
    return new HttpError(
      503,
      'leader_unreachable',
      `the leader (node ${leaderId}) could not be reached, so the write was not sent; retry shortly`,
      RETRY_SOON,
    );
  }
  return new HttpError(
    504,
    'leader_timeout',
    `the leader (node ${leaderId}) did not answer in time; the write may still be applied ` +
      '(retry with the same Idempotency-Key to get its one result)',
  );
}

function fail(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const answer = toErrorResponse(err);
  writeJson(res, answer.status, answer.body, answer.headers);
}
