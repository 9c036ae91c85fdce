// The cluster token on real processes: a node with a wrong token can neither join nor inject Raft
// messages; a node without a token refuses to expose its Raft port beyond loopback.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeProcess, waitFor } from '../../src/launcher/node-process.js';
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

function node(
  dataRoot: string,
  id: number,
  httpPort: number,
  raftPort: number,
  extraArgs: string[],
  joinUrl?: string,
): NodeProcess {
  return startNodeIn(started, dataRoot, { id, httpPort, raftPort, extraArgs, join: joinUrl });
}

describe('cluster token', () => {
  it('keeps out a node with the wrong token: its join is refused and its Raft messages are ignored', async () => {
    const dataRoot = tempDataRoot('token');
    roots.push(dataRoot);
    const [h1, r1, h2, r2, h3, r3] = await freePorts(6);
    const first = node(dataRoot, 1, h1, r1, ['--cluster-token', 'right-token']);
    const leader = await waitFor(
      'node 1 to lead',
      async () => {
        const st = await first.status();
        return st?.role === 'leader' ? st : undefined;
      },
      20_000,
    );

    // A node with the wrong token: the leader answers its join with 401 and it gives up.
    const intruder = node(dataRoot, 2, h2, r2, ['--cluster-token', 'wrong-token'], first.url);
    await intruder.exited();
    expect(intruder.lastExit?.code).not.toBe(0);
    expect(readFileSync(join(dataRoot, 'node2.log'), 'utf8')).toContain('refused the join (401)');

    // Raft traffic with the wrong token: an AppendEntries of a much higher term would make node 1
    // step down if it were accepted.
    const rogue = new GrpcTransport({
      nodeId: 99,
      clusterId: leader.clusterId,
      listenAddr: `${HOST}:0`,
      onMessages: () => {},
      logger: pino({ level: 'silent' }),
      authToken: 'wrong-token',
    });
    await rogue.start();
    try {
      rogue.setPeer(1, `${HOST}:${r1}`);
      const m = emptyMessage(MessageType.App, 99, 1, leader.term + 100);
      rogue.send([m]);
      await waitFor(
        'node 1 to log the refused stream',
        () =>
          readFileSync(join(dataRoot, 'node1.log'), 'utf8').includes('bad cluster token') ? true : undefined,
        10_000,
      );
    } finally {
      await rogue.stop();
    }
    const after = await first.status();
    expect(after?.term).toBe(leader.term);
    expect(after?.role).toBe('leader');
    expect(after?.members.map((m) => m.id)).toEqual([1]);

    // The right token joins.
    const member = node(dataRoot, 3, h3, r3, ['--cluster-token', 'right-token'], first.url);
    await waitFor(
      'node 3 to become a voter',
      async () => {
        const st = await first.status();
        return st?.members.some((m) => m.id === 3 && m.voter) ? true : undefined;
      },
      30_000,
    );
    expect((await member.status())?.leaderId).toBe(1);
  });

  it('without a token, refuses to listen for Raft traffic beyond loopback (protected mode)', async () => {
    const dataRoot = tempDataRoot('protected');
    roots.push(dataRoot);
    const [h1, r1] = await freePorts(2);
    const n = node(dataRoot, 1, h1, r1, ['--raft', `0.0.0.0:${r1}`]);
    await n.exited();
    expect(n.lastExit?.code).toBe(1);
    expect(readFileSync(join(dataRoot, 'node1.log'), 'utf8')).toContain('without a cluster token');
  });
});
