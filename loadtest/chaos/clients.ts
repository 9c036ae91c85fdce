// The chaos workload: concurrent clients that create URLs (to the leader they believe in, following
// 409s) and read codes back (local and linearizable reads, on random nodes). Every HTTP request is
// one operation of the history, with its outcome:
//   create: 201/200 → ok; 400/413/415, 409 not_leader, 503 no_leader, 503 "superseded by a
//           leadership change", a refused connection → failed (the API says nothing was applied);
//           504, a timeout, a reset, any other answer → unknown.
//   read:   302/404 → ok; anything else → failed (a read has no effect, so it is simply left out).
// The nodes come from a directory that changes with membership faults: each request goes to a node
// the directory lists at that moment, and a client whose node was removed moves on to another.
import { HttpClient, type HttpResult } from '../client.js';
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

export function startWorkload(w: Workload): WorkloadHandle {
  const http = new HttpClient({ connections: w.clients * 2 + 4, timeoutMs: w.createTimeoutMs });
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

  const create = async (client: number, url: string, at: number): Promise<CreateOp> => {
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
    const r = await http.send(
      'POST',
      `${nodeUrl(w.nodes, at)}/shorten`,
      JSON.stringify({ url }),
      true,
      w.createTimeoutMs,
    );
    w.history.complete(op);
    classifyCreate(op, r, w.nodes);
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
    const q = sendLinearizable ? '?consistency=linearizable' : '';
    const r = await http.send(
      'GET',
      `${nodeUrl(w.nodes, at)}/${encodeURIComponent(code)}${q}`,
      undefined,
      false,
      w.readTimeoutMs,
    );
    w.history.complete(op);
    classifyRead(op, r);
    return op;
  };

  /** One logical create: up to 4 attempts, following 409s to the leader. */
  const createLogical = async (client: number, rng: Rng, url: string): Promise<CreateOp | undefined> => {
    for (let attempt = 0; attempt < 4 && !w.signal.aborted; attempt++) {
      // A guess the directory no longer lists (a removed node): start over on any node.
      if (!w.nodes.clientIds().includes(leader)) leader = anyNode(rng);
      const at = leader;
      const op = await create(client, url, at);
      if (op.outcome === 'ok') return op;
      if (op.status === 409 && op.leaderHint !== undefined && op.leaderHint !== at) {
        leader = op.leaderHint;
        continue;
      }
      // No leader known there, a stale hint (a removed node points at itself or at a node that is
      // gone), a timeout, a refused connection: try another node.
      if (leader === at) leader = anyNode(rng, at);
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

  const done = Promise.all(Array.from({ length: w.clients }, (_, i) => worker(i))).then(
    () => http.destroy(),
    async (err: unknown) => {
      await http.destroy();
      throw err;
    },
  );
  return { done, known, urls };
}

/** A node's base URL; one the directory no longer knows gets a URL nothing listens on. */
function nodeUrl(nodes: NodeDirectory, id: number): string {
  return nodes.url(id) ?? 'http://127.0.0.1:1';
}

export function classifyCreate(op: CreateOp, r: HttpResult, nodes: NodeDirectory): void {
  op.status = r.status;
  if (r.error) op.error = r.errorCode ?? r.error;
  let body: { code?: string; error?: string; message?: string; leaderUrl?: string } = {};
  try {
    if (r.body && r.body.length > 0) body = JSON.parse(r.body.toString('utf8')) as typeof body;
  } catch {
    // not JSON
  }
  let outcome: Outcome = 'unknown';
  if ((r.status === 201 || r.status === 200) && typeof body.code === 'string') {
    outcome = 'ok';
    op.code = body.code;
    op.created = r.status === 201;
  } else if (r.status === 400 || r.status === 413 || r.status === 415) {
    outcome = 'failed';
  } else if (r.status === 409 && body.error === 'not_leader') {
    outcome = 'failed';
    const hint = body.leaderUrl ? nodes.idOfUrl(body.leaderUrl) : undefined;
    if (hint !== undefined) op.leaderHint = hint;
  } else if (r.status === 503 && body.error === 'no_leader') {
    outcome = 'failed';
  } else if (r.status === 503 && /superseded by a leadership change/.test(body.message ?? '')) {
    outcome = 'failed';
  } else if (r.status === 0 && r.errorCode === 'ECONNREFUSED') {
    outcome = 'failed';
  }
  if (body.error && outcome !== 'ok') op.error = body.error;
  op.outcome = outcome;
}

export function classifyRead(op: ReadOp, r: HttpResult): void {
  op.status = r.status;
  if (r.error) op.error = r.errorCode ?? r.error;
  if (r.status === 302 && r.location !== undefined) {
    op.outcome = 'ok';
    op.url = r.location;
  } else if (r.status === 404) {
    op.outcome = 'ok';
    op.url = null;
  } else {
    op.outcome = r.status === 0 && r.errorCode !== 'ECONNREFUSED' ? 'unknown' : 'failed';
  }
}
