// The pure pieces of the load tool: durations, percentiles, histogram, mix interleaving, CLI flags,
// scatter thinning, options validation.
import { describe, expect, it } from 'vitest';
import { CLI_OPTIONS, parseCli, HELP } from '../../loadtest/args.js';
import { formatGoDuration, parseDuration } from '../../loadtest/duration.js';
import { defaultOptions } from '../../loadtest/options.js';
import { thinPoints } from '../../loadtest/report-html.js';
import { logHistogram, percentile, sortedCopy } from '../../loadtest/stats.js';
import { kindAt } from '../../loadtest/workload.js';

describe('durations', () => {
  it('parses CLI durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2')).toBe(2000);
    expect(() => parseDuration('10 seconds')).toThrow(/invalid duration/);
    expect(() => parseDuration('5sx')).toThrow(/invalid duration/);
  });

  it('formats like Go time.Duration.String()', () => {
    expect(formatGoDuration(0)).toBe('0s');
    expect(formatGoDuration(0.000512)).toBe('512ns');
    expect(formatGoDuration(0.354012)).toBe('354.012µs');
    expect(formatGoDuration(4.1)).toBe('4.1ms');
    expect(formatGoDuration(9949.883921)).toBe('9.949883921s');
    expect(formatGoDuration(1000)).toBe('1s');
    expect(formatGoDuration(90_500)).toBe('1m30.5s');
  });
});

describe('stats', () => {
  it('nearest-rank percentiles', () => {
    const s = sortedCopy(Array.from({ length: 100 }, (_, i) => 100 - i)); // 1..100
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 100)).toBe(100);
    expect(percentile(s, 0)).toBe(1);
    expect(percentile(sortedCopy([7]), 99)).toBe(7);
    expect(percentile(new Float64Array(0), 50)).toBeNaN();
  });

  it('log histogram keeps every sample, in increasing bins', () => {
    const values = sortedCopy([0, 0.2, 0.25, 1, 1, 3, 1000]);
    const bins = logHistogram(values);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(values.length);
    for (let i = 1; i < bins.length; i++) expect(bins[i].fromMs).toBeCloseTo(bins[i - 1].toMs);
    expect(bins[bins.length - 1].count).toBe(1); // the 1 s outlier has its own bar at the end
  });
});

describe('mix', () => {
  it('interleaves exact shares', () => {
    const kinds = Array.from({ length: 100 }, (_, i) => kindAt(i, { write: 20, read: 80 }));
    expect(kinds.filter((k) => k === 'write')).toHaveLength(20);
    // Evenly spread: every block of 5 has exactly one write.
    for (let b = 0; b < 100; b += 5)
      expect(kinds.slice(b, b + 5).filter((k) => k === 'write')).toHaveLength(1);
    expect(kindAt(7, { write: 1, read: 0 })).toBe('write');
    expect(kindAt(7, { write: 0, read: 1 })).toBe('read');
  });
});

describe('CLI flags', () => {
  it('open loop by default, with rate, duration and target', () => {
    const a = parseCli([
      '--rate',
      '1000',
      '--duration',
      '30s',
      '--target',
      'read',
      '--read-nodes',
      'followers',
    ]);
    expect(a.load).toMatchObject({
      mode: 'rate',
      rate: 1000,
      durationMs: 30_000,
      mix: { write: 0, read: 1 },
      readNodes: 'followers',
    });
  });

  it('max mode, sweeps, mixes and node lists', () => {
    expect(parseCli(['--max', '--connections', '64']).load).toMatchObject({ mode: 'max', connections: 64 });
    const s = parseCli([
      '--sweep',
      'connections=1,2,4',
      '--mix',
      'write=20,read=80',
      '--nodes',
      'http://127.0.0.1:1,http://127.0.0.1:2',
    ]);
    expect(s.sweep).toEqual([1, 2, 4]);
    expect(s.load).toMatchObject({
      mode: 'max',
      mix: { write: 20, read: 80 },
      nodes: ['http://127.0.0.1:1', 'http://127.0.0.1:2'],
    });
    expect(parseCli(['--read-nodes', 'http://127.0.0.1:9']).load.readNodes).toEqual(['http://127.0.0.1:9']);
  });

  it('rejects nonsense', () => {
    expect(() => parseCli(['--rate', '0'])).toThrow(/--rate/);
    expect(() => parseCli(['--rate', '10', '--max'])).toThrow(/cannot be combined/);
    expect(() => parseCli(['--sweep', 'rate=1,2'])).toThrow(/--sweep/);
    expect(() => parseCli(['--mix', 'write=x'])).toThrow(/--mix/);
    expect(() => parseCli(['--bogus'])).toThrow();
    expect(() => defaultOptions({ nodes: ['http://10.0.0.1:8081'] })).toThrow(/loopback/);
  });

  it('--help documents every flag', () => {
    for (const flag of Object.keys(CLI_OPTIONS).map((k) => `--${k}`)) {
      expect(HELP).toContain(`${flag} `); // the trailing space: --max must not be satisfied by --max-hops
    }
    expect(parseCli(['-h']).help).toBe(true);
  });
});

describe('scatter thinning', () => {
  it('bounds the point count but keeps the outliers', () => {
    const pts: Array<[number, number]> = Array.from({ length: 200_000 }, (_, i) => [
      i / 20_000,
      1 + (i % 97) / 97,
    ]);
    pts.push([5, 1000]);
    const out = thinPoints(pts, [0, 10], [0, 1000], 50_000);
    expect(out.length).toBeLessThanOrEqual(50_000);
    expect(out).toContainEqual([5, 1000]);
    const few: Array<[number, number]> = [[1, 1]];
    expect(thinPoints(few, [0, 10], [0, 10], 50_000)).toBe(few);
  });
});
