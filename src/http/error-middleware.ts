// The Express end of error handling: 404 and 405 for requests no route takes, and the one error
// handler that writes every error as JSON. Nothing here ever renders Express's HTML error page.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { HttpError, toErrorResponse } from './errors.js';

function sendError(
  res: Response,
  status: number,
  body: object,
  headers?: Readonly<Record<string, string>>,
): void {
  if (headers) res.set(headers);
  res.status(status).json(body);
}

/** Last in the chain: no route matched the path. */
export const notFound: RequestHandler = (_req, _res, next) => {
  next(new HttpError(404, 'not_found', 'no such resource'));
};

/** Ends a route's chain: the path exists, but not for this method. */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = allowed.join(', ');
  const message = `allowed methods: ${allow}`;
  return (_req, _res, next) => {
    next(new HttpError(405, 'method_not_allowed', message, { Allow: allow }));
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const response = toErrorResponse(err);
    // pino-http's req.log carries the request id; without request logging fall back to the node's logger.
    const log = req.log ?? logger;
    if (response.unexpected) {
      log.error({ err, method: req.method, url: req.originalUrl }, 'request failed with an unexpected error');
    }
    if (res.headersSent) {
      // Too late for a JSON error: cut the connection so the client sees a failure, not a truncated success.
      if (!response.unexpected) log.warn({ err }, 'error after the response had started');
      res.destroy();
      return;
    }
    sendError(res, response.status, response.body, response.headers);
  };
}
