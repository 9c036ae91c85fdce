// A small seeded PRNG. Every random choice of the simulation (network faults, schedule, the cores'
// election timeouts) comes from one of these, all derived from the run's seed, so a seed replays a
// run exactly. Never use Math.random in test/raft/.

/** mulberry32: 32 bits of state, fast, and plenty good for picking schedules. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** splitmix32-style finalizer: turns (seed, label) into a well-mixed child seed. */
function mix(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export class Prng {
  private readonly nextFloat: () => number;

  constructor(readonly seed: number) {
    this.nextFloat = mulberry32(mix(seed));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextFloat();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Prng.pick from an empty list');
    return items[this.int(items.length)];
  }

  /** Picks a key with probability proportional to its weight (weights ≤ 0 are never picked). */
  weighted<K extends string>(weights: Record<K, number>): K {
    let total = 0;
    for (const k in weights) total += Math.max(0, weights[k]);
    if (total <= 0) throw new Error('Prng.weighted with no positive weight');
    let r = this.nextFloat() * total;
    let last: K | undefined;
    for (const k in weights) {
      const w = Math.max(0, weights[k]);
      if (w <= 0) continue;
      last = k;
      if (r < w) return k;
      r -= w;
    }
    return last as K;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /**
   * An independent stream for one consumer (say, node 3's election timer). Forking by label keeps
   * streams apart: a consumer drawing more numbers does not shift what the others draw.
   */
  fork(label: number): Prng {
    return new Prng(mix((this.seed ^ mix(label + 0x9e3779b9)) >>> 0));
  }
}
