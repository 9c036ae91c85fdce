// The Express end of error handling: 404 and 405 for requests no route takes, and the one error
// handler that writes every error as JSON. Nothing here ever renders Express's HTML error page.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { ServerResponse } from 'node:http';
import { requestSummary, type TrackedRequest } from './access-log.js';
import { HttpError, toErrorResponse, type ErrorResponse } from './errors.js';

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
    const response = answerForError(err, req, res, logger);
    if (response !== undefined) sendError(res, response.status, response.body, response.headers);
  };
}

/**
 * What both error paths (Express's and the hot routes') do before writing: log an unexpected error
 * with its stack, and cut the connection when the response had already started (the client then
 * sees a failure, not a truncated success). Returns the JSON error to send, if one can still be.
 */
export function answerForError(
  err: unknown,
  req: TrackedRequest & { originalUrl?: string },
  res: ServerResponse,
  logger: Logger,
): ErrorResponse | undefined {
  const response = toErrorResponse(err);
  if (response.unexpected) {
    logger.error(
      { req: requestSummary(req), err, method: req.method, url: req.originalUrl ?? req.url },
      'request failed with an unexpected error',
    );
  }
  if (res.headersSent) {
    if (!response.unexpected)
      logger.warn({ req: requestSummary(req), err }, 'error after the response had started');
    res.destroy();
    return undefined;
  }
  return response;
}
