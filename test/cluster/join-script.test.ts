// The three-node join script (dist/cmd/cluster.js, `npm start`) as a user runs it: it starts
// three nodes on consecutive ports, prints "ready" and the node pids, serves writes and reads,
// and stops every node cleanly on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_ENTRY } from '../../src/launcher/node-process.js';
import {
  freePortRanges,
  HOST,
  isAlive,
  printLogTails,
  removeDir,
  request,
  resolveCode,
  shorten,
  tempDataRoot,
  waitFor,
  type ClusterStatus,
} from './helpers.js';

const CLUSTER_ENTRY = join(dirname(NODE_ENTRY), 'cluster.js');

interface ScriptRun {
  child: ChildProcess;
  dataRoot: string;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Node pids the script has printed so far, by node id. */
  pids: () => Map<number, number>;
  nodeUrls: () => Map<number, string>;
  httpPorts: number[];
}

const runs: ScriptRun[] = [];

async function runScript(
  label: string,
  detached = false,
  again?: { dataRoot: string; httpPorts: number[]; raftPorts: number[] },
): Promise<ScriptRun & { raftPorts: number[] }> {
  const [httpPorts, raftPorts] = again ? [again.httpPorts, again.raftPorts] : await freePortRanges(2, 3);
  const dataRoot = again?.dataRoot ?? tempDataRoot(label);
  const child = spawn(
    process.execPath,
    [
      CLUSTER_ENTRY,
      '--data',
      dataRoot,
      '--host',
      HOST,
      '--http-port',
      String(httpPorts[0]),
      '--raft-port',
      String(raftPorts[0]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const run: ScriptRun = {
    child,
    dataRoot,
    output: () => out,
    exit,
    httpPorts,
    pids: () => {
      const pids = new Map<number, number>();
      for (const m of out.matchAll(/node (\d+) started \(pid (\d+)\)/g)) pids.set(Number(m[1]), Number(m[2]));
      for (const m of out.matchAll(/(\d+)=http:\/\/\S+ \(pid (\d+)\)/g)) pids.set(Number(m[1]), Number(m[2]));
      return pids;
    },
    nodeUrls: () => {
      const urls = new Map<number, string>();
      for (const m of out.matchAll(/(\d+)=(http:\/\/\S+) \(pid \d+\)/g)) urls.set(Number(m[1]), m[2]);
      return urls;
    },
  };
  runs.push(run);
  return { ...run, raftPorts };
}

async function waitUntilReady(run: ScriptRun): Promise<void> {
  await waitFor(
    'the join script to print "ready" and the node pids',
    () => {
      if (run.child.exitCode !== null) throw new Error(`the script exited early:\n${run.output()}`);
      return /\[cluster\] ready/.test(run.output()) && run.nodeUrls().size === 3 ? true : undefined;
    },
    60_000,
    100,
  );
}

afterEach(async (ctx) => {
  for (const run of runs.splice(0)) {
    if (ctx.task.result?.state === 'fail') {
      console.error(`\n===== join script output =====\n${run.output()}`);
      printLogTails(run.dataRoot, 'join script test failed');
    }
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await run.exit;
    }
    // The script cannot stop its nodes once it is SIGKILLed: stop them by the pids it printed.
    for (const pid of run.pids().values()) {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    // (An orphan is reaped by init; should that lag, do not fail the cleanup over it.)
    await waitFor(
      'the nodes to be gone',
      () => ([...run.pids().values()].some(isAlive) ? undefined : true),
      5_000,
    ).catch((err: Error) => console.warn(err.message));
    removeDir(run.dataRoot);
  }
});

/**
 * What cmd/node.ts logged about its shutdown (sorted): a clean one is ['shutting down', 'stopped'];
 * one cut short also has 'second signal: exiting at once' and lacks 'stopped'.
 */
function shutdownLines(run: ScriptRun, id: number): string[] {
  return readFileSync(join(run.dataRoot, `node${id}.log`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg?: string }).msg ?? '')
    .filter((msg) => msg === 'shutting down' || msg === 'stopped' || msg.startsWith('second signal'))
    .sort();
}

describe('the three-node join script', () => {
  it('starts three voters, serves writes and reads, and stops every node on SIGINT', async () => {
    const run = await runScript('script');
    await waitUntilReady(run);

    const urls = run.nodeUrls();
    expect([...urls.keys()].sort()).toEqual([1, 2, 3]);
    expect([...urls.values()]).toEqual(run.httpPorts.map((p) => `http://${HOST}:${p}`));
    const pids = run.pids();
    expect(pids.size).toBe(3);
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);

    // Every node: the same cluster, the same leader, all three voters.
    const sts = await Promise.all(
      [1, 2, 3].map(
        async (id) => (await request(`${urls.get(id)}/cluster/status`)).body as unknown as ClusterStatus,
      ),
    );
    const leaderId = sts[0].leaderId;
    expect(leaderId).toBeGreaterThan(0);
    for (const [i, st] of sts.entries()) {
      expect(st.id).toBe(i + 1);
      expect(st.clusterId).toBe(sts[0].clusterId);
      expect(st.leaderId).toBe(leaderId);
      expect(st.members.map((m) => [m.id, m.voter]).sort()).toEqual([
        [1, true],
        [2, true],
        [3, true],
      ]);
    }
    expect(sts.filter((st) => st.role === 'leader').map((st) => st.id)).toEqual([leaderId]);
    const leaderUrl = urls.get(leaderId)!;
    expect(sts[0].leaderUrl).toBe(leaderUrl);

    // A write on the leader resolves on all three nodes.
    const longUrl = `https://example.com/join-script/${Date.now()}`;
    const created = await shorten(leaderUrl, longUrl);
    expect(created.status).toBe(201);
    const code = created.body.code as string;
    expect(code).toMatch(/^[0-9A-Za-z_-]+$/);
    expect(created.body.url).toBe(longUrl);
    for (const url of urls.values()) {
      const resolved = await waitFor(
        `${code} to resolve on ${url}`,
        async () => {
          const r = await resolveCode(url, code);
          return r.status === 404 ? undefined : r;
        },
        10_000,
      );
      expect(resolved).toEqual({ status: 302, location: longUrl });
    }

    // Ctrl-C (SIGINT to the script): exit 0, every node gone, each one stopped gracefully.
    run.child.kill('SIGINT');
    const exit = await run.exit;
    expect(exit, run.output()).toEqual({ code: 0, signal: null });
    expect(run.output()).toContain('all nodes stopped');
    for (const [id, pid] of pids) {
      expect(isAlive(pid), `node ${id} (pid ${pid}) still runs`).toBe(false);
      expect(shutdownLines(run, id), `node ${id} did not shut down cleanly`).toEqual([
        'shutting down',
        'stopped',
      ]);
    }

    // Run it again on the same data: the same cluster comes back (all three at once: node 1 alone
    // has no quorum) and still has the write.
    const again = await runScript('script', false, run);
    await waitUntilReady(again);
    expect(again.output()).toContain('restarting on its data');
    const againUrls = again.nodeUrls();
    const st = (await request(`${againUrls.get(1)}/cluster/status`)).body as unknown as ClusterStatus;
    expect(st.clusterId).toBe(sts[0].clusterId);
    for (const url of againUrls.values()) {
      expect(await resolveCode(url, code)).toEqual({ status: 302, location: longUrl });
    }
  });

  // Ctrl-C in a terminal sends SIGINT to the whole foreground process group: the script AND its
  // node children (spawned in the same group). Each node starts a graceful stop on that SIGINT,
  // then the script's SIGTERM arrives as a "second signal" and the node exits at once (code 130)
  // in the middle of its shutdown. This test simulates the terminal: the script leads its own
  // process group (detached) and the group gets the SIGINT.
  it('stops every node cleanly on a terminal Ctrl-C (SIGINT to the process group)', async () => {
    const run = await runScript('script-pgrp', true);
    await waitUntilReady(run);
    const pids = run.pids();
    expect(pids.size).toBe(3);

    process.kill(-run.child.pid!, 'SIGINT');
    const exit = await run.exit;
    expect(exit, run.output()).toEqual({ code: 0, signal: null });
    for (const [id, pid] of pids) {
      await waitFor(`node ${id} (pid ${pid}) to be gone`, () => (isAlive(pid) ? undefined : true), 5_000);
      expect(shutdownLines(run, id), `node ${id} did not shut down cleanly`).toEqual([
        'shutting down',
        'stopped',
      ]);
    }
  });
});
