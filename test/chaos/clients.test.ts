// The chaos workload's calls through the shortener client, against fake nodes: every answer a
// create or a read can get, classified as the header of loadtest/chaos/clients.ts says (ok /
// failed: certainly not applied / unknown), 409 hops inside one call included; and the same rules
// on the plain HTTP results of the runner's final probes.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  classifyCreate,
  classifyRead,
  recordCreate,
  recordRead,
  sendCreate,
  sendRead,
  type CallSetup,
  type NodeDirectory,
} from '../../loadtest/chaos/clients.js';
import { History, type CreateOp, type ReadOp } from '../../loadtest/chaos/history.js';
import { NetworkError, UndiciTransport } from '../../src/client/index.js';
import { created, deadNodeUrl, json, startFakeNode, type Handler } from '../client/fake-server.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

const URL_A = 'https://example.com/a';

/** Nodes 1, 2, … at the given URLs. */
function directory(urls: string[]): NodeDirectory {
  return {
    clientIds: () => urls.map((_, i) => i + 1),
    url: (id) => urls[id - 1],
    idOfUrl: (u) => {
      const i = urls.indexOf(u.replace(/\/+$/, ''));
      return i < 0 ? undefined : i + 1;
    },
  };
}

async function setup(...handlers: Array<Handler | 'dead'>): Promise<CallSetup> {
  const urls: string[] = [];
  for (const h of handlers) {
    if (h === 'dead') {
      urls.push(await deadNodeUrl());
    } else {
      const n = await startFakeNode(h);
      open.push(n);
      urls.push(n.url);
    }
  }
  const transport = new UndiciTransport();
  open.push(transport);
  return { transport, nodes: directory(urls) };
}

const history = new History(() => 0);
const createOp = (node = 1): CreateOp =>
  history.invoke({ kind: 'create', client: 0, node, url: URL_A, phase: 'run' as const }) as CreateOp;
const readOp = (code: string, node = 1): ReadOp =>
  history.invoke({
    kind: 'read',
    client: 0,
    node,
    code,
    consistency: 'linearizable',
    phase: 'run' as const,
  }) as ReadOp;

async function create(s: CallSetup, maxHops = 3, timeoutMs = 2_000): Promise<CreateOp> {
  const op = createOp();
  recordCreate(op, await sendCreate(s, 1, URL_A, timeoutMs, maxHops), s.nodes);
  return op;
}

const notLeader = (leaderUrl: string | null) => ({
  error: 'not_leader',
  message: 'this node is not the leader',
  leaderId: leaderUrl === null ? 0 : 2,
  leaderUrl,
});
const answer =
  (status: number, body: unknown): Handler =>
  (_req, res) =>
    json(res, status, body);
const noAnswer: Handler = () => undefined;
const reset: Handler = (_req, res: ServerResponse) => res.socket?.destroy();

describe('chaos creates through the client', () => {
  it('201 and 200 with a code are ok', async () => {
    const op = await create(await setup(answer(201, created('c1', URL_A))));
    expect(op).toMatchObject({ outcome: 'ok', status: 201, code: 'c1', created: true, node: 1 });
    expect(op.hops).toBeUndefined();
    const again = await create(await setup(answer(200, created('c1', URL_A))));
    expect(again).toMatchObject({ outcome: 'ok', status: 200, code: 'c1', created: false });
  });

  it('a 200 without a code is unknown', async () => {
    expect(await create(await setup(answer(200, { nope: true })))).toMatchObject({ outcome: 'unknown' });
  });

  it('follows a 409 inside the call: one op, node first addressed, the outcome of the last answer', async () => {
    let leaderUrl = '';
    const s = await setup(
      (_req, res) => json(res, 409, notLeader(leaderUrl)),
      answer(201, created('c2', URL_A)),
    );
    leaderUrl = s.nodes.url(2)!;
    const op = await create(s);
    expect(op).toMatchObject({ outcome: 'ok', status: 201, code: 'c2', node: 1, hops: 1, answeredBy: 2 });
    expect(op.leaderHint).toBeUndefined();
  });

  it('after a hop, the last answer decides: a 504 is unknown, a refused connection failed', async () => {
    let leaderUrl = '';
    const s = await setup(
      (_req, res) => json(res, 409, notLeader(leaderUrl)),
      answer(504, { error: 'timeout', message: 'x' }),
    );
    leaderUrl = s.nodes.url(2)!;
    expect(await create(s)).toMatchObject({ outcome: 'unknown', status: 504, hops: 1, answeredBy: 2 });

    const t = await setup((_req, res) => json(res, 409, notLeader(leaderUrl)), 'dead');
    leaderUrl = t.nodes.url(2)!;
    expect(await create(t)).toMatchObject({ outcome: 'failed', status: 0, error: 'ECONNREFUSED', hops: 1 });
  });

  it('a 409 not_leader it may not follow (no hops left) is failed, with the leader as a hint', async () => {
    let leaderUrl = '';
    const s = await setup((_req, res) => json(res, 409, notLeader(leaderUrl)), answer(201, created('c3')));
    leaderUrl = s.nodes.url(2)!;
    const op = await create(s, 0);
    expect(op).toMatchObject({ outcome: 'failed', status: 409, error: 'not_leader', leaderHint: 2 });
    expect(op.hops).toBeUndefined();
  });

  it('a 409 not_leader naming no leader, or itself, is failed', async () => {
    expect(await create(await setup(answer(409, notLeader(null))))).toMatchObject({
      outcome: 'failed',
      status: 409,
      error: 'not_leader',
    });
    let self = '';
    const s = await setup((_req, res) => json(res, 409, notLeader(self)));
    self = s.nodes.url(1)!;
    expect(await create(s)).toMatchObject({ outcome: 'failed', status: 409, leaderHint: 1 });
  });

  it.each([
    [400, { error: 'invalid_url', message: 'no' }, 'failed'],
    [413, { error: 'payload_too_large', message: 'no' }, 'failed'],
    [415, { error: 'unsupported_media_type', message: 'no' }, 'failed'],
    [503, { error: 'no_leader', message: 'no leader' }, 'failed'],
    [503, { error: 'unavailable', message: 'write superseded by a leadership change' }, 'failed'],
    [503, { error: 'unavailable', message: 'overloaded' }, 'unknown'],
    [504, { error: 'commit_timeout', message: 'not committed in time' }, 'unknown'],
    [409, { error: 'alias_taken', message: 'taken' }, 'unknown'],
    [500, { error: 'internal', message: 'oops' }, 'unknown'],
  ] as const)('%i %j is %s', async (status, body, outcome) => {
    const op = await create(await setup(answer(status, body)));
    expect(op).toMatchObject({ outcome, status, error: body.error });
  });

  it('an error answer that is not JSON records no error code', async () => {
    const s = await setup((_req, res) => res.writeHead(504, { 'content-type': 'text/plain' }).end('gateway'));
    const op = await create(s);
    expect(op).toMatchObject({ outcome: 'unknown', status: 504 });
    expect(op.error).toBeUndefined();
  });

  it('a refused connection is failed; a timeout and a reset are unknown', async () => {
    expect(await create(await setup('dead'))).toMatchObject({
      outcome: 'failed',
      status: 0,
      error: 'ECONNREFUSED',
    });
    expect(await create(await setup(noAnswer), 3, 200)).toMatchObject({
      outcome: 'unknown',
      status: 0,
      error: 'TIMEOUT',
    });
    const r = await create(await setup(reset));
    expect(r).toMatchObject({ outcome: 'unknown', status: 0 });
    expect(r.error).not.toBe('ECONNREFUSED');
  });

  it('a refusal after exchanges that were not 409 hops proves nothing', () => {
    const op = createOp();
    const err = new NetworkError('connection', 'refused', 'ECONNREFUSED').withInfo({
      node: 'http://127.0.0.1:2',
      hops: 1,
      attempts: 1,
      exchanges: [
        { node: 'http://127.0.0.1:1', status: 0, bytesOut: 10, bytesIn: 0 },
        { node: 'http://127.0.0.1:2', status: 0, bytesOut: 10, bytesIn: 0 },
      ],
    });
    recordCreate(op, { error: err }, directory(['http://127.0.0.1:1']));
    expect(op.outcome).toBe('unknown');
  });

  it('an error that is not the client’s is unknown', () => {
    const op = createOp();
    recordCreate(op, { error: new Error('boom') }, directory(['http://127.0.0.1:1']));
    expect(op).toMatchObject({ outcome: 'unknown', status: 0, error: 'client: boom' });
  });
});

describe('chaos reads through the client', () => {
  async function read(s: CallSetup, consistency: 'local' | 'linearizable' = 'local', timeoutMs = 2_000) {
    const op = readOp('abc');
    recordRead(op, await sendRead(s, 1, 'abc', consistency, timeoutMs));
    return op;
  }

  it('302 (its Location) and 404 (null) are ok; linearizable reads ask for it', async () => {
    let path = '';
    const s = await setup((req, res) => {
      path = req.path;
      res.writeHead(302, { location: URL_A }).end();
    });
    expect(await read(s, 'linearizable')).toMatchObject({ outcome: 'ok', status: 302, url: URL_A });
    expect(path).toBe('/abc?consistency=linearizable');
    await read(s, 'local');
    expect(path).toBe('/abc');
    expect(await read(await setup(answer(404, { error: 'not_found', message: 'no' })))).toMatchObject({
      outcome: 'ok',
      status: 404,
      url: null,
    });
  });

  it('other answers are failed, no answer unknown (a refusal failed)', async () => {
    for (const [status, body] of [
      [410, { error: 'expired', message: 'gone' }],
      [503, { error: 'no_leader', message: 'no leader' }],
      [504, { error: 'timeout', message: 'slow' }],
    ] as const) {
      const op = await read(await setup(answer(status, body)));
      expect(op).toMatchObject({ outcome: 'failed', status });
      expect(op.url).toBeUndefined();
    }
    const moved = await setup((_req, res) => res.writeHead(301, { location: URL_A }).end());
    expect(await read(moved)).toMatchObject({ outcome: 'failed', status: 301 });
    expect(await read(await setup(noAnswer), 'local', 200)).toMatchObject({
      outcome: 'unknown',
      status: 0,
      error: 'TIMEOUT',
    });
    expect(await read(await setup('dead'))).toMatchObject({
      outcome: 'failed',
      status: 0,
      error: 'ECONNREFUSED',
    });
  });

  it('a read is the answer of the node it was sent to: no failover to another', async () => {
    const other = await startFakeNode((_req, res) => res.writeHead(302, { location: URL_A }).end());
    open.push(other);
    const s = await setup('dead');
    const op = await read({ ...s, nodes: directory([s.nodes.url(1)!, other.url]) });
    expect(op).toMatchObject({ outcome: 'failed', node: 1 });
    expect(other.received).toHaveLength(0);
  });
});

describe('the same rules on plain HTTP results (final probes)', () => {
  const nodes = directory(['http://127.0.0.1:8081', 'http://127.0.0.1:8082']);
  const body = (x: unknown) => Buffer.from(JSON.stringify(x));

  it('classifies creates', () => {
    const cases: Array<[Parameters<typeof classifyCreate>[1], Partial<CreateOp>]> = [
      [
        { status: 201, bytesIn: 1, body: body(created('c1')) },
        { outcome: 'ok', code: 'c1', created: true },
      ],
      [
        { status: 200, bytesIn: 1, body: body(created('c1')) },
        { outcome: 'ok', code: 'c1', created: false },
      ],
      [
        { status: 409, bytesIn: 1, body: body(notLeader('http://127.0.0.1:8082/')) },
        { outcome: 'failed', leaderHint: 2, error: 'not_leader' },
      ],
      [{ status: 503, bytesIn: 1, body: body({ error: 'no_leader', message: '' }) }, { outcome: 'failed' }],
      [{ status: 504, bytesIn: 1, body: Buffer.from('') }, { outcome: 'unknown' }],
      [{ status: 0, bytesIn: 0, error: 'refused', errorCode: 'ECONNREFUSED' }, { outcome: 'failed' }],
      [{ status: 0, bytesIn: 0, error: 'reset', errorCode: 'ECONNRESET' }, { outcome: 'unknown' }],
    ];
    for (const [r, want] of cases) {
      const op = createOp();
      classifyCreate(op, r, nodes);
      expect(op, JSON.stringify(r)).toMatchObject(want);
    }
  });

  it('classifies reads', () => {
    const cases: Array<[Parameters<typeof classifyRead>[1], Partial<ReadOp>]> = [
      [
        { status: 302, bytesIn: 0, location: URL_A },
        { outcome: 'ok', url: URL_A },
      ],
      [
        { status: 404, bytesIn: 0 },
        { outcome: 'ok', url: null },
      ],
      [{ status: 503, bytesIn: 0 }, { outcome: 'failed' }],
      [{ status: 0, bytesIn: 0, error: 'x', errorCode: 'ECONNREFUSED' }, { outcome: 'failed' }],
      [{ status: 0, bytesIn: 0, error: 'x', errorCode: 'UND_ERR_HEADERS_TIMEOUT' }, { outcome: 'unknown' }],
    ];
    for (const [r, want] of cases) {
      const op = readOp('abc');
      classifyRead(op, r);
      expect(op, JSON.stringify(r)).toMatchObject(want);
    }
  });
});
