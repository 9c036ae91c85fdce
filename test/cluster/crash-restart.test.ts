// kill -9 of all three nodes in the middle of a stream of concurrent writes, then a restart of all
// three on their data dirs: every write that was acknowledged (201/200) before the crash is there,
// and every node answers the same Location for the same code.
import { describe, expect, it } from 'vitest';
import { expectEveryAckOnEveryNode, request, shorten, useSharedCluster, waitFor } from './helpers.js';

const tc = useSharedCluster('crash');

const WRITERS = 8;
const MIN_ACKS = 300;

describe('kill -9 of every node and a restart', () => {
  it('keeps every acknowledged write, and all nodes agree on every code', async () => {
    const leader = tc.node((await tc.cluster.waitUntilConverged(30_000)).id);
    const run = Date.now().toString(36);

    // 8 clients write unique URLs back to back until the crash; only 201/200 answers count.
    const acked = new Map<string, string>(); // url → code
    const otherAnswers = new Map<string, number>();
    const mismatches: string[] = [];
    let stopWriting = false;
    let seq = 0;
    const writer = async (w: number) => {
      let target = leader.url;
      while (!stopWriting) {
        const url = `https://example.com/crash/${run}/${w}/${seq++}`;
        try {
          const res = await shorten(target, url, 5_000);
          if (res.status === 201 || res.status === 200) {
            if (res.body.url !== url) mismatches.push(`${url} answered as ${String(res.body.url)}`);
            acked.set(url, res.body.code as string);
          } else {
            const key = String(res.status);
            otherAnswers.set(key, (otherAnswers.get(key) ?? 0) + 1);
            if (res.status === 409 && typeof res.body.leaderUrl === 'string') target = res.body.leaderUrl;
          }
        } catch (err) {
          // Connection refused/reset once the nodes are killed: the write is not acknowledged.
          const key = (err as Error).name;
          otherAnswers.set(key, (otherAnswers.get(key) ?? 0) + 1);
          if (!stopWriting) await new Promise((r) => setTimeout(r, 20)); // retry pacing, not synchronisation
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

    await waitFor(
      `${MIN_ACKS} acknowledged writes`,
      () => (acked.size >= MIN_ACKS ? true : undefined),
      30_000,
    );
    // Writes are still in flight while every node dies at once.
    await tc.cluster.killAll();
    const ackedAtKill = new Map(acked);
    stopWriting = true;
    await Promise.all(writers);
    // An answer that was on its way when the nodes died can still arrive: it is an ack too.
    const acks = [...acked.entries()].map(([url, code]) => ({ url, code }));
    console.log(
      `crash-restart: ${acks.length} acknowledged writes (${ackedAtKill.size} when the kill returned); other outcomes: ${JSON.stringify(Object.fromEntries(otherAnswers))}`,
    );
    expect(acks.length).toBeGreaterThanOrEqual(MIN_ACKS);
    expect(mismatches).toEqual([]);
    expect(new Set(acks.map((a) => a.code)).size, 'two URLs got the same code').toBe(acks.length);
    for (const n of tc.cluster.nodes) expect(n.running).toBe(false);

    // Restart all three on their data dirs (no --join): they find each other and elect a leader.
    for (const id of [1, 2, 3]) tc.restart(id);
    const st = await tc.cluster.waitUntilConverged(30_000);
    const newLeader = tc.node(st.id);

    // Every acknowledged write resolves to its URL on every node.
    await expectEveryAckOnEveryNode(tc.cluster.nodes, acks);

    // The metadata agrees across nodes (a sample), and the acknowledged URLs keep their codes.
    for (const { url, code } of acks.slice(0, 40)) {
      const metas = await Promise.all(tc.cluster.nodes.map((n) => request(`${n.url}/api/urls/${code}`)));
      for (const m of metas) expect(m.status).toBe(200);
      const createdAts = new Set(metas.map((m) => m.body.createdAt));
      expect(createdAts.size, `createdAt of ${code} differs between nodes`).toBe(1);
      expect(metas[0].body.url).toBe(url);
    }
    for (const { url, code } of acks.slice(-5)) {
      const again = await shorten(newLeader.url, url);
      expect(again.status).toBe(200);
      expect(again.body.code).toBe(code);
    }
  });
});
