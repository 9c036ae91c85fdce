// The operations of the portability and convenience routes (the seed's POST /, QR codes, bulk
// create, export, import), kept apart from openapi-paths.ts; openapi.ts merges both tables.
import { errorWith, json, ref } from './openapi-paths.js';
import { writeSecurity } from './openapi-schemas.js';

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

export const extraPaths: Record<string, Json> = {
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
