// The joining node sends the cluster token to the member its operator named (--join) and nowhere
// else: not to a leaderUrl from an open /cluster/status or a 409, not along a redirect.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverCluster, JoinRefusedError, requestJoin } from '../../src/node/join-client.js';

const logger = pino({ level: 'silent' });
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

type Handler = (
  req: IncomingMessage,
  body: string,
) => { status: number; body?: unknown; headers?: Record<string, string> };

async function serve(
  handler: Handler,
): Promise<{ url: string; seen: Array<{ path: string; token?: string }> }> {
  const seen: Array<{ path: string; token?: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const token = req.headers['x-cluster-token'];
      seen.push({ path: `${req.method} ${req.url}`, token: typeof token === 'string' ? token : undefined });
      const answer = handler(req, body);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const self = { id: 4, httpUrl: 'http://127.0.0.1:1', raftAddr: '127.0.0.1:2', nodeUuid: 'u' };
const token = { 'x-cluster-token': 'the-secret-token' };

describe('the join client and the cluster token', () => {
  it('never follows a leaderUrl: it asks the --join member again until it passes the join on', async () => {
    const elsewhere = await serve(() => ({ status: 200, body: { members: [] } }));
    let joins = 0;
    const named = await serve((req) => {
      if (req.method === 'GET') return { status: 200, body: { clusterId: 'c1', leaderUrl: elsewhere.url } };
      joins++;
      return joins === 1
        ? {
            status: 409,
            body: { error: 'not_leader', message: 'not the leader', leaderId: 9, leaderUrl: elsewhere.url },
          }
        : { status: 200, body: { members: [{ id: 4, httpUrl: self.httpUrl, raftAddr: self.raftAddr }] } };
    });
    expect(await discoverCluster(named.url, logger, Date.now() + 5_000)).toEqual({ clusterId: 'c1' });
    const members = await requestJoin(named.url, self, logger, Date.now() + 5_000, token);
    expect(members.map((m) => m.id)).toEqual([4]);
    expect(named.seen.filter((r) => r.path === 'POST /cluster/join').map((r) => r.token)).toEqual([
      'the-secret-token',
      'the-secret-token',
    ]);
    expect(elsewhere.seen).toEqual([]);
  });

  it('does not follow a redirect with the token', async () => {
    const elsewhere = await serve(() => ({ status: 200, body: { members: [] } }));
    const named = await serve(() => ({
      status: 307,
      headers: { location: `${elsewhere.url}/cluster/join` },
    }));
    await expect(requestJoin(named.url, self, logger, Date.now() + 1_000, token)).rejects.toThrow(
      /gave up joining/,
    );
    expect(elsewhere.seen).toEqual([]);
  });

  it("gives up at once on a refusal, with the cluster's reason", async () => {
    const named = await serve(() => ({
      status: 409,
      body: { error: 'member_exists', message: 'node 4 is already a member ... Remove the old member first' },
    }));
    const error = await requestJoin(named.url, self, logger, Date.now() + 60_000, token).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JoinRefusedError);
    expect((error as Error).message).toMatch(/refused the join \(409\).*Remove the old member first/);
    expect(named.seen).toHaveLength(1);
  });
});
