// A short chaos run in `npm test`: a real 3-node cluster behind the link proxies, concurrent clients,
// every kind of fault at least once; the history must check out (and be non-trivial).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../loadtest/chaos/report.js';
import { runChaos } from '../../loadtest/chaos/runner.js';
import { FAULT_KINDS } from '../../loadtest/chaos/nemesis.js';
import { isAlive, printLogTails } from '../cluster/helpers.js';

const SEED = Number(process.env.CHAOS_SEED ?? 20261121);

describe('chaos (short run)', () => {
  it('keeps every acknowledged write and stays linearizable under kill, pause, partition and restart', async () => {
    const result = await runChaos({
      nodes: 3,
      durationMs: 40_000,
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
    expect(result.check.stats.opsChecked).toBeGreaterThan(0);
    expect(result.proxyStats.connections).toBeGreaterThan(0);
    // Everything it started is gone, and so is its data.
    for (const pid of result.pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(result.dataRoot)).toBe(false);
  }, 180_000);
});
