// The outputs of a chaos run: a text summary and an HTML page with an SVG timeline of every
// operation (one lane per client, final probes left out) and every fault.
import { describeOp } from './checker.js';
import type { Op } from './history.js';
import { ALL_FAULT_KINDS } from './nemesis.js';
import type { ChaosResult } from './runner.js';

const s = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;
const fmt = (r: Record<string, number>): string =>
  `${r.ok + r.failed + r.unknown} (ok ${r.ok}, failed ${r.failed}, unknown ${r.unknown})`;

export function formatSummary(r: ChaosResult): string {
  const o = r.options;
  const out: string[] = [];
  out.push(
    `chaos run: seed ${o.seed}, ${o.nodes} nodes, ${o.clients} clients, ${s(r.runMs)} under faults (${o.faults.join(',')})${o.bugs?.length ? `, PLANTED BUGS: ${o.bugs.join(',')}` : ''}`,
  );
  out.push(`verdict:             ${r.verdict.toUpperCase()}${r.error ? ` (${r.error})` : ''}`);
  out.push(`creates:             ${fmt(r.counts.creates)}`);
  out.push(`linearizable reads:  ${fmt(r.counts.linearizableReads)}`);
  out.push(`local reads:         ${fmt(r.counts.localReads)}`);
  out.push(
    `after healing:       ${r.counts.finalProbes} probe creates, ${r.counts.finalReads} reads (every code on every node)`,
  );
  out.push(
    `faults:              ${r.faults.length} (${Object.entries(r.faultsByKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')})`,
  );
  const variants = Object.entries(r.faultsByVariant);
  if (variants.length > 0)
    out.push(`  by variant:        ${variants.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const f of r.faults) {
    out.push(
      `  ${s(f.startMs).padStart(8)}–${f.endMs === undefined ? '?' : s(f.endMs)}  ${f.label}${f.note ? ` (${f.note})` : ''}`,
    );
  }
  const { initial, final } = r.members;
  out.push(
    `members:             ${initial.join(',')} at the start, ${final.length > 0 ? final.join(',') : '?'} at the end${initial.join() === final.join() ? '' : ' (the final checks read these)'}`,
  );
  out.push(
    `longest write gap:   ${s(r.writeGap.ms)} (from ${s(r.writeGap.fromMs)} to ${s(r.writeGap.toMs)})`,
  );
  if (r.writeGap.during) out.push(`  creates sent then:  ${r.writeGap.during}`);
  const c = r.check.stats;
  out.push(
    `checker:             ${c.opsChecked} ops in ${c.codePartitions} code and ${c.urlPartitions} URL partitions, ${c.searchSteps} search steps, ${c.checkMs} ms`,
  );
  out.push(
    `proxies:             ${r.proxyStats.connections} connections (${r.proxyStats.unidentified} unidentified), ${r.proxyStats.resets} reset by faults`,
  );
  if (r.check.inconclusive.length > 0)
    out.push(`inconclusive:        ${r.check.inconclusive.slice(0, 10).join('; ')}`);
  if (r.check.violations.length > 0) {
    const byCheck = new Map<string, number>();
    for (const v of r.check.violations) byCheck.set(v.check, (byCheck.get(v.check) ?? 0) + 1);
    out.push(
      `violations:          ${r.check.violations.length} (${[...byCheck].map(([k, n]) => `${k} ${n}`).join(', ')})`,
    );
    for (const v of r.check.violations.slice(0, 5)) {
      const lines = v.message.split('\n');
      out.push(
        `  - [${v.check}] ${lines.slice(0, 16).join('\n')}${lines.length > 16 ? `\n    … ${lines.length - 16} more lines` : ''}`,
      );
    }
    if (r.check.violations.length > 5) out.push(`  … ${r.check.violations.length - 5} more`);
  }
  if (r.files.history) out.push(`history:             ${r.files.history}`);
  if (r.files.logs) out.push(`node logs:           ${r.files.logs}`);
  if (r.dataKept) out.push(`data dirs kept:      ${r.dataRoot}`);
  if (r.files.html) out.push(`timeline:            ${r.files.html}`);
  return out.join('\n');
}

const esc = (t: string): string =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function colour(o: Op): string {
  if (o.outcome === 'failed') return '#d9534f';
  if (o.outcome === 'unknown') return '#f0ad4e';
  if (o.kind === 'create') return '#2e8b57';
  return o.consistency === 'linearizable' ? '#337ab7' : '#9ecae1';
}

/** At most this many operations are drawn: every one that failed, timed out or is in a violation, then a sample of the rest. */
const MAX_DRAWN = 20_000;

export function renderHtml(r: ChaosResult): string {
  const bad = new Set(r.check.violations.flatMap((v) => v.ops));
  const all = r.ops.filter((o) => o.phase === 'run');
  let ops = all;
  let sampled = '';
  if (all.length > MAX_DRAWN) {
    const keep = all.filter((o) => o.outcome !== 'ok' || bad.has(o.id));
    const rest = all.filter((o) => o.outcome === 'ok' && !bad.has(o.id));
    const stride = Math.ceil(rest.length / Math.max(1, MAX_DRAWN - keep.length));
    ops = [...keep, ...rest.filter((_, i) => i % stride === 0)];
    sampled = ` Drawn: ${ops.length} of ${all.length} operations (every one not ok or in a violation, 1 in ${stride} of the rest).`;
  }
  const t0 = Math.min(...ops.map((o) => o.invokeMs), ...r.faults.map((f) => f.startMs), 0);
  const t1 = Math.max(
    ...ops.map((o) => (Number.isFinite(o.completeMs) ? o.completeMs : o.invokeMs)),
    ...r.faults.map((f) => f.endMs ?? f.startMs),
    t0 + 1,
  );
  const width = 1400;
  const left = 110;
  const x = (t: number): number => left + ((t - t0) / (t1 - t0)) * (width - left - 10);
  const lane = 16;
  const clients = r.options.clients;
  const faultTop = 20;
  const faultLanes = new Map<string, number>(ALL_FAULT_KINDS.map((k, i) => [k, i]));
  const opsTop = faultTop + faultLanes.size * lane + 20;
  const height = opsTop + clients * lane + 40;
  const parts: string[] = [];
  // Time grid every 5 s.
  for (let t = Math.ceil(t0 / 5000) * 5000; t <= t1; t += 5000) {
    parts.push(`<line x1="${x(t)}" y1="10" x2="${x(t)}" y2="${height - 20}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x(t)}" y="${height - 5}" font-size="10" text-anchor="middle">${(t / 1000).toFixed(0)}s</text>`,
    );
  }
  for (const [k, i] of faultLanes) {
    const n = r.faultsByKind[k];
    parts.push(
      `<text x="4" y="${faultTop + i * lane + 11}" font-size="11">${k}${n === undefined ? '' : ` (${n})`}</text>`,
    );
  }
  for (const f of r.faults) {
    const i = faultLanes.get(f.kind) ?? 0;
    const x1 = x(f.startMs);
    const x2 = Math.max(x(f.endMs ?? f.startMs), x1 + 2);
    parts.push(
      `<rect x="${x1}" y="${opsTop - 10}" width="${x2 - x1}" height="${clients * lane + 10}" fill="#f5e6ff" opacity="0.5"/>`,
      `<rect x="${x1}" y="${faultTop + i * lane}" width="${x2 - x1}" height="${lane - 3}" fill="#8e44ad"><title>${esc(`${s(f.startMs)}–${f.endMs === undefined ? '?' : s(f.endMs)} ${f.label}${f.note ? ` (${f.note})` : ''}`)}</title></rect>`,
    );
    // Steps inside a fault (a member removed, stopped, a new one a voter): a tick each.
    for (const e of f.events ?? []) {
      parts.push(
        `<rect x="${x(e.atMs) - 1}" y="${faultTop + i * lane - 2}" width="3" height="${lane + 1}" fill="#000"><title>${esc(`${s(e.atMs)} ${e.what}`)}</title></rect>`,
      );
    }
  }
  for (let c = 0; c < clients; c++)
    parts.push(`<text x="4" y="${opsTop + c * lane + 11}" font-size="11">client ${c}</text>`);
  for (const o of ops) {
    if (o.client < 0) continue;
    const x1 = x(o.invokeMs);
    const end = Number.isFinite(o.completeMs) ? o.completeMs : t1;
    const w = Math.max(x(end) - x1, 1);
    const y = opsTop + o.client * lane;
    const stroke = bad.has(o.id) ? ' stroke="#000" stroke-width="2"' : '';
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${lane - 4}" fill="${colour(o)}"${stroke}><title>${esc(describeOp(o))}</title></rect>`,
    );
  }
  const gap = r.writeGap;
  parts.push(
    `<rect x="${x(gap.fromMs)}" y="${opsTop - 14}" width="${Math.max(x(gap.toMs) - x(gap.fromMs), 1)}" height="3" fill="#000"><title>longest write gap ${s(gap.ms)}</title></rect>`,
  );
  const legend = [
    ['#2e8b57', 'create ok'],
    ['#337ab7', 'linearizable read ok'],
    ['#9ecae1', 'local read ok'],
    ['#d9534f', 'failed'],
    ['#f0ad4e', 'unknown (timeout)'],
    ['#8e44ad', 'fault'],
    ['#000', 'a step of a membership change'],
  ]
    .map(([c, t]) => `<span style="display:inline-block;width:12px;height:12px;background:${c}"></span> ${t}`)
    .join(' &nbsp; ');
  const violations = r.check.violations
    .slice(0, 50)
    .map((v) => `<li><b>${esc(v.check)}</b> ${esc(v.key)}<pre>${esc(v.message)}</pre></li>`)
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>chaos seed ${r.options.seed}: ${r.verdict}</title>
<style>body{font-family:sans-serif;margin:20px} pre{background:#f6f6f6;padding:8px;overflow-x:auto}</style></head>
<body>
<h1>Chaos run, seed ${r.options.seed}: ${r.verdict.toUpperCase()}</h1>
<pre>${esc(formatSummary(r))}</pre>
<p>${legend} &nbsp; (black outline: an operation in a violation; black bar: the longest write gap; hover for details).${sampled}</p>
<div style="overflow-x:auto"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
${parts.join('\n')}
</svg></div>
${violations ? `<h2>Violations</h2><ul>${violations}</ul>` : ''}
</body></html>
`;
}
