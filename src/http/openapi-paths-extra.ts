// The operations of the portability and convenience routes (the seed's POST /, QR codes, bulk
// create, export, import), kept apart from openapi-paths.ts; openapi.ts merges both tables.
import { errorWith, json, ref } from './openapi-paths.js';
import { writeSecurity } from './openapi-schemas.js';
import { BULK_MAX_ITEMS } from './routes/bulk.js';
import { QR_MAX_SIZE, QR_MIN_SIZE } from './routes/qr.js';

type Json = Record<string, unknown>;

const seedShortUrl: Json = {
  type: 'object',
  required: ['url', 'redirectsTo'],
  properties: {
    url: { type: 'string', format: 'uri', description: 'The short URL.' },
    redirectsTo: { type: 'string', format: 'uri', description: 'The long URL, normalized.' },
  },
};

/** The answers every write may give besides its own. */
const writeFailures: Json = {
  '401': ref('responses', 'Unauthorized'),
  '409': ref('responses', 'NotLeader'),
  '413': ref('responses', 'PayloadTooLarge'),
  '429': ref('responses', 'RateLimited'),
  '503': ref('responses', 'Unavailable'),
  '504': ref('responses', 'Timeout'),
  '507': ref('responses', 'InsufficientStorage'),
};

const codeParam: Json = {
  name: 'code',
  in: 'path',
  required: true,
  description: 'A generated code or an alias.',
  schema: { type: 'string' },
};

const qrResponses: Json = {
  '200': {
    description: 'The QR code of the short URL.',
    headers: { 'Cache-Control': ref('headers', 'CacheControl') },
    content: {
      'image/svg+xml': { schema: { type: 'string' } },
      'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } },
    },
  },
  '400': errorWith('An option is out of range; nothing was drawn.', 'invalid_qr_option'),
  '404': ref('responses', 'NotFound'),
  '410': ref('responses', 'Expired'),
};

const qrParams: Json[] = [
  { name: 'format', in: 'query', schema: { enum: ['svg', 'png'], default: 'svg' } },
  {
    name: 'size',
    in: 'query',
    description: 'Width in pixels (default: 4 per module).',
    schema: { type: 'integer', minimum: QR_MIN_SIZE, maximum: QR_MAX_SIZE },
  },
  {
    name: 'margin',
    in: 'query',
    description: 'Quiet zone in modules.',
    schema: { type: 'integer', minimum: 0, maximum: 16, default: 4 },
  },
  {
    name: 'level',
    in: 'query',
    description: 'Error correction.',
    schema: { enum: ['L', 'M', 'Q', 'H'], default: 'M' },
  },
];

const bulkItem: Json = {
  oneOf: [
    { type: 'string', description: 'Just the URL.' },
    {
      allOf: [
        ref('schemas', 'ShortenRequest'),
        {
          properties: {
            idempotencyKey: {
              type: 'string',
              description: 'As the Idempotency-Key header of POST /shorten.',
            },
          },
        },
      ],
    },
  ],
};

const bulkResult: Json = {
  type: 'object',
  required: ['index', 'status'],
  description:
    'The item’s own answer: what POST /shorten would have answered (code, shortUrl, url[, expiresAt], or error and message), with its status.',
  properties: {
    index: { type: 'integer', minimum: 0, description: 'The item’s position in the request.' },
    status: { type: 'integer', description: '201, 200, or the error’s status.' },
    code: { type: 'string' },
    shortUrl: { type: 'string', format: 'uri' },
    url: { type: 'string', format: 'uri' },
    expiresAt: { type: 'string', format: 'date-time' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
};

const exportResponses: Json = {
  '200': {
    description: 'Every link, streamed; the answer reflects the applied index in X-Raft-Index.',
    headers: {
      'X-Raft-Index': {
        description: 'The applied index the whole export reflects.',
        schema: { type: 'integer' },
      },
      'Content-Disposition': { schema: { type: 'string' } },
    },
    content: {
      'application/x-ndjson': {
        schema: {
          type: 'string',
          description:
            'One JSON object per line: {code, url, createdAt[, expiresAt][, alias][, tags][, maxVisits]}.',
        },
      },
      'text/csv': {
        schema: {
          type: 'string',
          description: 'Header row code,url,createdAt,expiresAt,alias,tags,maxVisits.',
        },
      },
    },
  },
  '400': errorWith('format is neither jsonl nor csv.', 'invalid_format'),
  '401': ref('responses', 'Unauthorized'),
};

const exportOperation = (operationId: string, summary: string): Json => ({
  operationId,
  tags: ['urls'],
  summary,
  security: writeSecurity,
  parameters: [{ name: 'format', in: 'query', schema: { enum: ['jsonl', 'csv'], default: 'jsonl' } }],
  responses: exportResponses,
});

const importReport: Json = {
  type: 'object',
  required: ['format', 'lines', 'imported', 'alreadyPresent', 'skipped', 'reasons', 'skippedLines'],
  properties: {
    format: { enum: ['jsonl', 'csv'] },
    lines: { type: 'integer', description: 'Lines read (the CSV header row included).' },
    imported: { type: 'integer', description: 'Links created.' },
    alreadyPresent: { type: 'integer', description: 'Links the cluster already had (a re-run).' },
    skipped: { type: 'integer' },
    reasons: {
      type: 'object',
      additionalProperties: { type: 'integer' },
      description: 'Skipped lines by error code.',
    },
    skippedLines: {
      type: 'array',
      maxItems: 100,
      description: 'The first skipped lines and why.',
      items: {
        type: 'object',
        required: ['line', 'error', 'message'],
        properties: {
          line: { type: 'integer' },
          code: { type: 'string' },
          error: { type: 'string' },
          message: { type: 'string' },
        },
      },
    },
  },
};

export const extraPaths: Record<string, Json> = {
  '/api/import': {
    post: {
      operationId: 'importLinks',
      tags: ['urls'],
      summary: 'Import links in the export formats, streamed; idempotent on re-run (leader only).',
      description:
        'Each link keeps its code (as an alias), target, expiry, tags and visit limit; createdAt is the import’s. ' +
        'A code already holding the same URL counts as present; anything else refused is skipped with its reason.',
      security: writeSecurity,
      parameters: [{ name: 'format', in: 'query', schema: { enum: ['jsonl', 'csv'] } }],
      requestBody: {
        required: true,
        content: {
          'application/x-ndjson': { schema: { type: 'string' } },
          'text/csv': { schema: { type: 'string' } },
        },
      },
      responses: {
        '200': { description: 'The report.', content: json(importReport) },
        '400': errorWith('A bad format or CSV header; nothing imported.', 'invalid_format', 'invalid_csv'),
        '415': ref('responses', 'UnsupportedMediaType'),
        ...writeFailures,
      },
    },
  },
  '/api/export': {
    get: exportOperation(
      'exportLinks',
      'Every link of this node’s copy as JSON lines or CSV, consistent as of one applied index (any node; API key when set).',
    ),
    head: exportOperation('exportLinksHead', 'As GET, without a body.'),
  },
  '/api/urls/bulk': {
    post: {
      operationId: 'bulkShorten',
      tags: ['urls'],
      summary: `Create up to ${BULK_MAX_ITEMS} short URLs in one request, each answered on its own (leader only).`,
      description:
        'Each item is a POST /shorten of its own (validation, dedup, alias, expiry, idempotency). ' +
        'Refused as a whole only when the list itself is bad, by the write guard, or off the leader.',
      security: writeSecurity,
      requestBody: {
        required: true,
        content: json({
          oneOf: [
            {
              type: 'object',
              required: ['urls'],
              properties: { urls: { type: 'array', items: bulkItem, minItems: 1, maxItems: BULK_MAX_ITEMS } },
            },
            { type: 'array', items: bulkItem, minItems: 1, maxItems: BULK_MAX_ITEMS },
          ],
        }),
      },
      responses: {
        '200': {
          description: 'One result per item, in the request’s order.',
          content: json({
            type: 'object',
            required: ['results'],
            properties: { results: { type: 'array', items: bulkResult } },
          }),
        },
        '400': errorWith(
          'Not a list of 1 to ' + BULK_MAX_ITEMS + ' items; nothing created.',
          'invalid_bulk',
          'invalid_json',
        ),
        '415': ref('responses', 'UnsupportedMediaType'),
        ...writeFailures,
      },
    },
  },
  '/api/urls/{code}/qr': {
    parameters: [codeParam],
    get: {
      operationId: 'qrCode',
      tags: ['urls'],
      summary: 'A QR code of the short URL, SVG or PNG (any node).',
      parameters: qrParams,
      responses: qrResponses,
    },
    head: {
      operationId: 'qrCodeHead',
      tags: ['urls'],
      summary: 'As GET, without a body.',
      parameters: qrParams,
      responses: qrResponses,
    },
  },
  '/': {
    post: {
      operationId: 'seedShorten',
      tags: ['urls'],
      summary: 'Create a short URL the way the Go shortener did (leader only).',
      description:
        'The long URL is the whole raw body, whatever its Content-Type (or none). Otherwise as ' +
        'POST /shorten: same validation, Idempotency-Key, limits and errors; 201 for a new code, 200 ' +
        'when the URL already had one.',
      security: writeSecurity,
      requestBody: {
        required: true,
        content: { '*/*': { schema: { type: 'string', description: 'Just the URL.' } } },
      },
      responses: {
        '200': { description: 'The URL already had a code: that one.', content: json(seedShortUrl) },
        '201': { description: 'A new short URL.', content: json(seedShortUrl) },
        '400': errorWith(
          'Bad input; nothing changed.',
          'missing_url',
          'invalid_url',
          'invalid_idempotency_key',
        ),
        '403': errorWith('The URL’s host is on the node’s --blocked-hosts.', 'host_blocked'),
        '415': errorWith('The body’s charset is not supported.', 'unsupported_media_type'),
        '422': errorWith('The Idempotency-Key was used with another request.', 'idempotency_key_reused'),
        ...writeFailures,
      },
    },
  },
};
