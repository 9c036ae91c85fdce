// GET /api/export — every link of this node's copy, streamed as JSON lines (default) or CSV
// (?format=csv), consistent as of one applied index: the whole answer comes from one LMDB read
// transaction (X-Raft-Index names the index), however long the client takes to read it. Any node
// answers; like every read, a follower may be a little behind the leader (compare X-Raft-Index).
// A dump of every link is more than a read of one: it needs the API key when the node has one.
//
// The body is written in chunks of about CHUNK_CHARS, waiting for 'drain' whenever the socket's
// buffer is full, so memory stays flat and a slow client only holds the read transaction open
// (the node's idle timeout ends a client that stops reading).
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Express, RequestHandler } from 'express';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import { CSV_HEADER, csvRow, jsonLine, LINK_FORMATS, type LinkFormat } from '../link-formats.js';
import type { NodeApi } from '../node-api.js';
import { queryOf } from '../query-forwarding.js';

const CHUNK_CHARS = 64 * 1024;

export function exportFormat(url: string): LinkFormat {
  const format = new URLSearchParams(queryOf(url)).get('format') ?? 'jsonl';
  if (format === 'jsonl' || format === 'csv') return format;
  throw new HttpError(400, 'invalid_format', 'format must be "jsonl" or "csv"');
}

/** Resolves when the socket takes more, false when the response ended first (client gone). */
async function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return false;
  const [event] = await Promise.race([
    once(res, 'drain').then(() => ['drain']),
    once(res, 'close').then(() => ['close']),
  ]);
  return event === 'drain';
}

export function registerExportRoute(
  app: Express,
  deps: { node: Pick<NodeApi, 'exportLinks'>; readAccess: RequestHandler },
): void {
  const exportLinks: RequestHandler = async (req, res) => {
    const format = exportFormat(req.url);
    const snapshot = await deps.node.exportLinks();
    try {
      const { contentType, extension } = LINK_FORMATS[format];
      res.status(200);
      res.set({
        'Content-Type': contentType,
        'Content-Disposition': `attachment; filename="links-${snapshot.index}.${extension}"`,
        'Cache-Control': 'no-store',
        'X-Raft-Index': String(snapshot.index),
      });
      const line = format === 'csv' ? csvRow : jsonLine;
      let chunk = format === 'csv' ? CSV_HEADER : '';
      for (const record of snapshot.records()) {
        chunk += line(record);
        if (chunk.length < CHUNK_CHARS) continue;
        const more = res.write(chunk);
        chunk = '';
        if (!more && !(await drained(res))) return;
      }
      res.end(chunk);
    } finally {
      snapshot.close();
    }
  };
  app
    .route('/api/export')
    .get(deps.readAccess, exportLinks)
    .all(methodNotAllowed(['GET', 'HEAD']));
}
