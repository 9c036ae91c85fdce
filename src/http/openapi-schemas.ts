// The reusable parts of the OpenAPI document: JSON schemas of bodies, headers, canned error
// responses, and the two credentials (the API key for writes, the cluster token for membership).
// The schemas are JSON Schema 2020-12, as OpenAPI 3.1 uses it; `required` lists what every answer
// carries, and objects stay open (more fields may be added without breaking clients).

import { MAX_NODE_ID } from '../common/node-id.js';
import { ALIAS_TAKEN, NO_LEADER, NOT_LEADER, UNAVAILABLE } from '../domain/errors.js';
import { ALIAS_SYNTAX, MAX_TTL_SECONDS } from '../domain/link-rules.js';
import { MAX_HTTP_URL_LENGTH, MAX_RAFT_ADDR_LENGTH } from './join-request.js';

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const string = (description: string, extra: Json = {}): Json => ({ type: 'string', description, ...extra });
const dateTime = (description: string): Json => string(description, { format: 'date-time' });

const errorCodes = (...codes: string[]): Json => ({ type: 'string', examples: codes });

export const schemas: Record<string, Json> = {
  Error: {
    type: 'object',
    description: 'Every error is JSON: a machine code and a sentence for humans; some errors add fields.',
    required: ['error', 'message'],
    properties: {
      error: string('Machine-readable code, e.g. invalid_url, not_found, expired, no_leader.'),
      message: string('What went wrong, for humans.'),
    },
  },
  NotLeader: {
    type: 'object',
    description:
      'A write reached a follower. Send it again to leaderUrl (clients and the join script follow it).',
    required: ['message', 'leaderId', 'leaderUrl'],
    properties: {
      error: { const: NOT_LEADER },
      message: { type: 'string' },
      leaderId: { type: 'integer', minimum: 1 },
      leaderUrl: string("The leader's base URL.", { format: 'uri' }),
    },
  },
  AliasTaken: {
    type: 'object',
    description: 'The alias belongs to another live short URL. Not a redirect to the leader: no leaderUrl.',
    required: ['error', 'message', 'alias'],
    properties: {
      error: { const: ALIAS_TAKEN },
      message: { type: 'string' },
      alias: { type: 'string' },
    },
  },
  Expired: {
    type: 'object',
    required: ['error', 'message', 'expiresAt'],
    properties: {
      error: { const: 'expired' },
      message: { type: 'string' },
      expiresAt: dateTime('When the short URL expired.'),
    },
  },
  VisitLimitReached: {
    type: 'object',
    required: ['error', 'message', 'maxVisits'],
    properties: {
      error: { const: 'visit_limit_reached' },
      message: { type: 'string' },
      maxVisits: { type: 'integer' },
    },
  },
  ShortenRequest: {
    type: 'object',
    required: ['url'],
    properties: {
      url: string('The long URL: http or https, at most 8 KiB.', { format: 'uri', maxLength: 8192 }),
      alias: string('A custom code: 3–64 of 0-9 A-Z a-z _ -, case-sensitive, not a route name.', {
        pattern: ALIAS_SYNTAX.source,
      }),
      ttlSeconds: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_TTL_SECONDS,
        description: 'Expire this many seconds after the leader accepts the create (1 s … 10 years).',
      },
      expiresAt: {
        oneOf: [
          dateTime(
            'Expire at this instant (RFC 3339, with Z or an offset), in the future, at most 10 years ahead.',
          ),
          string('The same as a date (midnight UTC); a day that does not exist is refused.', {
            format: 'date',
          }),
          { type: 'integer', minimum: 0, description: 'The same, in milliseconds since the epoch.' },
        ],
      },
      tags: ref('Tags'),
      maxVisits: ref('MaxVisits'),
    },
    description:
      'ttlSeconds and expiresAt exclude each other. With tags or maxVisits the create always makes a new code.',
  },
  Tags: {
    description:
      'Up to 10 distinct tags of 1–32 characters of a-z 0-9 _ - . (upper case is lowered; stored sorted). An array, or one comma-separated string.',
    oneOf: [
      { type: 'array', maxItems: 10, items: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,32}$' } },
      { type: 'string' },
    ],
  },
  MaxVisits: {
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000_000,
    description:
      'After this many visits the short URL answers 410 visit_limit_reached (see the README for the exact guarantee).',
  },
  EditRequest: {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    description:
      'The fields to change; absent ones stay. null removes an expiry or a visit limit; null or [] removes the tags. ttlSeconds and expiresAt exclude each other.',
    properties: {
      url: string('The new long URL (the same rules as on create).', { format: 'uri', maxLength: 8192 }),
      tags: { oneOf: [ref('Tags'), { type: 'null' }] },
      ttlSeconds: {
        type: 'integer',
        minimum: 1,
        maximum: 315_360_000,
        description: 'Expire this many seconds after the leader accepts the edit.',
      },
      expiresAt: {
        oneOf: [
          dateTime('Expire at this instant (RFC 3339), in the future, at most 10 years ahead.'),
          string('The same as a date (midnight UTC).', { format: 'date' }),
          { type: 'integer', minimum: 0, description: 'The same, in milliseconds since the epoch.' },
          { type: 'null', description: 'Never expire.' },
        ],
      },
      maxVisits: { oneOf: [ref('MaxVisits'), { type: 'null' }] },
    },
  },
  ShortenForm: {
    type: 'object',
    required: ['url'],
    description: 'The same fields as form fields (what the web page posts); numbers as digits.',
    properties: {
      url: { type: 'string' },
      alias: { type: 'string' },
      ttlSeconds: { type: 'string', pattern: '^\\d+$' },
      expiresAt: { type: 'string' },
      tags: { type: 'string', description: 'Comma-separated.' },
      maxVisits: { type: 'string', pattern: '^\\d+$' },
    },
  },
  ShortUrl: {
    type: 'object',
    required: ['code', 'shortUrl', 'url'],
    properties: {
      code: { type: 'string' },
      shortUrl: string("This node's public URL + / + code.", { format: 'uri' }),
      url: string('The long URL, normalized.', { format: 'uri' }),
      expiresAt: dateTime('Present when the short URL expires.'),
      tags: { type: 'array', items: { type: 'string' }, description: 'Present when the link has tags.' },
      maxVisits: { type: 'integer', description: 'Present when the link has a visit limit.' },
    },
  },
  UrlRecord: {
    type: 'object',
    required: ['code', 'url', 'shortUrl', 'createdAt'],
    properties: {
      code: { type: 'string' },
      url: { type: 'string', format: 'uri' },
      shortUrl: { type: 'string', format: 'uri' },
      createdAt: dateTime('When the leader accepted the create.'),
      expiresAt: dateTime('Present when the short URL expires.'),
      alias: { const: true, description: 'Present (true) when the code is a custom alias.' },
      tags: {
        type: 'array',
        items: { type: 'string' },
        description: 'Present when the link has tags; sorted.',
      },
      maxVisits: { type: 'integer', description: 'Present when the link has a visit limit.' },
      visits: ref('Visits'),
    },
  },
  UrlPage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: ref('UrlRecord') },
      nextCursor: {
        type: ['string', 'null'],
        description: 'Pass as cursor for the next page; null: there is no more.',
      },
    },
  },
  Visits: {
    type: 'object',
    description:
      'Redirects served by every node, as replicated so far (nodes report in batches, about a second behind).',
    required: ['total', 'byDay'],
    properties: {
      total: { type: 'integer', minimum: 0 },
      byDay: {
        type: 'object',
        description: 'UTC date (YYYY-MM-DD) → visits, for the last 90 days.',
        additionalProperties: { type: 'integer', minimum: 0 },
      },
    },
  },
  VisitBatch: {
    type: 'object',
    description:
      "A follower's visit counts for the leader to propose. (origin, session, seq) identify it: a retry counts once.",
    required: ['origin', 'session', 'seq', 'visits'],
    properties: {
      origin: { type: 'integer', minimum: 1, description: 'The node that counted the visits.' },
      session: { type: 'integer', minimum: 0, description: "Random per run of that node's process." },
      seq: { type: 'integer', minimum: 1 },
      visits: {
        type: 'array',
        minItems: 1,
        maxItems: 5000,
        items: {
          type: 'array',
          description: '[code, createdAt (ms), day (days since 1970-01-01 UTC), count]',
          prefixItems: [{ type: 'string' }, { type: 'number' }, { type: 'integer' }, { type: 'integer' }],
          minItems: 4,
          maxItems: 4,
        },
      },
    },
  },
  VisitBatchOutcome: {
    type: 'object',
    required: ['applied', 'counted'],
    properties: {
      applied: { type: 'boolean', description: 'false: this batch was applied before; nothing counted now.' },
      counted: { type: 'integer', minimum: 0 },
    },
  },
  Member: {
    type: 'object',
    required: ['id', 'httpUrl', 'raftAddr', 'voter'],
    properties: {
      id: { type: 'integer', minimum: 1 },
      httpUrl: { type: 'string', format: 'uri' },
      raftAddr: string('host:port of its gRPC (Raft) endpoint.'),
      voter: { type: 'boolean', description: 'false: a learner, promoted once caught up.' },
      matchIndex: { type: 'integer', description: 'On the leader only.' },
    },
  },
  Members: {
    type: 'object',
    required: ['members'],
    properties: { members: { type: 'array', items: ref('Member') } },
  },
  ClusterStatus: {
    type: 'object',
    required: [
      'id',
      'clusterId',
      'role',
      'term',
      'leaderId',
      'leaderUrl',
      'commitIndex',
      'appliedIndex',
      'members',
    ],
    properties: {
      id: { type: 'integer' },
      clusterId: { type: 'string' },
      role: { enum: ['leader', 'follower', 'candidate', 'pre-candidate'] },
      term: { type: 'integer' },
      leaderId: { type: 'integer', description: '0 when no leader is known.' },
      leaderUrl: { type: ['string', 'null'] },
      commitIndex: { type: 'integer' },
      appliedIndex: { type: 'integer' },
      snapshotIndex: { type: 'integer', description: 'The log is compacted up to here.' },
      members: { type: 'array', items: ref('Member') },
    },
  },
  JoinRequest: {
    type: 'object',
    required: ['id', 'httpUrl', 'raftAddr'],
    properties: {
      id: { type: 'integer', minimum: 1, maximum: MAX_NODE_ID },
      httpUrl: string('The base URL clients and peers reach its HTTP API at.', {
        format: 'uri',
        maxLength: MAX_HTTP_URL_LENGTH,
      }),
      raftAddr: string('host:port of its gRPC endpoint.', { maxLength: MAX_RAFT_ADDR_LENGTH }),
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { enum: ['ok', 'ready'] } },
  },
  NotReady: {
    type: 'object',
    required: ['status', 'error', 'message'],
    properties: {
      status: { const: 'not_ready' },
      error: { const: 'not_ready' },
      message: { type: 'string' },
    },
  },
};

export const headers: Record<string, Json> = {
  RetryAfter: {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: { type: 'string', pattern: '^\\d+$' },
  },
  Location: { description: 'Where to go.', required: true, schema: { type: 'string', format: 'uri' } },
  CacheControl: { schema: { type: 'string' } },
  WWWAuthenticate: { schema: { const: 'Bearer' } },
  IdempotentReplayed: {
    description: 'true: this is the first answer to the same Idempotency-Key, repeated.',
    schema: { const: 'true' },
  },
};

const json = (schema: Json): Json => ({ content: { 'application/json': { schema } } });
const error = (description: string, codes: string[], extra: Json = {}): Json => ({
  description,
  ...json({ allOf: [ref('Error'), { properties: { error: errorCodes(...codes) } }] }),
  ...extra,
});

export const responses: Record<string, Json> = {
  BadRequest: error('Bad input; nothing changed.', ['invalid_request', 'invalid_json', 'bad_request']),
  Unauthorized: error(
    'The API key (writes) or the cluster token (cluster endpoints) is missing or wrong.',
    ['unauthorized'],
    {
      headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWWAuthenticate' } },
    },
  ),
  NotFound: error('No short URL has this code (never had, deleted, or purged after expiry).', ['not_found']),
  Expired: {
    description:
      'The short URL has expired (each node compares with its own clock), or, on a redirect, has reached its visit limit.',
    ...json({ oneOf: [ref('Expired'), ref('VisitLimitReached')] }),
  },
  NotLeader: {
    description: 'This node is not the leader: send the write to leaderUrl.',
    ...json(ref('NotLeader')),
  },
  PayloadTooLarge: error('The body is over the limit (16 KiB by default).', ['payload_too_large']),
  UnsupportedMediaType: error('The body is of a type this route does not take.', ['unsupported_media_type']),
  Unavailable: error(
    'No leader is known (an election is running), or the node is stopping.',
    [NO_LEADER, UNAVAILABLE],
    {
      headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
    },
  ),
  Timeout: error(
    'The write (or a linearizable read) did not complete in time. A write may still be applied: retrying it is safe with an Idempotency-Key, and for a plain create of the same URL.',
    ['commit_timeout'],
  ),
  Internal: error('Something unexpected failed; it is logged on the node.', ['internal']),
  InsufficientStorage: error(
    "This node's disk is below its free-space floor (--min-free-bytes): it takes no writes until space is freed; reads go on.",
    ['insufficient_storage'],
  ),
  RateLimited: {
    description: 'Too many writes from this client (--write-rate-limit): wait Retry-After seconds.',
    headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
    ...json({
      allOf: [
        ref('Error'),
        {
          required: ['retryAfterSeconds'],
          properties: {
            error: { const: 'rate_limited' },
            retryAfterSeconds: { type: 'integer', minimum: 1 },
          },
        },
      ],
    }),
  },
};

export const securitySchemes: Record<string, Json> = {
  apiKeyBearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'The API key (--api-key / API_KEY), needed by writes when the node is started with one.',
  },
  apiKeyHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Api-Key',
    description: 'The API key, in its own header.',
  },
  clusterTokenHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Cluster-Token',
    description:
      'The cluster token (--cluster-token / CLUSTER_TOKEN). Without one the node answers cluster endpoints from loopback only.',
  },
  clusterTokenBearer: { type: 'http', scheme: 'bearer', description: 'The cluster token as a Bearer token.' },
};

/** Writes: the API key, in either header, or nothing when the node has none. */
export const writeSecurity = [{ apiKeyBearer: [] }, { apiKeyHeader: [] }, {}];
/** Cluster endpoints: the cluster token, or nothing from loopback when the node has none. */
export const clusterSecurity = [{ clusterTokenHeader: [] }, { clusterTokenBearer: [] }, {}];
