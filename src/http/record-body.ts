// A short URL as the JSON API shows it (GET and PATCH /api/urls/:code, the list): instants as
// RFC 3339 strings, optional fields only when set.
import type { UrlRecord } from '../domain/records.js';
import type { ShortUrlOf } from './short-url.js';

export function recordBody(record: UrlRecord, shortUrlOf: ShortUrlOf): Record<string, unknown> {
  const body: Record<string, unknown> = {
    code: record.code,
    url: record.url,
    shortUrl: shortUrlOf(record.code),
    createdAt: new Date(record.createdAt).toISOString(),
  };
  if (record.expiresAt !== undefined) body.expiresAt = new Date(record.expiresAt).toISOString();
  if (record.alias) body.alias = true;
  if (record.tags !== undefined && record.tags.length > 0) body.tags = record.tags;
  if (record.maxVisits !== undefined) body.maxVisits = record.maxVisits;
  return body;
}
