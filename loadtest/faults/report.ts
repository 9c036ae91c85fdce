// Reports of a --cluster run: the usual vegeta-layout text (failed requests and the longest gap
// without a successful write are among its lines) followed by the cluster's own block — the faults
// as they happened, the failover times, the failed-request count and the final check of every
// acknowledged write on every node. --json gets the same as data, --html the plots with the markers.
import { formatGoDuration as d } from '../duration.js';
import { toJsonReport, type JsonReport } from '../report-json.js';
import { renderHtmlReport } from '../report-html.js';
import { formatTextReport } from '../report-text.js';
import type { ClusterRunResult } from './fault-run.js';

const line = (label: string, fields: string, values: string): string =>
  `${label.padEnd(14)}${fields.padEnd(34)}${values}`;
const indent = ' '.repeat(14);

/** The cluster block alone (also printed under the text in the HTML page). */
export function formatClusterBlock(r: ClusterRunResult): string {
  const out: string[] = [];
  const c = r.cluster;
  out.push(line('Cluster', '[nodes, data]', `${c.size}, ${c.dataRoot} (${c.dataKept ? 'kept' : 'removed'})`));
  if (r.faults.length > 0) {
    out.push(line('Faults', '[at, what]', '').trimEnd());
    for (const f of r.faults) {
      const when = f.firedAtMs === undefined ? `(${d(f.atMs)})` : d(Math.round(f.firedAtMs));
      const pid = f.pid === undefined ? '' : ` (pid ${f.pid})`;
      const note = f.note ? ` — ${f.note}` : '';
      out.push(`${indent}${when.padEnd(14)}${f.firedAtMs === undefined ? f.text : f.label}${pid}${note}`);
    }
  }
  const total = r.run.summary.requests;
  out.push(line('Failed', '[requests, of total]', `${r.failed}, ${total}`));
  for (const f of r.failovers) {
    const elected =
      f.electedAfterMs === undefined
        ? 'no new leader seen'
        : `node ${f.newLeaderNode} leads after ${d(round(f.electedAfterMs))}`;
    const ack =
      f.firstAckAfterMs === undefined
        ? 'no write acknowledged by another node before the end'
        : `first write acknowledged by the new leader after ${d(round(f.firstAckAfterMs))}`;
    out.push(
      line(
        'Failover',
        '[kill -9 leader -> new leader]',
        `node ${f.killedNode} at ${d(Math.round(f.killedAtMs))}: ${elected}, ${ack}`,
      ),
    );
  }
  for (const b of r.broughtBack) out.push(line('After the run', '[for the check]', b));
  const v = r.verification;
  if (!v) {
    out.push(
      line('Acked check', '[acked, nodes, missing]', r.interrupted ? 'skipped (interrupted)' : 'skipped'),
    );
  } else {
    out.push(
      line('Acked check', '[acked, nodes, missing]', `${v.acked}, ${v.nodes.length}, ${v.missingTotal}`),
    );
    out.push(
      line(
        'Catch-up',
        '[commit index, all applied after]',
        `${v.commitIndex}, ${v.catchUpMs === undefined ? 'not within the timeout' : d(round(v.catchUpMs))}`,
      ),
    );
    for (const n of v.nodes) {
      out.push(line('', '', `node ${n.id ?? '?'} ${n.url}: ${n.checked - n.missing}/${n.checked} readable`));
    }
    for (const m of v.missing) {
      out.push(
        line(
          'Missing',
          '',
          `${m.node}/${m.code} -> ${m.url}: got ${m.status}${m.location ? ` ${m.location}` : ''}`,
        ),
      );
    }
    if (v.missingTotal > v.missing.length)
      out.push(line('', '', `… and ${v.missingTotal - v.missing.length} more`));
  }
  return out.join('\n');
}

export function formatClusterText(r: ClusterRunResult): string {
  return `${formatTextReport(r.run)}\n\n${formatClusterBlock(r)}`;
}

export interface ClusterJsonReport extends JsonReport {
  cluster: ClusterRunResult['cluster'];
  faults: ClusterRunResult['faults'];
  failovers: ClusterRunResult['failovers'];
  failed: number;
  broughtBack: string[];
  verification: ClusterRunResult['verification'] | null;
  interrupted: boolean;
}

export function formatClusterJson(r: ClusterRunResult): string {
  const report: ClusterJsonReport = {
    ...toJsonReport(r.run),
    cluster: r.cluster,
    faults: r.faults,
    failovers: r.failovers,
    failed: r.failed,
    broughtBack: r.broughtBack,
    verification: r.verification ?? null,
    interrupted: r.interrupted,
  };
  // NaN (empty buckets) becomes null, as in the plain --json report.
  return JSON.stringify(
    report,
    (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  );
}

export function renderClusterHtml(r: ClusterRunResult, title = 'Fault-injection run'): string {
  return renderHtmlReport(r.run, title, formatClusterBlock(r));
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
