// GET /openapi.json: an OpenAPI 3.1 description of this node's HTTP API, built once per app with
// the service's public address and the node's own URL as its servers. The operations are in
// openapi-paths.ts, the shared schemas and credentials in openapi-schemas.ts;
// test/http/openapi.test.ts keeps them and the app's routes (and the README's API table) in step.
import type { Express } from 'express';
import { methodNotAllowed } from './error-middleware.js';
import { paths } from './openapi-paths.js';
import { extraPaths } from './openapi-paths-extra.js';
import { headers, responses, schemas, securitySchemes } from './openapi-schemas.js';

export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, unknown>>;
};

export const HTTP_METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'] as const;

/** `publicUrl`: this node's own URL; `shortUrlBase`: the service's public address, when it has one. */
export function openApiDocument(publicUrl: string, shortUrlBase?: string): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'raft-url-shortener',
      version: '1',
      description:
        'A replicated URL shortener. Writes go to the leader (a follower answers 409 with leaderUrl); ' +
        'every node serves reads. Every error is JSON {error, message}.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: servers(publicUrl, shortUrlBase),
    tags: [
      { name: 'urls', description: 'Short URLs: create, resolve, read, delete.' },
      { name: 'cluster', description: 'Membership and status.' },
      { name: 'operations', description: 'Health, readiness, metrics, this document.' },
      { name: 'web', description: 'The web page.' },
    ],
    paths: withInternalErrors(mergePaths(paths, extraPaths)),
    components: { schemas, headers, responses, securitySchemes },
  };
}

/** The public address first (what users should call), then this node's own when it differs. */
function servers(publicUrl: string, shortUrlBase: string | undefined): Array<Record<string, string>> {
  const own = { url: publicUrl.replace(/\/+$/, ''), description: 'This node' };
  const base = shortUrlBase?.replace(/\/+$/, '');
  if (base === undefined || base === own.url) return [own];
  return [{ url: base, description: 'The service (every node, behind its load balancer)' }, own];
}

/** The operations of both tables; a path in both gets the methods of both. */
function mergePaths(
  a: Record<string, Record<string, unknown>>,
  b: Record<string, Record<string, unknown>>,
): Record<string, Record<string, unknown>> {
  const out = { ...a };
  for (const [path, item] of Object.entries(b)) out[path] = { ...out[path], ...item };
  return out;
}

/** Any operation can fail unexpectedly: the error handler answers 500 `internal` for all of them. */
function withInternalErrors(all: Record<string, Record<string, unknown>>): OpenApiDocument['paths'] {
  const out: OpenApiDocument['paths'] = {};
  for (const [path, item] of Object.entries(all)) {
    out[path] = { ...item };
    for (const method of HTTP_METHODS) {
      const op = item[method] as { responses: Record<string, unknown> } | undefined;
      if (op === undefined) continue;
      out[path][method] = {
        ...op,
        responses: {
          ...op.responses,
          '500': op.responses['500'] ?? { $ref: '#/components/responses/Internal' },
        },
      };
    }
  }
  return out;
}

export function registerOpenApiRoute(app: Express, publicUrl: string, shortUrlBase?: string): void {
  // Serialized once: the document does not change while the node runs.
  const body = JSON.stringify(openApiDocument(publicUrl, shortUrlBase));
  app
    .route('/openapi.json')
    .get((_req, res) => {
      res.type('json').send(body);
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
}
