// HTTP metrics and the /metrics endpoint (Prometheus text format, prom-client).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Counts requests by route pattern (not raw path: every short code would be its own series)
 * and observes their duration. The Express routes and the hot routes record into the same series.
 */
export type ObserveRequest = (req: IncomingMessage, res: ServerResponse, route: () => string) => void;

export function httpMetrics(registry: Registry): ObserveRequest {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route.',
    labelNames: ['route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  return (req, res, route) => {
    const started = performance.now();
    res.once('finish', () => {
      const path = route();
      requests.inc({ route: path, method: req.method, status: String(res.statusCode) });
      duration.observe({ route: path }, (performance.now() - started) / 1000);
    });
  };
}

/** The route pattern Express matched, once it has. */
export function expressRoute(req: IncomingMessage): string {
  return ((req as { route?: { path?: string } }).route?.path as string | undefined) ?? 'unmatched';
}

export function registerMetricsRoute(app: Express, registry: Registry): void {
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });
}
