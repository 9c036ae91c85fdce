// The two file formats of links, for export (and import): JSON lines, one object per link, and
// CSV (RFC 4180) with a header row. Instants are ISO 8601 in UTC; absent fields are omitted (JSON)
// or empty (CSV). Tags are a JSON array, or in CSV one field of tags separated by spaces (a tag
// has none).
import type { UrlRecord } from '../domain/records.js';

export type LinkFormat = 'jsonl' | 'csv';

export const LINK_FORMATS: Readonly<Record<LinkFormat, { contentType: string; extension: string }>> = {
  jsonl: { contentType: 'application/x-ndjson', extension: 'jsonl' },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
};

export const CSV_COLUMNS = ['code', 'url', 'createdAt', 'expiresAt', 'alias', 'tags', 'maxVisits'] as const;

/** One link as an export line (with its newline). */
export function jsonLine(record: UrlRecord): string {
  const line: Record<string, unknown> = {
    code: record.code,
    url: record.url,
    createdAt: new Date(record.createdAt).toISOString(),
  };
  if (record.expiresAt !== undefined) line.expiresAt = new Date(record.expiresAt).toISOString();
  if (record.alias) line.alias = true;
  if (record.tags !== undefined && record.tags.length > 0) line.tags = record.tags;
  if (record.maxVisits !== undefined) line.maxVisits = record.maxVisits;
  return JSON.stringify(line) + '\n';
}

export const CSV_HEADER = CSV_COLUMNS.join(',') + '\r\n';

export function csvRow(record: UrlRecord): string {
  return (
    [
      record.code,
      record.url,
      new Date(record.createdAt).toISOString(),
      record.expiresAt === undefined ? '' : new Date(record.expiresAt).toISOString(),
      record.alias ? 'true' : '',
      record.tags?.join(' ') ?? '',
      record.maxVisits === undefined ? '' : String(record.maxVisits),
    ]
      .map(csvField)
      .join(',') + '\r\n'
  );
}

/** A field quoted when it holds a comma, a quote or a line break (quotes doubled). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
