// The Express app of one node: wires the routes of each area, request logging and JSON errors.
// It only talks to the node through NodeApi, so tests run it against an in-memory fake.
import express from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { requireClusterAccess } from './auth.js';
import { DEFAULT_MAX_BODY_BYTES } from './body.js';
import { errorHandler, notFound } from './error-middleware.js';
import { hostBlocklist } from './host-blocklist.js';
import { httpMetricsMiddleware, registerMetricsRoute } from './metrics.js';
import type { NodeApi } from './node-api.js';
import { registerOpenApiRoute } from './openapi.js';
import { requestLogger } from './request-log.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { registerCodeRoutes } from './routes/codes.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerShortenRoutes } from './routes/shorten.js';
import { registerWebRoutes } from './routes/web.js';
import { registerVisitRoutes } from './routes/visits.js';
import type { WriteRateLimit } from './rate-limit.js';
import { shortUrlBuilder } from './short-url.js';
import type { VisitsApi } from './visits-api.js';
import { guardWrites } from './write-guard.js';

export interface HttpAppOptions {
  node: NodeApi;
  logger: Logger;
  /** This node's base URL as clients reach it, e.g. "http://127.0.0.1:8081"; shortUrl = publicUrl/code. */
  publicUrl: string;
  /** pino-http access logs (successes at debug, 4xx at info, 5xx at error). Default true. */
  requestLogging?: boolean;
  /** Largest accepted request body; larger ones get a 413. Default 16 KiB. */
  maxBodyBytes?: number;
  /** When given, requests are counted in it and GET /metrics serves it. */
  metricsRegistry?: Registry;
  /** When set, writes need it (Authorization: Bearer or X-Api-Key); reads stay open. */
  apiKey?: string;
  /** When set, cluster endpoints need it; when not, they answer loopback callers only. */
  clusterToken?: string;
  /** Status of GET|HEAD /:code redirects. Default 302. */
  redirectStatus?: RedirectStatus;
  /** Cache-Control max-age of permanent (301/308) redirects to URLs without an expiry. Default 1 day. */
  permanentRedirectMaxAgeSeconds?: number;
  /** How long the cluster remembers an Idempotency-Key. Default 24 h. */
  idempotencyTtlMs?: number;
  /** When given, redirects are counted, metadata shows visits, and POST /cluster/visits takes batches. */
  visits?: VisitsApi;
  /** POST /shorten refuses these hosts and their subdomains (403 host_blocked). */
  blockedHosts?: readonly string[];
  /** Per-client token bucket on writes (429 rate_limited); none by default. */
  writeRateLimit?: WriteRateLimit;
}

/** The abuse limits a node passes through from its flags. */
export type AbuseLimits = Pick<HttpAppOptions, 'blockedHosts' | 'writeRateLimit'>;

export type RedirectStatus = 301 | 302 | 307 | 308;
export const REDIRECT_STATUSES: readonly RedirectStatus[] = [301, 302, 307, 308];
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export function createHttpApp(options: HttpAppOptions): express.Express {
  const { node, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const shortUrlOf = shortUrlBuilder(options.publicUrl);

  const app = express();
  app.disable('x-powered-by');
  // Responses are small and mostly unique (a 302, a fresh code): hashing each body for an ETag
  // would cost CPU on the hot paths and never save a byte.
  app.set('etag', false);
  // No route reads the query string.
  app.set('query parser', false);

  if (options.requestLogging ?? true) app.use(requestLogger(logger));
  if (options.metricsRegistry) {
    app.use(httpMetricsMiddleware(options.metricsRegistry));
    registerMetricsRoute(app, options.metricsRegistry);
  }

  // Fixed paths before /:code, which takes any single segment.
  registerHealthRoutes(app, { node });
  registerOpenApiRoute(app, options.publicUrl);
  // Before the shorten routes: it answers browsers' form posts to /shorten with a page.
  registerWebRoutes(app, { node, apiKeyRequired: options.apiKey !== undefined });
  const clusterAccess = requireClusterAccess(options.clusterToken);
  registerClusterRoutes(app, { node, maxBodyBytes, access: clusterAccess });
  if (options.visits) registerVisitRoutes(app, { visits: options.visits, access: clusterAccess });
  const writeAccess = guardWrites({ apiKey: options.apiKey, rateLimit: options.writeRateLimit });
  registerShortenRoutes(app, {
    node,
    shortUrlOf,
    maxBodyBytes,
    access: writeAccess,
    idempotencyTtlMs: options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    blockedHost: hostBlocklist(options.blockedHosts ?? []),
  });
  registerCodeRoutes(app, {
    node,
    shortUrlOf,
    access: writeAccess,
    redirectStatus: options.redirectStatus ?? 302,
    permanentMaxAgeSeconds: options.permanentRedirectMaxAgeSeconds ?? 86_400,
    visits: options.visits,
  });

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
