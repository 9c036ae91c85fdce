// What the bench reads off a node: disk use of its data dir, its memory, its metrics, its logs,
// and a few HTTP probes (readiness, status, reads).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterStatus } from '../../src/domain/cluster-status.js';
import { codeOf, urlOf } from './workload.js';

/** Bytes under one directory: apparent (sum of file sizes) and allocated (du). */
export interface DirBytes {
  apparent: number;
  allocated: number;
  files: number;
}

export interface DiskUsage {
  wal: DirBytes;
  db: DirBytes;
  snapshots: DirBytes;
  total: DirBytes;
}

async function dirBytes(dir: string): Promise<DirBytes> {
  const out: DirBytes = { apparent: 0, allocated: 0, files: 0 };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out; // not created (yet)
  }
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = await stat(path);
    } catch {
      continue; // deleted meanwhile (a freed WAL segment, a temporary snapshot)
    }
    if (st.isDirectory()) {
      const sub = await dirBytes(path);
      out.apparent += sub.apparent;
      out.allocated += sub.allocated;
      out.files += sub.files;
    } else {
      out.apparent += st.size;
      out.allocated += st.blocks * 512;
      out.files++;
    }
  }
  return out;
}

export async function diskUsage(dataDir: string): Promise<DiskUsage> {
  const [wal, db, snapshots] = await Promise.all(
    ['wal', 'db', 'snapshots'].map((d) => dirBytes(join(dataDir, d))),
  );
  const total = await dirBytes(dataDir);
  return { wal, db, snapshots, total };
}

export interface ProcessMemory {
  /** Resident set (VmRSS) and its peak (VmHWM). */
  rss: number;
  peakRss: number;
  /** Of rss: anonymous memory (heap, stacks) and file-backed pages (LMDB's mmap, counted once per
   * mapping: lmdb-js keeps earlier, smaller maps of data.mdb when it grows the map). */
  rssAnon: number;
  rssFile: number;
}

/** A process's memory, from /proc (bytes); `pid` 'self' for this process. */
export async function processMemory(pid: number | 'self'): Promise<ProcessMemory> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
}

/** The sum of a Prometheus metric's samples (all label sets). */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m && m[1] === name) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

export async function fetchMetrics(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}

export async function fetchStatus(baseUrl: string): Promise<ClusterStatus | undefined> {
  try {
    const res = await fetch(`${baseUrl}/cluster/status`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? ((await res.json()) as ClusterStatus) : undefined;
  } catch {
    return undefined;
  }
}

export async function isReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false; // not listening yet
  }
}

/**
 * Polls `check` every `intervalMs` until it returns a value; throws past `timeoutMs` or as soon
 * as `alive()` says the process is gone.
 */
export async function poll<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs: number; alive: () => boolean },
): Promise<T> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (!opts.alive()) throw new Error(`the node exited while waiting for ${what}`);
    if (performance.now() > deadline)
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}

/** The pino JSON lines of a node log whose msg is `msg`. */
export async function logLines(file: string, msg: string): Promise<Array<Record<string, unknown>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (rec.msg === msg) out.push(rec);
    } catch {
      // not JSON (e.g. a stack trace printed by node itself)
    }
  }
  return out;
}

/** The last lines of a log, for an error message. */
export async function logTail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface ReadCheck {
  live: { asked: number; found: number; wrong: number };
  deleted: { asked: number; found: number };
  ms: number;
  firstProblems: string[];
}

/**
 * Reads URLs numbered `live` (each must be found with its URL) and `deleted` (each must be 404)
 * from one node with GET /api/urls/:code (a local read), `concurrency` at a time.
 */
export async function checkReads(
  baseUrl: string,
  live: number[],
  deleted: number[],
  concurrency = 32,
): Promise<ReadCheck> {
  const result: ReadCheck = {
    live: { asked: live.length, found: 0, wrong: 0 },
    deleted: { asked: deleted.length, found: 0 },
    ms: 0,
    firstProblems: [],
  };
  const problem = (s: string): void => {
    if (result.firstProblems.length < 10) result.firstProblems.push(s);
  };
  const jobs: Array<{ n: number; expectLive: boolean }> = [
    ...live.map((n) => ({ n, expectLive: true })),
    ...deleted.map((n) => ({ n, expectLive: false })),
  ];
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const { n, expectLive } = jobs[next++];
      const code = codeOf(n);
      const res = await fetch(`${baseUrl}/api/urls/${code}`, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as { url?: string };
      if (expectLive) {
        if (res.status !== 200) problem(`live ${code} (#${n}): HTTP ${res.status}`);
        else if (body.url !== urlOf(n)) {
          result.live.wrong++;
          problem(`live ${code} (#${n}): wrong url ${body.url}`);
        } else result.live.found++;
      } else if (res.status !== 404) {
        result.deleted.found++;
        problem(`deleted ${code} (#${n}): HTTP ${res.status}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  result.ms = performance.now() - started;
  return result;
}

export function readCheckPassed(r: ReadCheck): boolean {
  return r.live.found === r.live.asked && r.deleted.found === 0;
}
