// POST /api/import — links from a file in the export's formats (JSON lines, or CSV with a header
// row), streamed: the body is read line by line, IMPORT_BATCH lines at a time, each link a create
// of its own through Raft (the bulk create's path, CREATE_CONCURRENCY in flight, so they share the
// leader's AppendEntries batches and fsyncs); reading waits while a batch commits.
//
// A link keeps its code (as an alias), target, expiry, tags and visit limit; createdAt becomes the
// import's instant (the leader decides every create's time). Idempotent: a re-run finds each code
// already holding the same URL (looked up on the leader before anything is proposed) and counts it
// as present, not as an error. The answer is a report:
// how many lines, imported, already present, skipped by reason, and the first MAX_REPORTED skipped
// lines with why (expired, a code taken by another URL, bad input, …).
//
// Leader only (409 with leaderUrl on a follower), with the write guard of every write.
import { createInterface } from 'node:readline';
import type { Express, RequestHandler } from 'express';
import { HttpError } from '../errors.js';
import { spoolBody } from '../spool-body.js';
import { parseInstant } from '../parse-instant.js';
import type { NodeApi } from '../node-api.js';
import { queryOf } from '../query-forwarding.js';
import type { LinkFormat } from '../link-formats.js';
import { validateLongUrl } from '../../shortener/validate-url.js';
import { inWindows, itemCreator, requireLeader, type BulkResult, type CreateDeps } from './bulk.js';

const IMPORT_BATCH = 256;
/** The largest file taken: some 10 million links of an export. */
export const IMPORT_MAX_BYTES = 1024 * 1024 * 1024;
const MAX_REPORTED = 100;
/** A line longer than this is no link this node could have exported. */
const MAX_LINE_CHARS = 16 * 1024;

export interface ImportReport {
  format: LinkFormat;
  lines: number;
  imported: number;
  alreadyPresent: number;
  skipped: number;
  reasons: Record<string, number>;
  skippedLines: Array<{ line: number; code?: string; error: string; message: string }>;
}

type Parsed = { item: Record<string, unknown> } | { error: string; message: string };

/** The format from ?format=, else the Content-Type. */
export function importFormat(url: string, contentType: string | undefined): LinkFormat {
  const asked = new URLSearchParams(queryOf(url)).get('format');
  if (asked === 'jsonl' || asked === 'csv') return asked;
  if (asked !== null) throw new HttpError(400, 'invalid_format', 'format must be "jsonl" or "csv"');
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (['application/x-ndjson', 'application/jsonl', 'application/json', 'text/plain'].includes(type))
    return 'jsonl';
  throw new HttpError(
    415,
    'unsupported_media_type',
    'send JSON lines (application/x-ndjson) or CSV (text/csv), or name the format with ?format=',
  );
}

/** One CSV record's fields (RFC 4180: quoted fields, doubled quotes); a link never spans lines. */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  const field = /(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/gy;
  for (let m = field.exec(line); m !== null && field.lastIndex <= line.length; m = field.exec(line)) {
    fields.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!);
    if (field.lastIndex === line.length) break;
  }
  return fields;
}

/** A link's fields as POST /shorten takes them; what only an export has (createdAt, alias) is dropped. */
function asCreate(fields: Record<string, unknown>, now: number): Parsed {
  const { url, code, expiresAt, tags, maxVisits } = fields;
  if (typeof url !== 'string' || url === '') return { error: 'missing_url', message: 'the line has no url' };
  const item: Record<string, unknown> = { url };
  if (code !== undefined && code !== '') item.alias = code;
  if (expiresAt !== undefined && expiresAt !== '') {
    const at = parseInstant(expiresAt);
    if (at !== undefined && at <= now)
      return { error: 'expired', message: 'the link expired before the import' };
    item.expiresAt = expiresAt;
  }
  if (typeof tags === 'string' && tags !== '') item.tags = tags.split(' ');
  else if (tags !== undefined && tags !== '') item.tags = tags;
  if (typeof maxVisits === 'string' && maxVisits !== '') item.maxVisits = Number(maxVisits);
  else if (maxVisits !== undefined && maxVisits !== '') item.maxVisits = maxVisits;
  return { item };
}

function lineParser(format: LinkFormat): (line: string) => Parsed | undefined {
  if (format === 'jsonl') {
    return (line) => {
      if (line.trim() === '') return undefined;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return { error: 'invalid_json', message: 'the line is not JSON' };
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { error: 'invalid_line', message: 'a line is one JSON object' };
      }
      return asCreate(value as Record<string, unknown>, Date.now());
    };
  }
  let columns: string[] | undefined;
  return (line) => {
    if (line.trim() === '') return undefined;
    const fields = csvFields(line);
    if (columns === undefined) {
      columns = fields.map((f) => f.trim());
      if (!columns.includes('url'))
        throw new HttpError(400, 'invalid_csv', 'the CSV header row has no "url" column');
      return undefined;
    }
    return asCreate(Object.fromEntries(columns.map((c, i) => [c, fields[i] ?? ''])), Date.now());
  };
}

export function registerImportRoute(
  app: Express,
  deps: CreateDeps & { node: Pick<NodeApi, 'status' | 'lookup'>; access: RequestHandler },
): void {
  const createOne = itemCreator(deps);
  const handler: RequestHandler = async (req, res) => {
    const format = importFormat(req.url, req.headers['content-type']);
    requireLeader(deps.node);
    const parse = lineParser(format);
    const report: ImportReport = {
      format,
      lines: 0,
      imported: 0,
      alreadyPresent: 0,
      skipped: 0,
      reasons: {},
      skippedLines: [],
    };
    const skip = (line: number, error: string, message: string, code?: unknown): void => {
      report.skipped++;
      report.reasons[error] = (report.reasons[error] ?? 0) + 1;
      if (report.skippedLines.length < MAX_REPORTED) {
        report.skippedLines.push({ line, ...(typeof code === 'string' && { code }), error, message });
      }
    };
    // A re-run: the code is there already, with this very link.
    const holdsSameUrl = (code: string, url: unknown): boolean => {
      const valid = validateLongUrl(url);
      return valid.ok && deps.node.lookup(code)?.url === valid.url;
    };
    const tally = (line: number, item: Record<string, unknown>, result: BulkResult): void => {
      if (result.status === 201) report.imported++;
      else if (result.status === 200) report.alreadyPresent++;
      else if (result.error === 'alias_taken' && holdsSameUrl(String(item.alias), item.url))
        report.alreadyPresent++;
      else skip(line, String(result.error), String(result.message), item.alias);
    };
    let batch: Array<{ line: number; item: Record<string, unknown> }> = [];
    const runBatch = async (): Promise<void> => {
      const results = await inWindows(batch, ({ item }, i) => createOne(item, i));
      results.forEach((result, i) => tally(batch[i]!.line, batch[i]!.item, result));
      batch = [];
    };
    // Received whole first: the creates may take longer than the node gives a client to send a
    // request (--request-timeout-ms), and the client is not kept waiting on Raft while it uploads.
    const body = await spoolBody(req, IMPORT_MAX_BYTES);
    try {
      await readLines(createInterface({ input: body.open(), crlfDelay: Infinity }));
    } finally {
      await body.dispose();
    }
    res.json(report);

    async function readLines(lines: AsyncIterable<string>): Promise<void> {
      for await (const text of lines) {
        const line = ++report.lines;
        if (text.length > MAX_LINE_CHARS) {
          skip(line, 'line_too_long', `a line is at most ${MAX_LINE_CHARS} characters`);
          continue;
        }
        const parsed = parse(line === 1 ? text.replace(/^\uFEFF/, '') : text);
        if (parsed === undefined) continue;
        if ('error' in parsed) {
          skip(line, parsed.error, parsed.message);
          continue;
        }
        // A re-run's links are found here, without a Raft round; a miss is proposed and apply decides.
        const { alias, url } = parsed.item;
        if (typeof alias === 'string' && holdsSameUrl(alias, url)) {
          report.alreadyPresent++;
          continue;
        }
        batch.push({ line, item: parsed.item });
        if (batch.length >= IMPORT_BATCH) await runBatch();
      }
      if (batch.length > 0) await runBatch();
    }
  };
  app.post('/api/import', deps.access, handler);
}
