// HTTP metrics and the /metrics endpoint (Prometheus text format, prom-client).
import type { Express, RequestHandler } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Counts requests by route pattern (not raw path: every short code would be its own series)
 * and observes their duration.
 */
export function httpMetricsMiddleware(registry: Registry): RequestHandler {
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
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      requests.inc({ route, method: req.method, status: String(res.statusCode) });
      duration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

export function registerMetricsRoute(app: Express, registry: Registry): void {
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });
}
