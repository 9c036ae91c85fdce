// Mutual TLS between nodes and HTTPS for the API, on real processes with certificates made by
// openssl for the test (the recipe in the README).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, fetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeProcess, waitFor } from '../../src/launcher/node-process.js';
import type { ClusterStatus } from '../../src/domain/cluster-status.js';
import { GrpcTransport } from '../../src/node/transport/grpc-transport.js';
import { emptyMessage, MessageType } from '../../src/raft/types.js';
import { freePorts, HOST, printLogTails, removeDir, startNodeIn, tempDataRoot } from './helpers.js';

const started: NodeProcess[] = [];
const roots: string[] = [];
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') for (const r of roots) printLogTails(r, ctx.task.name);
  await Promise.all(started.map((n) => n.kill()));
  started.length = 0;
  for (const r of roots.splice(0)) removeDir(r);
});

/** A CA and one certificate for 127.0.0.1/localhost signed by it (P-256: fast to make). */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => join(dir, name);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=test-cluster-ca',
  );
  ossl('req', ...ec, '-keyout', f('node.key'), '-out', f('node.csr'), '-subj', '/CN=node');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ossl(
    'x509',
    '-req',
    '-in',
    f('node.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('node.crt'),
    '-days',
    '1',
    '-extfile',
    f('san.ext'),
  );
  return { ca: f('ca.crt'), cert: f('node.crt'), key: f('node.key') };
}

describe('TLS', () => {
  it('runs a cluster over mutual TLS and HTTPS, and refuses plaintext peers', async () => {
    const dataRoot = tempDataRoot('tls');
    roots.push(dataRoot);
    const certs = makeCertificates(dataRoot);
    const tlsArgs = ['--tls-cert', certs.cert, '--tls-key', certs.key, '--tls-ca', certs.ca];
    const dispatcher = new Agent({ connect: { ca: readFileSync(certs.ca) } });
    const [h1, r1, h2, r2] = await freePorts(4);
    const spawnNode = (id: number, httpPort: number, raftPort: number, joinUrl?: string) =>
      startNodeIn(started, dataRoot, { id, httpPort, raftPort, join: joinUrl, extraArgs: tlsArgs });
    const url1 = `https://${HOST}:${h1}`;
    const url2 = `https://${HOST}:${h2}`;
    const status = async (base: string) => {
      const res = await fetch(`${base}/cluster/status`, {
        dispatcher,
        signal: AbortSignal.timeout(1000),
      }).catch(() => undefined);
      return res?.ok ? ((await res.json()) as ClusterStatus) : undefined;
    };

    spawnNode(1, h1, r1);
    await waitFor(
      'node 1 to lead over HTTPS',
      async () => ((await status(url1))?.role === 'leader' ? true : undefined),
      20_000,
    );
    spawnNode(2, h2, r2, url1);
    const leader = await waitFor(
      'node 2 to join over TLS and become a voter',
      async () => {
        const st = await status(url1);
        return st?.members.some((m) => m.id === 2 && m.voter) ? st : undefined;
      },
      30_000,
    );
    expect(leader.leaderUrl).toBe(url1);
    expect(leader.members.find((m) => m.id === 2)?.httpUrl).toBe(url2);

    const created = await fetch(`${url1}/shorten`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com/over-tls' }),
      dispatcher,
    });
    expect(created.status).toBe(201);
    const { code } = (await created.json()) as { code: string };
    await waitFor(
      'the write to reach node 2',
      async () => {
        const res = await fetch(`${url2}/${code}`, { redirect: 'manual', dispatcher });
        return res.status === 302 ? res.headers.get('location') : undefined;
      },
      10_000,
    ).then((location) => expect(location).toBe('https://example.com/over-tls'));

    // Plain HTTP to the API port is not served.
    await expect(
      fetch(`http://${HOST}:${h1}/healthz`, { signal: AbortSignal.timeout(2000) }),
    ).rejects.toThrow();

    // A peer without a certificate (plaintext gRPC) cannot deliver anything: an AppendEntries of a
    // much higher term would otherwise make node 1 step down.
    const plaintext = new GrpcTransport({
      nodeId: 99,
      clusterId: leader.clusterId,
      listenAddr: `${HOST}:0`,
      onMessages: () => {},
      logger: pino({ level: 'silent' }),
      connectTimeoutMs: 500,
      peers: { isMember: () => false, leaderId: () => 0 }, // sends only
    });
    await plaintext.start();
    try {
      plaintext.setPeer(1, `${HOST}:${r1}`);
      // Keep sending: once the handshake has failed, the transport drops what it is given.
      await waitFor(
        'the plaintext stream to fail',
        () => {
          plaintext.send([emptyMessage(MessageType.App, 99, 1, leader.term + 100)]);
          return plaintext.stats.dropped > 0 ? true : undefined;
        },
        10_000,
        50,
      );
    } finally {
      await plaintext.stop();
    }
    const after = await status(url1);
    expect(after?.role).toBe('leader');
    expect(after?.term).toBe(leader.term);
  });
});
