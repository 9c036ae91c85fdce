// The text report, laid out exactly like `vegeta report` so that users can compare runs of the two
// tools side by side; our extra figures follow in a separate block below vegeta's.
import { formatGoDuration as d } from './duration.js';
import type { RunResult } from './run.js';
import type { Summary } from './summary.js';

const line = (label: string, fields: string, values: string): string =>
  `${label.padEnd(14)}${fields.padEnd(34)}${values}`;

export function formatVegetaText(s: Summary): string {
  const l = s.latencies;
  const codes = Object.entries(s.statusCodes)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([code, count]) => `${code}:${count}`)
    .join('  ');
  return [
    line(
      'Requests',
      '[total, rate, throughput]',
      `${s.requests}, ${s.rate.toFixed(2)}, ${s.throughput.toFixed(2)}`,
    ),
    line(
      'Duration',
      '[total, attack, wait]',
      [s.duration.total, s.duration.attack, s.duration.wait].map(d).join(', '),
    ),
    line(
      'Latencies',
      '[min, mean, 50, 90, 95, 99, max]',
      [l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.max].map(d).join(', '),
    ),
    line('Bytes In', '[total, mean]', `${s.bytesIn.total}, ${s.bytesIn.mean.toFixed(2)}`),
    line('Bytes Out', '[total, mean]', `${s.bytesOut.total}, ${s.bytesOut.mean.toFixed(2)}`),
    line('Success', '[ratio]', `${(s.success * 100).toFixed(2)}%`),
    line('Status Codes', '[code:count]', codes),
    'Error Set:',
    ...s.errors,
  ].join('\n');
}

/** vegeta's block, then a header saying what was run and our extras (per kind, hops, loader lag). */
export function formatTextReport(r: RunResult): string {
  const o = r.options;
  const s = r.summary;
  const what =
    o.mode === 'rate'
      ? `open loop at ${o.rate} req/s for ${d(o.durationMs)}`
      : `closed loop, ${o.connections} connections, ${d(o.durationMs)}`;
  const mix =
    o.mix.read === 0 ? 'writes' : o.mix.write === 0 ? 'reads' : `mix write=${o.mix.write},read=${o.mix.read}`;
  const extra: string[] = [];
  for (const [kind, k] of Object.entries(s.byKind)) {
    const l = k.latencies;
    extra.push(
      line(
        kind === 'write' ? 'Writes' : 'Reads',
        '[total, success, 50, 99, max]',
        `${k.requests}, ${((k.ok / k.requests) * 100).toFixed(2)}%, ${d(l.p50)}, ${d(l.p99)}, ${d(l.max)}`,
      ),
    );
  }
  if (s.byKind.write) {
    extra.push(line('Leader hops', '[writes redirected, hops]', `${s.hops.writes}, ${s.hops.total}`));
    extra.push(line('Write gap', '[longest without success]', d(s.longestWriteGap)));
  }
  extra.push(
    line('Loader lag', '[50, 99, max]', [s.sendLag.p50, s.sendLag.p99, s.sendLag.max].map(d).join(', ')),
  );
  return [`# ${mix}, ${what}; leader ${r.leaderUrl}`, formatVegetaText(s), '', ...extra].join('\n');
}
