// The chaos workload: concurrent clients that create URLs (to the leader they believe in, following
// 409s) and read codes back (local and linearizable reads, on random nodes). Every create and read
// is one call of the shortener client (src/client) with its retries off, and one operation of the
// history, with its outcome:
//   create: 201/200 → ok; 400/413/415, 409 not_leader, 503 no_leader, 503 "superseded by a
//           leadership change", a refused connection → failed (the API says nothing was applied);
//           504, a timeout, a reset, any other answer → unknown. The client follows 409 not-leader
//           answers to the leader they name within the call (hops): those exchanges applied
//           nothing, so the call's outcome is that of its last exchange.
//   read:   302/404 → ok; anything else → failed, or unknown when no answer came (other than a
//           refused connection). A read has no effect, so either way it is simply left out.
// The nodes come from a directory that changes with membership faults: each call starts at a node
// the directory lists at that moment (its hops go where the 409s say), and a client whose node was
// removed moves on to another.
import {
  ApiError,
  NetworkError,
  ShortenerClient,
  ShortenerError,
  UndiciTransport,
  type CreateResult,
  type Exchange,
  type ResolveResult,
  type Transport,
} from '../../src/client/index.js';
import type { HttpResult } from '../client.js';
import type { CreateOp, History, Outcome, ReadOp } from './history.js';
import type { Rng } from './rng.js';
import { sleep } from '../sleep.js';

/** The nodes clients may address, as of now. */
export interface NodeDirectory {
  /** Ids of the nodes clients may send requests to (members, and removed nodes still running). */
  clientIds(): number[];
  url(id: number): string | undefined;
  /** The id of the node at a base URL (a 409's leaderUrl), if it is in the directory. */
  idOfUrl(url: string): number | undefined;
}

export interface Workload {
  nodes: NodeDirectory;
  history: History;
  rng: Rng;
  clients: number;
  createTimeoutMs: number;
  readTimeoutMs: number;
  /** URL prefix, unique per run. */
  urlPrefix: string;
  /** Planted bug: linearizable reads are sent as local reads (and recorded as linearizable). */
  bugStaleReads?: boolean;
  signal: AbortSignal;
}

export interface WorkloadHandle {
  done: Promise<void>;
  /** Codes of acknowledged creates, with their URL. */
  known: Map<string, string>;
  urls: Set<string>;
}

/** HTTP exchanges one logical create may make: the client's hops and the tries on other nodes. */
const EXCHANGES_PER_CREATE = 4;

export function startWorkload(w: Workload): WorkloadHandle {
  // One transport for every call (the clients are per call, built from the directory as it is
  // then): keep-alive connections outlive the calls. Each worker has at most one request in flight,
  // so a cap of one connection per worker and node never makes a request wait for a connection.
  const transport = new UndiciTransport({ connections: w.clients });
  const calls: CallSetup = { transport, nodes: w.nodes };
  const known = new Map<string, string>();
  const knownList: string[] = [];
  const urls = new Set<string>();
  const urlList: string[] = [];
  let leader = 0; // a node id; a guess shared by the clients (0: none yet)
  let urlSeq = 0;

  /** A node clients may address, other than `not` when there is another. */
  const anyNode = (rng: Rng, not?: number): number => {
    const ids = w.nodes.clientIds();
    const others = ids.filter((id) => id !== not);
    return rng.pick(others.length > 0 ? others : ids);
  };

  const create = async (client: number, url: string, at: number, maxHops: number): Promise<CreateOp> => {
    const op = w.history.invoke({
      kind: 'create',
      client,
      node: at,
      url,
      phase: 'run' as const,
    }) as CreateOp;
    if (!urls.has(url)) {
      urls.add(url);
      urlList.push(url);
    }
    const call = await sendCreate(calls, at, url, w.createTimeoutMs, maxHops);
    w.history.complete(op);
    recordCreate(op, call, w.nodes);
    if (op.outcome === 'ok' && op.code) {
      if (!known.has(op.code)) knownList.push(op.code);
      known.set(op.code, url);
    }
    return op;
  };

  const read = async (
    client: number,
    code: string,
    at: number,
    consistency: 'local' | 'linearizable',
  ): Promise<ReadOp> => {
    const op = w.history.invoke({
      kind: 'read',
      client,
      node: at,
      code,
      consistency,
      phase: 'run' as const,
    }) as ReadOp;
    const sendLinearizable = consistency === 'linearizable' && !w.bugStaleReads;
    const call = await sendRead(
      calls,
      at,
      code,
      sendLinearizable ? 'linearizable' : 'local',
      w.readTimeoutMs,
    );
    w.history.complete(op);
    recordRead(op, call);
    return op;
  };

  /** One logical create: calls until one is acknowledged, at most EXCHANGES_PER_CREATE exchanges. */
  const createLogical = async (client: number, rng: Rng, url: string): Promise<CreateOp | undefined> => {
    for (let left = EXCHANGES_PER_CREATE; left > 0 && !w.signal.aborted;) {
      // A guess the directory no longer lists (a removed node): start over on any node.
      if (!w.nodes.clientIds().includes(leader)) leader = anyNode(rng);
      const at = leader;
      const op = await create(client, url, at, left - 1);
      left -= 1 + (op.hops ?? 0);
      // The node whose answer the outcome is (undefined: a hop left the directory).
      const last = op.hops ? op.answeredBy : at;
      if (op.outcome === 'ok') {
        if (op.hops && last !== undefined) leader = last; // the client found the leader
        return op;
      }
      if (op.status === 409 && op.leaderHint !== undefined && op.leaderHint !== last) {
        leader = op.leaderHint; // out of hops for this call: the next call starts there
        continue;
      }
      // No leader known there, a stale hint (a removed node points at itself or at a node that is
      // gone), a timeout, a refused connection: try another node.
      if (leader === at || (last !== undefined && leader === last)) leader = anyNode(rng, last ?? at);
      await sleep(rng.int(10, 60), w.signal);
    }
    return undefined;
  };

  const pickCode = (rng: Rng): string => {
    if (knownList.length === 0 || rng.chance(0.05)) return `zz${rng.int(0, 1e9).toString(36)}`; // never created
    if (rng.chance(0.5)) return knownList[Math.max(0, knownList.length - 1 - rng.int(0, 19))];
    return rng.pick(knownList);
  };

  const worker = async (client: number): Promise<void> => {
    const rng = w.rng.fork(client + 1);
    while (!w.signal.aborted) {
      const r = rng.next();
      if (r < 0.45) {
        const reuse = urlList.length > 0 && rng.chance(0.2);
        const url = reuse ? rng.pick(urlList) : `${w.urlPrefix}/${client}/${urlSeq++}`;
        const op = await createLogical(client, rng, url);
        if (op?.code && rng.chance(0.5) && !w.signal.aborted) {
          // Read your write (on a random node): where stale reads would show.
          await read(client, op.code, anyNode(rng), rng.chance(0.5) ? 'linearizable' : 'local');
        }
      } else {
        const consistency = r < 0.75 ? 'linearizable' : 'local';
        await read(client, pickCode(rng), anyNode(rng), consistency);
      }
      await sleep(rng.int(0, 8), w.signal);
    }
  };

  // Every call has returned when the workers have: nothing is in flight when the transport closes.
  const done = Promise.all(Array.from({ length: w.clients }, (_, i) => worker(i))).then(
    () => transport.close(),
    async (err: unknown) => {
      await transport.close().catch(() => undefined);
      throw err;
    },
  );
  return { done, known, urls };
}

// ------------------------------------------------------------------ calls through the client

/** What the workload's calls share: the connections, and where the nodes are. */
export interface CallSetup {
  /** Passed to every client, so closing a client leaves it open; its owner closes it. */
  transport: Transport;
  nodes: NodeDirectory;
}

/** A client call's result, or what it threw. */
export type Call<T> = { result: T } | { error: unknown };

/**
 * POST /shorten of `url` to node `at` through a client with retries off, following at most
 * `maxHops` 409 not-leader answers. Never throws.
 */
export async function sendCreate(
  s: CallSetup,
  at: number,
  url: string,
  timeoutMs: number,
  maxHops: number,
): Promise<Call<CreateResult>> {
  try {
    const ids = s.nodes.clientIds().filter((id) => id !== at);
    const client = new ShortenerClient({
      // The directory as of now, the node to try first leading; with retries off and no
      // findLeader, only the leaderUrls of 409s take a call to another node.
      nodes: [nodeUrl(s.nodes, at), ...ids.map((id) => s.nodes.url(id)).filter((u) => u !== undefined)],
      leaderUrl: nodeUrl(s.nodes, at),
      timeoutMs,
      retry: false,
      maxLeaderHops: maxHops,
      transport: s.transport,
    });
    return { result: await client.create(url) };
  } catch (error) {
    return { error };
  }
}

/**
 * GET /:code on node `at` only (no failover: the read is that node's answer), not followed.
 * Never throws.
 */
export async function sendRead(
  s: CallSetup,
  at: number,
  code: string,
  consistency: 'local' | 'linearizable',
  timeoutMs: number,
): Promise<Call<ResolveResult>> {
  try {
    const client = new ShortenerClient({
      nodes: [nodeUrl(s.nodes, at)],
      readFailover: 0,
      timeoutMs,
      retry: false,
      transport: s.transport,
    });
    return { result: await client.resolve(code, { consistency }) };
  } catch (error) {
    return { error };
  }
}

/** A create call's outcome (the header's rules, on the client's result or typed error) into `op`. */
export function recordCreate(op: CreateOp, call: Call<CreateResult>, nodes: NodeDirectory): void {
  const info = 'result' in call ? call.result : call.error instanceof ShortenerError ? call.error : undefined;
  if (info !== undefined && info.hops > 0) {
    op.hops = info.hops;
    const by = nodes.idOfUrl(info.node);
    if (by !== undefined) op.answeredBy = by;
  }
  if ('result' in call) {
    const r = call.result;
    op.status = r.created ? 201 : 200;
    op.outcome = createOutcome(op.status, { code: r.code }, undefined);
    op.code = r.code;
    op.created = r.created;
    return;
  }
  const err = call.error;
  let outcome: Outcome;
  if (err instanceof ApiError) {
    op.status = err.status;
    const body = apiBody(err);
    outcome = createOutcome(err.status, body, undefined);
    if (outcome === 'failed' && err.status === 409 && typeof body.leaderUrl === 'string') {
      const hint = nodes.idOfUrl(body.leaderUrl);
      if (hint !== undefined) op.leaderHint = hint;
    }
    if (body.error) op.error = body.error;
  } else if (err instanceof NetworkError) {
    op.status = 0;
    op.error = err.code ?? err.message;
    outcome = createOutcome(0, {}, err.code);
  } else {
    // Not the client's own error (a bug somewhere): nothing says the create did not happen.
    op.status = 0;
    op.error = `client: ${err instanceof Error ? err.message : String(err)}`;
    outcome = 'unknown';
  }
  // The exchanges before the last were 409 not-leader answers (hops), which applied nothing, so
  // the last one speaks for the call. Anything else before it and a refusal proves nothing.
  if (outcome === 'failed' && !onlyHopsBefore(info?.exchanges ?? [])) outcome = 'unknown';
  op.outcome = outcome;
}

/** A read call's outcome into `op`. */
export function recordRead(op: ReadOp, call: Call<ResolveResult>): void {
  let seen: ReturnType<typeof readOutcome>;
  if ('result' in call) {
    const r = call.result;
    op.status = r.status;
    seen = readOutcome(r.status, r.found ? r.location : undefined, undefined);
  } else if (call.error instanceof ApiError) {
    op.status = call.error.status;
    seen = readOutcome(call.error.status, undefined, undefined);
  } else if (call.error instanceof NetworkError) {
    op.status = 0;
    op.error = call.error.code ?? call.error.message;
    seen = readOutcome(0, undefined, call.error.code);
  } else {
    op.status = 0;
    op.error = `client: ${call.error instanceof Error ? call.error.message : String(call.error)}`;
    seen = { outcome: 'unknown' };
  }
  op.outcome = seen.outcome;
  if (seen.url !== undefined) op.url = seen.url;
}

// ------------------------------------------------------------------ plain HTTP results

/** A node's base URL; one the directory no longer knows gets a URL nothing listens on. */
function nodeUrl(nodes: NodeDirectory, id: number): string {
  return nodes.url(id) ?? 'http://127.0.0.1:1';
}

/** The same rules on a plain HTTP exchange (the runner's final probes). */
export function classifyCreate(op: CreateOp, r: HttpResult, nodes: NodeDirectory): void {
  op.status = r.status;
  if (r.error) op.error = r.errorCode ?? r.error;
  let body: ApiBody = {};
  try {
    if (r.body && r.body.length > 0) body = JSON.parse(r.body.toString('utf8')) as ApiBody;
  } catch {
    // not JSON
  }
  const outcome = createOutcome(r.status, body, r.status === 0 ? r.errorCode : undefined);
  if (outcome === 'ok' && typeof body.code === 'string') {
    op.code = body.code;
    op.created = r.status === 201;
  } else if (outcome === 'failed' && r.status === 409) {
    const hint = typeof body.leaderUrl === 'string' ? nodes.idOfUrl(body.leaderUrl) : undefined;
    if (hint !== undefined) op.leaderHint = hint;
  }
  if (typeof body.error === 'string' && body.error && outcome !== 'ok') op.error = body.error;
  op.outcome = outcome;
}

export function classifyRead(op: ReadOp, r: HttpResult): void {
  op.status = r.status;
  if (r.error) op.error = r.errorCode ?? r.error;
  const seen = readOutcome(r.status, r.location, r.status === 0 ? r.errorCode : undefined);
  op.outcome = seen.outcome;
  if (seen.url !== undefined) op.url = seen.url;
}

// ------------------------------------------------------------------ the rules

/** The fields of an answer's JSON body the rules look at. */
interface ApiBody {
  code?: unknown;
  error?: unknown;
  message?: unknown;
  leaderUrl?: unknown;
}

/**
 * A create's outcome from its (last) exchange: the HTTP status (0: no answer) and JSON body, or
 * the transport's error code when no answer came.
 */
function createOutcome(status: number, body: ApiBody, transportCode: string | undefined): Outcome {
  if ((status === 201 || status === 200) && typeof body.code === 'string') return 'ok';
  if (status === 400 || status === 413 || status === 415) return 'failed';
  if (status === 409 && body.error === 'not_leader') return 'failed';
  if (status === 503 && body.error === 'no_leader') return 'failed';
  if (
    status === 503 &&
    typeof body.message === 'string' &&
    /superseded by a leadership change/.test(body.message)
  )
    return 'failed';
  if (status === 0 && transportCode === 'ECONNREFUSED') return 'failed';
  return 'unknown';
}

/** A read's outcome: a 302 with its Location, a 404 (null), or no observation. */
function readOutcome(
  status: number,
  location: string | undefined,
  transportCode: string | undefined,
): { outcome: Outcome; url?: string | null } {
  if (status === 302 && location !== undefined) return { outcome: 'ok', url: location };
  if (status === 404) return { outcome: 'ok', url: null };
  return { outcome: status === 0 && transportCode !== 'ECONNREFUSED' ? 'unknown' : 'failed' };
}

/**
 * An ApiError's body as the rules read it. The client stands in `http_<status>` for a missing
 * machine code; the API never sends one, so it is taken as absent, like a body that is not JSON.
 */
function apiBody(err: ApiError): ApiBody & { error?: string } {
  const { error, ...rest } = err.body;
  return error === `http_${err.status}` ? rest : { ...rest, error };
}

/** Every exchange but the last was a 409 (a not-leader answer the client followed). */
function onlyHopsBefore(exchanges: Exchange[]): boolean {
  return exchanges.slice(0, -1).every((e) => e.status === 409);
}
