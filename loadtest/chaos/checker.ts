// The checks of a chaos history (see history.ts), over the URL-map model:
//
// 1. Linearizability of creates and linearizable reads, partitioned per key (P-compositionality):
//    - per code c: a write-once register. A create(u) acknowledged with code c writes u (201: c was
//      unused before; 200: c already held u); a create(u) with an unknown outcome may write u (or
//      not); a linearizable read of c must return what the register holds (404 = nothing yet).
//      Unknown creates join the partition of c only for the URLs c is seen with.
//    - per URL u: the code u has. 201 needs "no code yet", 200 needs the same code as before; an
//      unknown create may have given u some code (or not).
//    A create touches both a URL and a code; checking each projection is what "partitioned per key"
//    buys, at the price of not searching for one linearization of both at once (the uniqueness
//    checks below tie them together).
// 2. Uniqueness: a code never maps to two URLs, a URL never gets two codes (over every ok create and
//    every read that returned a URL, whatever its consistency level).
// 3. Local reads may be stale but never wrong: a local read of c returns 404 or the one URL c maps
//    to, and never a URL nobody had asked to shorten by the time the read returned.
// Failed operations (certainly without effect) and reads without an answer are left out.
import type { CreateOp, Op, ReadOp } from './history.js';
import { checkLinearizable, type Model, type TimedOp } from './wgl.js';

export interface Violation {
  check: 'linearizability' | 'code-two-urls' | 'url-two-codes' | 'local-read' | 'final-state';
  /** The key (code or URL) the problem is about. */
  key: string;
  message: string;
  /** Operation ids involved (for the timeline and the saved history). */
  ops: number[];
}

export interface CheckReport {
  ok: boolean;
  violations: Violation[];
  /** Partitions whose search hit the step bound (neither proved nor refuted). */
  inconclusive: string[];
  stats: {
    codePartitions: number;
    urlPartitions: number;
    opsChecked: number;
    searchSteps: number;
    checkMs: number;
  };
}

export interface CheckOptions {
  /** Bound on the search per partition. */
  maxStepsPerPartition?: number;
}

type CodeOp =
  | { t: 'create'; url: string; outcome: 'ok'; created: boolean }
  | { t: 'create'; url: string; outcome: 'unknown' }
  | { t: 'read'; url: string | null };

/** Per code: null (unused) or the URL it maps to. */
export const codeModel: Model<string | null, CodeOp> = {
  init: null,
  key: (s) => (s === null ? '\u0000' : s),
  step(s, op) {
    switch (op.t) {
      case 'read':
        return s === op.url ? [s] : [];
      case 'create':
        if (op.outcome === 'unknown') return s === null ? [s, op.url] : [s];
        if (op.created) return s === null ? [op.url] : [];
        return s === op.url ? [s] : [];
    }
  },
};

type UrlOp = { outcome: 'ok'; created: boolean; code: string } | { outcome: 'unknown' };

/** Per URL: null (no code), '?' (some code, through a create whose answer was lost), or the code. */
export const urlModel: Model<string | null, UrlOp> = {
  init: null,
  key: (s) => (s === null ? '\u0000' : s),
  step(s, op) {
    if (op.outcome === 'unknown') return s === null ? [null, '?'] : [s];
    if (op.created) return s === null ? [op.code] : [];
    return s === op.code || s === '?' ? [op.code] : [];
  },
};

const UNANSWERED = Number.POSITIVE_INFINITY;

export function checkHistory(ops: Op[], o: CheckOptions = {}): CheckReport {
  const t0 = Date.now();
  const maxSteps = o.maxStepsPerPartition ?? 1_000_000;
  const violations: Violation[] = [];
  const inconclusive: string[] = [];
  const creates = ops.filter((x): x is CreateOp => x.kind === 'create');
  const reads = ops.filter((x): x is ReadOp => x.kind === 'read');
  const okCreates = creates.filter((c) => c.outcome === 'ok' && c.code !== undefined);
  const unknownCreates = creates.filter((c) => c.outcome === 'unknown');
  const answeredReads = reads.filter((r) => r.outcome === 'ok' && r.url !== undefined);
  const linReads = answeredReads.filter((r) => r.consistency === 'linearizable');
  const localReads = answeredReads.filter((r) => r.consistency === 'local');

  // ------------------------------------------------------------------ 2. uniqueness
  const urlsOfCode = new Map<string, Map<string, number[]>>(); // code -> url -> op ids
  const codesOfUrl = new Map<string, Map<string, number[]>>(); // url -> code -> op ids
  const note = (code: string, url: string, id: number): void => {
    let m = urlsOfCode.get(code);
    if (!m) urlsOfCode.set(code, (m = new Map()));
    m.set(url, [...(m.get(url) ?? []), id]);
    let n = codesOfUrl.get(url);
    if (!n) codesOfUrl.set(url, (n = new Map()));
    n.set(code, [...(n.get(code) ?? []), id]);
  };
  for (const c of okCreates) note(c.code!, c.url, c.id);
  for (const r of answeredReads) if (r.url) note(r.code, r.url, r.id);
  for (const [code, m] of urlsOfCode) {
    if (m.size > 1) {
      violations.push({
        check: 'code-two-urls',
        key: code,
        message: `code ${code} maps to ${m.size} URLs: ${[...m.keys()].join(', ')}`,
        ops: [...m.values()].flat().slice(0, 20),
      });
    }
  }
  for (const [url, m] of codesOfUrl) {
    if (m.size > 1) {
      violations.push({
        check: 'url-two-codes',
        key: url,
        message: `URL ${url} has ${m.size} codes: ${[...m.keys()].join(', ')}`,
        ops: [...m.values()].flat().slice(0, 20),
      });
    }
  }

  // ------------------------------------------------------------------ 3. local reads
  const firstCreateCall = new Map<string, number>(); // url -> earliest invoke of a create that was not refused
  for (const c of creates) {
    if (c.outcome === 'failed') continue;
    firstCreateCall.set(c.url, Math.min(firstCreateCall.get(c.url) ?? Infinity, c.invokeMs));
  }
  for (const r of localReads) {
    if (!r.url) continue;
    const known = urlsOfCode.get(r.code);
    const asked = firstCreateCall.get(r.url);
    if (asked === undefined || asked > r.completeMs) {
      violations.push({
        check: 'local-read',
        key: r.code,
        message:
          `local read #${r.id} of ${r.code} on node ${r.node} returned ${r.url}, which no create ` +
          `(other than refused ones) had asked for by then`,
        ops: [r.id],
      });
    } else if (known && known.size > 1) {
      // Already reported as code-two-urls; the local read is part of that evidence.
    }
  }

  // ------------------------------------------------------------------ 1. linearizability
  let steps = 0;
  let opsChecked = 0;
  const timed = <T>(op: T, x: Op): TimedOp<T> => ({
    op,
    call: x.invokeMs,
    ret: x.outcome === 'unknown' ? UNANSWERED : x.completeMs,
  });
  const unknownByUrl = new Map<string, CreateOp[]>();
  for (const c of unknownCreates) unknownByUrl.set(c.url, [...(unknownByUrl.get(c.url) ?? []), c]);

  // Per code.
  const group = <T extends Op>(xs: T[], key: (x: T) => string): Map<string, T[]> => {
    const m = new Map<string, T[]>();
    for (const x of xs) {
      const k = key(x);
      const list = m.get(k);
      if (list) list.push(x);
      else m.set(k, [x]);
    }
    return m;
  };
  const okByCode = group(okCreates, (c) => c.code!);
  const linReadsByCode = group(linReads, (r) => r.code);
  const codeKeys = new Set<string>([...okByCode.keys(), ...linReadsByCode.keys()]);
  for (const code of codeKeys) {
    const members: Op[] = [];
    const hist: Array<TimedOp<CodeOp>> = [];
    const urls = new Set<string>();
    for (const c of okByCode.get(code) ?? []) {
      urls.add(c.url);
      members.push(c);
      hist.push(timed({ t: 'create', url: c.url, outcome: 'ok', created: c.created === true }, c));
    }
    for (const r of linReadsByCode.get(code) ?? []) {
      if (r.url) urls.add(r.url);
      members.push(r);
      hist.push(timed({ t: 'read', url: r.url ?? null }, r));
    }
    for (const u of urls) {
      for (const c of unknownByUrl.get(u) ?? []) {
        members.push(c);
        hist.push(timed({ t: 'create', url: u, outcome: 'unknown' }, c));
      }
    }
    opsChecked += hist.length;
    const res = checkLinearizable(codeModel, hist, maxSteps);
    steps += res.steps;
    if (res.ok === 'timeout') inconclusive.push(`code ${code}`);
    else if (!res.ok) {
      violations.push({
        check: 'linearizability',
        key: `code ${code}`,
        message: explain(`code ${code}`, members, res.bestLinearization, res.stuckAt),
        ops: members.map((m) => m.id),
      });
    }
  }

  // Per URL.
  const createsByUrl = group(
    creates.filter((c) => c.outcome === 'unknown' || (c.outcome === 'ok' && c.code !== undefined)),
    (c) => c.url,
  );
  for (const [url, members] of createsByUrl) {
    const hist: Array<TimedOp<UrlOp>> = members.map((c) =>
      timed(
        c.outcome === 'ok'
          ? { outcome: 'ok', created: c.created === true, code: c.code! }
          : { outcome: 'unknown' },
        c,
      ),
    );
    if (hist.every((h) => h.op.outcome === 'unknown')) continue; // nothing observed
    opsChecked += hist.length;
    const res = checkLinearizable(urlModel, hist, maxSteps);
    steps += res.steps;
    if (res.ok === 'timeout') inconclusive.push(`url ${url}`);
    else if (!res.ok) {
      violations.push({
        check: 'linearizability',
        key: `url ${url}`,
        message: explain(`URL ${url}`, members, res.bestLinearization, res.stuckAt),
        ops: members.map((m) => m.id),
      });
    }
  }

  return {
    ok: violations.length === 0,
    violations,
    inconclusive,
    stats: {
      codePartitions: codeKeys.size,
      urlPartitions: createsByUrl.size,
      opsChecked,
      searchSteps: steps,
      checkMs: Date.now() - t0,
    },
  };
}

/** One line per operation of the failing partition, the longest linearizable prefix marked. */
function explain(what: string, members: Op[], best: number[], stuck: number[]): string {
  const order = new Map(best.map((i, k) => [i, k]));
  const lines = members
    .map((m, i) => ({ m, i }))
    .sort((a, b) => a.m.invokeMs - b.m.invokeMs)
    .slice(0, 40)
    .map(({ m, i }) => {
      const mark = order.has(i) ? `#${order.get(i)! + 1} ` : stuck.includes(i) ? 'STUCK ' : '';
      return `  ${mark.padEnd(6)}${describeOp(m)}`;
    });
  return `no linearization for ${what} (${members.length} ops; "#k": the longest order found, STUCK: returned before it could be placed):\n${lines.join('\n')}`;
}

export function describeOp(o: Op): string {
  const t = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(3)}s` : '∞');
  const span = `[${t(o.invokeMs)}, ${o.outcome === 'unknown' ? '∞' : t(o.completeMs)}]`;
  if (o.kind === 'create') {
    const res =
      o.outcome === 'ok'
        ? `${o.created ? '201' : '200'} ${o.code}`
        : `${o.outcome} (${o.status || o.error || ''})`;
    return `op ${o.id} ${span} client ${o.client} node ${o.node}: create ${o.url} -> ${res}`;
  }
  const res =
    o.outcome === 'ok'
      ? o.url === null
        ? '404'
        : `302 ${o.url}`
      : `${o.outcome} (${o.status || o.error || ''})`;
  return `op ${o.id} ${span} client ${o.client} node ${o.node}: ${o.consistency} read ${o.code} -> ${res}`;
}
