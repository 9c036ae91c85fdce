// The Express app of one node: wires the routes of each area, request logging and JSON errors.
// It only talks to the node through NodeApi, so tests run it against an in-memory fake.
import type { RequestListener } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { apiKeyError, requireClusterAccess } from './auth.js';
import { DEFAULT_MAX_BODY_BYTES } from './body.js';
import { errorHandler, notFound } from './error-middleware.js';
import { hostBlocklist } from './host-blocklist.js';
import { expressRoute, httpMetrics, registerMetricsRoute } from './metrics.js';
import type { RedirectStatus } from '../domain/link-rules.js';
import type { NodeApi } from './node-api.js';
import { registerOpenApiRoute } from './openapi.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { redirectAnswerer, registerCodeRoutes } from './routes/codes.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerBulkRoute } from './routes/bulk.js';
import { registerExportRoute } from './routes/export.js';
import { registerImportRoute } from './routes/import.js';
import { registerQrRoute } from './routes/qr.js';
import { registerSeedRoute } from './routes/seed.js';
import { registerShortenRoutes, shortenHandler } from './routes/shorten.js';
import { editHandler } from './routes/edit.js';
import { registerListRoute } from './routes/list.js';
import { parseBody } from './body.js';
import { registerWebRoutes } from './routes/web.js';
import { registerVisitRoutes } from './routes/visits.js';
import type { WriteRateLimit } from './rate-limit.js';
import { ownBaseUrls, shortUrlBuilder } from './short-url.js';
import type { VisitsApi } from './visits-api.js';
import { guardWrites, insufficientStorage, writeCheck, type DiskSpaceProblem } from './write-guard.js';
import { accessLogger } from './access-log.js';
import { hotRoutes } from './hot-routes.js';
import { missingHostAnswer } from './client-error.js';
import { writeJson } from './json-response.js';
import { writeForwarder, type WriteForwarding } from './forward-writes.js';
import { clientAddressResolver } from './client-address.js';

export interface HttpAppOptions {
  node: NodeApi;
  logger: Logger;
  /** This node's own URL as clients and peers reach it, e.g. "http://127.0.0.1:8081" (leaderUrl). */
  publicUrl: string;
  /**
   * The service's one public address, the same on every node (short-url.ts): shortUrl = base/code.
   * Default: publicUrl.
   */
  shortUrlBase?: string;
  /** Access lines (successes at debug, 4xx at info, 5xx at error; access-log.ts). Default true. */
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
  /** Redirects append the request's query to the long URL (query-forwarding.ts). Default false. */
  forwardQuery?: boolean;
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
  /** When it says why, writes and visit batches answer 507 insufficient_storage; reads go on. */
  diskSpaceProblem?: DiskSpaceProblem;
  /** Proxies (CIDRs) whose X-Forwarded-For / Forwarded names the client for the rate limit. */
  trustProxy?: readonly string[];
  /** When given, a follower passes writes to the leader instead of answering 409 (forward-writes.ts). */
  forwardWrites?: Omit<WriteForwarding, 'maxBodyBytes'>;
}

/** The abuse limits a node passes through from its flags. */
export type AbuseLimits = Pick<HttpAppOptions, 'blockedHosts' | 'writeRateLimit'>;

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

/** The node's HTTP request listener; `express` is the app behind the hot routes (its router can be walked). */
export type HttpApp = RequestListener & { readonly express: express.Express };

/** How long the member list of clusterBases is reused: a status() per write would walk every peer. */
const BASES_TTL_MS = 1_000;

/**
 * The short-URL base, this node's URL and every member's URL, refreshed at most every BASES_TTL_MS
 * as members change.
 */
function clusterBases(node: NodeApi, own: readonly string[]): () => readonly string[] {
  let bases: readonly string[] = own;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (now - readAt >= BASES_TTL_MS) {
      bases = [...own, ...node.status().members.map((m) => m.httpUrl)];
      readAt = now;
    }
    return bases;
  };
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { node, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const shortUrlOf = shortUrlBuilder(options.shortUrlBase ?? options.publicUrl);
  const track = (options.requestLogging ?? true) ? accessLogger(logger) : undefined;
  const observe = options.metricsRegistry ? httpMetrics(options.metricsRegistry) : undefined;
  const checkWrite = writeCheck({
    apiKey: options.apiKey,
    rateLimit: options.writeRateLimit,
    diskSpaceProblem: options.diskSpaceProblem,
    clientAddressOf: clientAddressResolver({
      trustedProxies: options.trustProxy,
      clusterToken: options.clusterToken,
    }),
  });
  const writeAccess = guardWrites(checkWrite);
  const targetRules = {
    blockedHost: hostBlocklist(options.blockedHosts ?? []),
    ownBases: clusterBases(node, ownBaseUrls(options)),
  };
  const shorten = shortenHandler({
    node,
    shortUrlOf,
    idempotencyTtlMs: options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    ...targetRules,
  });
  const codeDeps = {
    node,
    shortUrlOf,
    access: writeAccess,
    edit: [parseBody(['json'], maxBodyBytes), editHandler({ node, shortUrlOf, ...targetRules })],
    redirectStatus: options.redirectStatus ?? 302,
    forwardQuery: options.forwardQuery,
    permanentMaxAgeSeconds: options.permanentRedirectMaxAgeSeconds ?? 86_400,
    visits: options.visits,
  };
  const forwardRouteOf = options.forwardWrites
    ? writeForwarder({ ...options.forwardWrites, maxBodyBytes })
    : undefined;
  const hotRouteOf = hotRoutes({
    node,
    shorten,
    checkWrite,
    answerRedirect: redirectAnswerer(codeDeps),
    maxBodyBytes,
    logger,
  });

  const app = express();
  app.disable('x-powered-by');
  // Responses are small and mostly unique (a 302, a fresh code): hashing each body for an ETag
  // would cost CPU on the hot paths and never save a byte.
  app.set('etag', false);
  // The few routes that read the query string parse it themselves: only they pay for it.
  app.set('query parser', false);

  if (track || observe) {
    app.use((req, res, next) => {
      track?.(req, res);
      observe?.(req, res, () => expressRoute(req));
      next();
    });
  }
  if (options.metricsRegistry) registerMetricsRoute(app, options.metricsRegistry);

  // Fixed paths before /:code, which takes any single segment.
  registerHealthRoutes(app, { node });
  registerOpenApiRoute(app, options.publicUrl, options.shortUrlBase);
  // Before the web page's route, whose other methods of / are a 405.
  registerSeedRoute(app, { shorten, maxBodyBytes, access: writeAccess });
  // Before the shorten routes: it answers browsers' form posts to /shorten with a page.
  registerWebRoutes(app, { node, apiKeyRequired: options.apiKey !== undefined });
  const clusterAccess = requireClusterAccess(options.clusterToken);
  registerClusterRoutes(app, { node, maxBodyBytes, access: clusterAccess });
  if (options.visits) {
    const visitsAccess: RequestHandler = (req, res, next) =>
      clusterAccess(req, res, (err?: unknown) => next(err ?? insufficientStorage(options.diskSpaceProblem)));
    registerVisitRoutes(app, { visits: options.visits, access: visitsAccess });
  }
  registerShortenRoutes(app, { shorten, maxBodyBytes, access: writeAccess });
  registerBulkRoute(app, { node, shorten, access: writeAccess, logger });
  registerImportRoute(app, { node, shorten, access: writeAccess, logger });
  registerQrRoute(app, { node, shortUrlOf });
  // Reading every link at once (export, the list) is the API key's, like writes, when one is set.
  const readAllAccess: RequestHandler = (req, _res, next) => next(apiKeyError(req, options.apiKey));
  registerExportRoute(app, { node, readAccess: readAllAccess });
  registerListRoute(app, { node, shortUrlOf, access: readAllAccess });
  registerCodeRoutes(app, codeDeps);

  app.use(notFound);
  app.use(errorHandler(logger));

  const listener: RequestListener = (req, res) => {
    const noHost = missingHostAnswer(req);
    if (noHost !== undefined) {
      track?.(req, res);
      const { status, error, message } = noHost;
      return writeJson(res, status, { error, message }, { Connection: 'close' });
    }
    const hot = forwardRouteOf?.(req) ?? hotRouteOf(req);
    if (hot === undefined) return void app(req, res);
    track?.(req, res);
    observe?.(req, res, () => hot.path);
    hot.serve(req, res);
  };
  return Object.assign(listener, { express: app });
}
