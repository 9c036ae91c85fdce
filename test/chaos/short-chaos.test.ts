// A short chaos run in `npm test`: a real 3-node cluster behind the link proxies, concurrent clients,
// every kind of fault at least once (the nemesis deals kinds in rounds: the first five faults are
// one of each, whatever the timing), membership changes included; the history must check out (and
// be non-trivial), and the final checks read the members at the end.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../loadtest/chaos/report.js';
import { runChaos } from '../../loadtest/chaos/runner.js';
import { FAULT_KINDS } from '../../loadtest/chaos/nemesis.js';
import { isAlive, printLogTails } from '../cluster/helpers.js';

const SEED = Number(process.env.CHAOS_SEED ?? 20261121);

describe('chaos (short run)', () => {
  it('keeps every acknowledged write and stays linearizable under kill, pause, partition, restart and membership changes', async () => {
    const result = await runChaos({
      nodes: 3,
      durationMs: 36_000,
      faults: [...FAULT_KINDS],
      seed: SEED,
      clients: 4,
      gapMs: [300, 1_500],
      faultMs: [500, 3_000],
    });
    const summary = formatSummary(result);
    console.log(summary);
    if (result.verdict !== 'valid' && result.dataKept)
      printLogTails(result.dataRoot, `chaos seed ${SEED}: ${result.verdict}`);

    expect(result.error).toBeUndefined();
    expect(result.verdict, summary).toBe('valid');
    // A non-trivial history: hundreds of operations of every type, every fault kind.
    const c = result.counts;
    expect(result.ops.filter((o) => o.phase === 'run').length).toBeGreaterThanOrEqual(200);
    expect(c.creates.ok).toBeGreaterThanOrEqual(50);
    expect(c.linearizableReads.ok).toBeGreaterThanOrEqual(50);
    expect(c.localReads.ok).toBeGreaterThanOrEqual(50);
    expect(c.finalReads).toBeGreaterThanOrEqual(3 * 50); // every code on every node
    for (const kind of FAULT_KINDS)
      expect(result.faultsByKind[kind], `${kind} faults`).toBeGreaterThanOrEqual(1);
    // A membership change really happened (a member removed, one added back) and is in the summary.
    const changes = result.faults.filter((f) => f.kind === 'membership');
    expect(changes.filter((f) => f.note?.includes('error:')).map((f) => f.note)).toEqual([]);
    expect(
      changes.some((f) =>
        f.note?.match(/removed in .*a voter and caught up|a voter and caught up.*removed in/),
      ),
    ).toBe(true);
    expect(summary).toMatch(/^faults: .*membership [1-9]/m);
    expect(summary).toMatch(/^members: /m);
    expect(result.members.final).toHaveLength(3);
    expect(result.check.stats.opsChecked).toBeGreaterThan(0);
    expect(result.proxyStats.connections).toBeGreaterThan(0);
    // Everything it started is gone, and so is its data.
    for (const pid of result.pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(result.dataRoot)).toBe(false);
  }, 180_000);
});
