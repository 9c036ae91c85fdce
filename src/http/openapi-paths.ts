// The operations of the OpenAPI document, one entry per route and method the app registers
// (test/http/openapi.test.ts walks the app's router and checks both ways). Statuses follow the
// handlers: src/http/routes/*.ts, errors.ts (the error table), body.ts (400/413/415), auth.ts.
import { MAX_NODE_ID } from '../common/node-id.js';
import { clusterSecurity, writeSecurity } from './openapi-schemas.js';

type Json = Record<string, unknown>;

export const ref = (kind: 'schemas' | 'responses' | 'headers', name: string): Json => ({
  $ref: `#/components/${kind}/${name}`,
});
export const json = (schema: Json): Json => ({ 'application/json': { schema } });
const html = { 'text/html': { schema: { type: 'string' } } };
export const errorWith = (description: string, ...codes: string[]): Json => ({
  description,
  content: json({
    allOf: [ref('schemas', 'Error'), { properties: { error: { type: 'string', examples: codes } } }],
  }),
});

const codeParam: Json = {
  name: 'code',
  in: 'path',
  required: true,
  description: 'A generated code or an alias: 1–64 of 0-9 A-Z a-z _ -.',
  schema: { type: 'string' },
};
const consistencyParams: Json[] = [
  {
    name: 'consistency',
    in: 'query',
    description: 'local (default): this node’s copy; linearizable: sees every write acknowledged before it.',
    schema: { enum: ['local', 'linearizable'] },
  },
  {
    name: 'X-Consistency',
    in: 'header',
    description: 'The same, as a header.',
    schema: { enum: ['local', 'linearizable'] },
  },
];
const readErrors: Json = {
  '400': errorWith('consistency is neither local nor linearizable.', 'invalid_consistency'),
  '404': ref('responses', 'NotFound'),
  '410': ref('responses', 'Expired'),
  '503': ref('responses', 'Unavailable'),
  '504': ref('responses', 'Timeout'),
};
const redirect = (note: string): Json => ({
  description: `Redirect to the long URL (${note}).`,
  headers: { Location: ref('headers', 'Location'), 'Cache-Control': ref('headers', 'CacheControl') },
});
const redirectResponses: Json = {
  '301': redirect('with --redirect-status 301'),
  '302': redirect('the default'),
  '307': redirect('with --redirect-status 307'),
  '308': redirect('with --redirect-status 308'),
  ...readErrors,
};

const shortened = (description: string): Json => ({
  description,
  headers: { 'Idempotent-Replayed': ref('headers', 'IdempotentReplayed') },
  content: { ...json(ref('schemas', 'ShortUrl')), ...html },
});

export const paths: Record<string, Json> = {
  '/': {
    get: {
      operationId: 'webPage',
      tags: ['web'],
      summary: 'The web page: a form to shorten a URL.',
      responses: { '200': { description: 'The page.', content: html } },
    },
  },
  '/shorten': {
    post: {
      operationId: 'shorten',
      tags: ['urls'],
      summary: 'Create a short URL (leader only).',
      description:
        'The same URL again (no alias, no expiry) gets the same code (200). A browser form post ' +
        '(Accept preferring text/html) is answered with the web page instead of JSON, and on a ' +
        'follower with 307 to the leader’s /shorten instead of the 409.',
      security: writeSecurity,
      parameters: [
        {
          name: 'Idempotency-Key',
          in: 'header',
          description:
            'A retry with the same key and body gets the first answer again (Idempotent-Replayed: true); the same key with another body → 422.',
          schema: { type: 'string', pattern: '^[\\x20-\\x7e]{1,255}$' },
        },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: ref('schemas', 'ShortenRequest') },
          'application/x-www-form-urlencoded': { schema: ref('schemas', 'ShortenForm') },
          'text/plain': { schema: { type: 'string', description: 'Just the URL.' } },
        },
      },
      responses: {
        '200': shortened('The URL already had a code (a plain create): that code.'),
        '201': shortened('A new short URL.'),
        '307': {
          description: 'A browser form post reached a follower: the browser posts it again to the leader.',
          headers: { Location: ref('headers', 'Location') },
          content: html,
        },
        '400': errorWith(
          'Bad input; nothing changed.',
          'missing_url',
          'invalid_url',
          'invalid_alias',
          'invalid_expiry',
          'invalid_tags',
          'invalid_max_visits',
          'invalid_idempotency_key',
          'invalid_json',
          'invalid_body',
        ),
        '401': ref('responses', 'Unauthorized'),
        '403': {
          description: 'The URL’s host (or a domain above it) is on the node’s --blocked-hosts.',
          content: json({
            allOf: [
              ref('schemas', 'Error'),
              {
                required: ['host'],
                properties: { error: { const: 'host_blocked' }, host: { type: 'string' } },
              },
            ],
          }),
        },
        '409': {
          description: 'Not the leader (follow leaderUrl), or the alias is taken (no leaderUrl).',
          content: json({ oneOf: [ref('schemas', 'NotLeader'), ref('schemas', 'AliasTaken')] }),
        },
        '413': ref('responses', 'PayloadTooLarge'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '422': errorWith('The Idempotency-Key was used with another request.', 'idempotency_key_reused'),
        '429': ref('responses', 'RateLimited'),
        '500': ref('responses', 'Internal'),
        '503': ref('responses', 'Unavailable'),
        '504': ref('responses', 'Timeout'),
        '507': ref('responses', 'InsufficientStorage'),
      },
    },
    options: {
      operationId: 'shortenPreflight',
      tags: ['web'],
      summary: 'CORS preflight, for the web page of another member of the cluster.',
      description: 'Origins that are not a member’s http URL get the 405 of any other method.',
      responses: {
        '204': { description: 'The member’s page may POST here and read the answer.' },
        '405': errorWith('Not a preflight from a member’s page.', 'method_not_allowed'),
      },
    },
  },
  '/{code}': {
    parameters: [codeParam],
    get: {
      operationId: 'resolve',
      tags: ['urls'],
      summary: 'Redirect to the long URL (any node).',
      description:
        'With --forward-query the request’s query (except consistency) is appended to the long URL’s.',
      parameters: consistencyParams,
      responses: redirectResponses,
    },
    head: {
      operationId: 'resolveHead',
      tags: ['urls'],
      summary: 'As GET, without a body.',
      parameters: consistencyParams,
      responses: redirectResponses,
    },
  },
  '/api/urls': {
    get: {
      operationId: 'listUrls',
      tags: ['urls'],
      security: writeSecurity,
      summary: 'The short URLs, newest first, a page at a time (any node, from its own copy).',
      description:
        'Cursor pagination over an index by creation time: a page never shifts under concurrent writes. A search (q) reads at most 2,000 index entries per page, so a page may hold fewer than limit links and still a nextCursor; the list ends when nextCursor is null.',
      parameters: [
        {
          name: 'limit',
          in: 'query',
          description: 'Links per page (default 50).',
          schema: { type: 'integer', minimum: 1, maximum: 1000 },
        },
        {
          name: 'cursor',
          in: 'query',
          description: 'The nextCursor of the previous page, as it was given.',
          schema: { type: 'string' },
        },
        { name: 'tag', in: 'query', description: 'Only links with this tag.', schema: { type: 'string' } },
        {
          name: 'q',
          in: 'query',
          description: 'Only links whose code or URL contains this text (case-insensitive).',
          schema: { type: 'string', maxLength: 200 },
        },
      ],
      responses: {
        '200': { description: 'One page.', content: json(ref('schemas', 'UrlPage')) },
        '401': ref('responses', 'Unauthorized'),
        '400': errorWith(
          'A bad limit, cursor, tag or q.',
          'invalid_limit',
          'invalid_cursor',
          'invalid_tags',
          'invalid_query',
        ),
      },
    },
  },
  '/api/urls/{code}': {
    parameters: [codeParam],
    get: {
      operationId: 'getUrl',
      tags: ['urls'],
      summary: 'The record of a short URL (any node).',
      parameters: consistencyParams,
      responses: {
        '200': { description: 'The record.', content: json(ref('schemas', 'UrlRecord')) },
        ...readErrors,
      },
    },
    patch: {
      operationId: 'editUrl',
      tags: ['urls'],
      summary: 'Change a short URL’s target, tags, expiry or visit limit (leader only); seen on every node.',
      description:
        'One replicated command: the code, createdAt and visit statistics stay. Validation is the create’s; a refused edit changes nothing. An edit sets values, so a retry leaves the same record.',
      security: writeSecurity,
      requestBody: { required: true, content: json(ref('schemas', 'EditRequest')) },
      responses: {
        '200': { description: 'The record as it is now.', content: json(ref('schemas', 'UrlRecord')) },
        '400': errorWith(
          'Bad input; nothing changed.',
          'invalid_edit',
          'invalid_url',
          'invalid_expiry',
          'invalid_tags',
          'invalid_max_visits',
          'invalid_json',
        ),
        '401': ref('responses', 'Unauthorized'),
        '403': errorWith('The new URL’s host is on the node’s --blocked-hosts.', 'host_blocked'),
        '404': ref('responses', 'NotFound'),
        '409': ref('responses', 'NotLeader'),
        '410': ref('responses', 'Expired'),
        '413': ref('responses', 'PayloadTooLarge'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '429': ref('responses', 'RateLimited'),
        '503': ref('responses', 'Unavailable'),
        '504': ref('responses', 'Timeout'),
        '507': ref('responses', 'InsufficientStorage'),
      },
    },
    delete: {
      operationId: 'deleteUrl',
      tags: ['urls'],
      summary: 'Delete a short URL (leader only): afterwards 404 on every node.',
      security: writeSecurity,
      responses: {
        '204': { description: 'Deleted.' },
        '401': ref('responses', 'Unauthorized'),
        '404': ref('responses', 'NotFound'),
        '409': ref('responses', 'NotLeader'),
        '429': ref('responses', 'RateLimited'),
        '503': ref('responses', 'Unavailable'),
        '504': ref('responses', 'Timeout'),
        '507': ref('responses', 'InsufficientStorage'),
      },
    },
  },
  '/cluster/snapshot': {
    get: {
      operationId: 'backup',
      tags: ['cluster'],
      summary: 'A backup: a consistent snapshot of this node’s URL store, streamed.',
      description: 'Restore it with `node dist/cmd/node.js --restore-from <file>`.',
      security: clusterSecurity,
      responses: {
        '200': {
          description: 'The snapshot, in the snapshot file format.',
          headers: {
            'X-Raft-Index': {
              required: true,
              description: 'The Raft index it is as of.',
              schema: { type: 'string' },
            },
            'X-Raft-Term': {
              required: true,
              description: 'The term of that entry.',
              schema: { type: 'string' },
            },
            'Content-Disposition': { schema: { type: 'string' } },
          },
          content: {
            'application/octet-stream': {
              schema: { type: 'string', contentMediaType: 'application/octet-stream' },
            },
          },
        },
        '401': ref('responses', 'Unauthorized'),
        '403': errorWith('No cluster token is set and the caller is not on this machine.', 'protected_mode'),
      },
    },
  },
  '/cluster/status': {
    get: {
      operationId: 'clusterStatus',
      tags: ['cluster'],
      summary: 'This node’s view of the cluster.',
      responses: {
        '200': {
          description: 'Role, term, leader, indexes, members.',
          content: json(ref('schemas', 'ClusterStatus')),
        },
        '500': ref('responses', 'Internal'),
      },
    },
  },
  '/cluster/join': {
    post: {
      operationId: 'joinCluster',
      tags: ['cluster'],
      summary: 'Add a node as a learner (leader only); it is promoted to voter once caught up.',
      security: clusterSecurity,
      requestBody: { required: true, content: json(ref('schemas', 'JoinRequest')) },
      responses: {
        '200': { description: 'The membership.', content: json(ref('schemas', 'Members')) },
        '400': ref('responses', 'BadRequest'),
        '401': ref('responses', 'Unauthorized'),
        '403': errorWith('No cluster token is set and the caller is not on this machine.', 'protected_mode'),
        '409': {
          description: 'Not the leader (follow leaderUrl), or another membership change is pending.',
          content: json({
            oneOf: [
              ref('schemas', 'NotLeader'),
              {
                allOf: [
                  ref('schemas', 'Error'),
                  { properties: { error: { const: 'membership_change_in_progress' } } },
                ],
              },
            ],
          }),
        },
        '413': ref('responses', 'PayloadTooLarge'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '503': ref('responses', 'Unavailable'),
        '504': ref('responses', 'Timeout'),
      },
    },
  },
  '/cluster/members/{id}': {
    parameters: [
      {
        name: 'id',
        in: 'path',
        required: true,
        schema: { type: 'integer', minimum: 1, maximum: MAX_NODE_ID },
      },
    ],
    delete: {
      operationId: 'removeMember',
      tags: ['cluster'],
      summary: 'Remove a member (leader only).',
      security: clusterSecurity,
      responses: {
        '200': { description: 'The membership.', content: json(ref('schemas', 'Members')) },
        '400': ref('responses', 'BadRequest'),
        '401': ref('responses', 'Unauthorized'),
        '403': errorWith('No cluster token is set and the caller is not on this machine.', 'protected_mode'),
        '409': ref('responses', 'NotLeader'),
        '503': ref('responses', 'Unavailable'),
        '504': ref('responses', 'Timeout'),
      },
    },
  },
  '/cluster/visits': {
    post: {
      operationId: 'acceptVisitBatch',
      tags: ['cluster'],
      summary: 'Internal: a follower hands the leader its batch of visit counts (leader only).',
      security: clusterSecurity,
      requestBody: { required: true, content: json(ref('schemas', 'VisitBatch')) },
      responses: {
        '200': { description: 'Proposed and applied.', content: json(ref('schemas', 'VisitBatchOutcome')) },
        '400': ref('responses', 'BadRequest'),
        '401': ref('responses', 'Unauthorized'),
        '403': errorWith('No cluster token is set and the caller is not on this machine.', 'protected_mode'),
        '409': ref('responses', 'NotLeader'),
        '413': errorWith('The batch is over 1 MiB.', 'payload_too_large'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '503': ref('responses', 'Unavailable'),
        '504': ref('responses', 'Timeout'),
        '507': ref('responses', 'InsufficientStorage'),
      },
    },
  },
  '/healthz': {
    get: {
      operationId: 'health',
      tags: ['operations'],
      summary: 'Liveness: 200 while the process serves.',
      responses: { '200': { description: 'Alive.', content: json(ref('schemas', 'Health')) } },
    },
  },
  '/readyz': {
    get: {
      operationId: 'ready',
      tags: ['operations'],
      summary: 'Readiness: knows a leader and has applied what the leader had committed.',
      responses: {
        '200': { description: 'Ready.', content: json(ref('schemas', 'Health')) },
        '503': {
          description: 'Not ready yet.',
          headers: { 'Retry-After': ref('headers', 'RetryAfter') },
          content: json(ref('schemas', 'NotReady')),
        },
      },
    },
  },
  '/readyz/redirects': {
    get: {
      operationId: 'readyForRedirects',
      tags: ['operations'],
      summary:
        'Readiness for a load balancer: can serve redirects (caught up once since start, not shutting down); ' +
        'stays 200 during an election or a lost quorum.',
      responses: {
        '200': { description: 'Serving redirects.', content: json(ref('schemas', 'Health')) },
        '503': {
          description: 'Not caught up yet, or shutting down.',
          headers: { 'Retry-After': ref('headers', 'RetryAfter') },
          content: json(ref('schemas', 'NotReady')),
        },
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      tags: ['operations'],
      summary: 'Prometheus metrics (when the node keeps them, as cmd/node.js does).',
      responses: {
        '200': {
          description: 'Prometheus text format.',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openapi',
      tags: ['operations'],
      summary: 'This document.',
      responses: { '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) } },
    },
  },
};
