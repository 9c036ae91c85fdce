import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommitTimeoutError, ConflictError, NotLeaderError } from '../../src/domain/errors.js';
import { json, startApp, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startApp();
});
afterEach(async () => {
  await h.close();
});

const join = (body: unknown, contentType = 'application/json') =>
  fetch(h.baseUrl + '/cluster/join', {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': contentType },
  });
const remove = (id: string) => fetch(h.baseUrl + '/cluster/members/' + id, { method: 'DELETE' });
const validJoin = { id: 2, httpUrl: 'http://127.0.0.1:8082', raftAddr: '127.0.0.1:9082' };

describe('GET /cluster/status', () => {
  it('→ node.status() as JSON', async () => {
    const res = await fetch(h.baseUrl + '/cluster/status');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(h.node.status());
  });
});

describe('POST /cluster/join', () => {
  it('→ 200 {members} with the new member', async () => {
    const res = await join(validJoin);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({ members: h.node.members });
    expect(h.node.members.map((m) => m.id)).toEqual([1, 2]);
  });

  it('normalizes httpUrl (no trailing slash) and accepts IPv6 and host names', async () => {
    expect(
      (await join({ id: 3, httpUrl: 'https://node3.example:8443/', raftAddr: '[::1]:9083' })).status,
    ).toBe(200);
    expect(
      (await join({ id: 4, httpUrl: 'http://node4:8084', raftAddr: 'node4.internal:9084' })).status,
    ).toBe(200);
    expect(h.node.members.slice(1)).toMatchObject([
      { id: 3, httpUrl: 'https://node3.example:8443', raftAddr: '[::1]:9083' },
      { id: 4, httpUrl: 'http://node4:8084', raftAddr: 'node4.internal:9084' },
    ]);
  });

  const invalid: Array<[string, unknown]> = [
    ['id 0', { ...validJoin, id: 0 }],
    ['a negative id', { ...validJoin, id: -1 }],
    ['a fractional id', { ...validJoin, id: 1.5 }],
    ['an id as a string', { ...validJoin, id: '2' }],
    ['a missing id', { httpUrl: validJoin.httpUrl, raftAddr: validJoin.raftAddr }],
    ['an ftp httpUrl', { ...validJoin, httpUrl: 'ftp://127.0.0.1:8082' }],
    ['a httpUrl that is not a URL', { ...validJoin, httpUrl: '127.0.0.1:8082' }],
    ['a httpUrl with a query', { ...validJoin, httpUrl: 'http://127.0.0.1:8082/?x=1' }],
    ['a raftAddr without a port', { ...validJoin, raftAddr: '127.0.0.1' }],
    ['a raftAddr with port 0', { ...validJoin, raftAddr: '127.0.0.1:0' }],
    ['a raftAddr with port 70000', { ...validJoin, raftAddr: '127.0.0.1:70000' }],
    ['a raftAddr with a scheme', { ...validJoin, raftAddr: 'http://127.0.0.1:9082' }],
    ['an array', [validJoin]],
    // Ids are uint32 on the wire: 2^32 would become member 0, 2^32+2 would alias member 2.
    ['id 2^32', { ...validJoin, id: 4294967296 }],
    ['id 2^32+2 (≡ 2 on the wire)', { ...validJoin, id: 4294967298 }],
    ['id 2^53-1', { ...validJoin, id: Number.MAX_SAFE_INTEGER }],
    [
      'a httpUrl longer than 512 characters',
      { ...validJoin, httpUrl: `http://a.example/${'p'.repeat(500)}` },
    ],
    ['a raftAddr longer than 261 characters', { ...validJoin, raftAddr: `${'a'.repeat(260)}:9082` }],
    ['a javascript: httpUrl', { ...validJoin, httpUrl: 'javascript:alert(1)' }],
  ];
  it.each(invalid)('%s → 400 and no membership change', async (_name, body) => {
    const res = await join(body);
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ error: 'invalid_request', message: expect.any(String) });
    expect(h.node.members).toHaveLength(1);
  });

  it('accepts the largest id that fits the wire, 2^32-1', async () => {
    expect((await join({ ...validJoin, id: 4294967295 })).status).toBe(200);
    expect(h.node.members.map((m) => m.id)).toEqual([1, 4294967295]);
  });

  it('malformed JSON → 400 invalid_json', async () => {
    const res = await join('{"id": 2,');
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe('invalid_json');
  });

  it('a form body → 415 (JSON only)', async () => {
    const res = await join('id=2', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
  });

  it('on a follower → 409 with leaderId and leaderUrl', async () => {
    h.node.fail.addMember = new NotLeaderError(3, 'http://127.0.0.1:8083');
    const res = await join(validJoin);
    expect(res.status).toBe(409);
    expect(await json(res)).toEqual({
      error: 'not_leader',
      message: expect.any(String),
      leaderId: 3,
      leaderUrl: 'http://127.0.0.1:8083',
    });
  });

  it('with no leader → 503 with Retry-After', async () => {
    h.node.fail.addMember = new NotLeaderError(0, null);
    const res = await join(validJoin);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('while another change is pending → 409 with that error code', async () => {
    h.node.fail.addMember = new ConflictError(
      'membership_change_pending',
      'another membership change is in progress',
    );
    const res = await join(validJoin);
    expect(res.status).toBe(409);
    expect(await json(res)).toEqual({
      error: 'membership_change_pending',
      message: 'another membership change is in progress',
    });
  });

  it('GET /cluster/join → 405', async () => {
    const res = await fetch(h.baseUrl + '/cluster/join');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('DELETE /cluster/members/:id', () => {
  it('→ 200 {members} without the removed member', async () => {
    await join(validJoin);
    const res = await remove('2');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ members: [expect.objectContaining({ id: 1 })] });
  });

  it.each(['0', '-1', 'abc', '1.5', '1e3', '99999999999999999999', '4294967296', '4294967297'])(
    'id %s → 400',
    async (id) => {
      h.node.fail.removeMember = new Error('removeMember must not be called');
      const res = await remove(id);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe('invalid_request');
    },
  );

  it('on a follower → 409 not_leader', async () => {
    h.node.fail.removeMember = new NotLeaderError(2, 'http://127.0.0.1:8082');
    const res = await remove('3');
    expect(res.status).toBe(409);
    expect((await json(res)).leaderUrl).toBe('http://127.0.0.1:8082');
  });

  it('a commit timeout → 504', async () => {
    h.node.fail.removeMember = new CommitTimeoutError(5000);
    expect((await remove('2')).status).toBe(504);
  });

  it('GET → 405 with Allow: DELETE', async () => {
    const res = await fetch(h.baseUrl + '/cluster/members/2');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('DELETE');
  });
});

describe('GET /cluster/snapshot', () => {
  it('streams a backup with its index and term, and releases the snapshot', async () => {
    const res = await fetch(h.baseUrl + '/cluster/snapshot');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('x-raft-index')).toBe('7');
    expect(res.headers.get('x-raft-term')).toBe('3');
    expect(Buffer.from(await res.arrayBuffer()).toString('latin1')).toBe('URLSNAP\x01rest of a snapshot');
    expect(h.node.backupsClosed).toBe(1);
  });

  it('→ 405 for other methods', async () => {
    const res = await fetch(h.baseUrl + '/cluster/snapshot', { method: 'POST' });
    expect(res.status).toBe(405);
  });
});
