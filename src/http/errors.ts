// Turns anything a handler throws into the JSON error the API promises. Pure: no Express, no
// logging, so every answer to an error is visible (and testable) in one place; the service's
// refusals get their status from error-table.ts.
import { ServiceError, type ErrorBody } from '../domain/errors.js';
import { errorBody, httpStatusOf } from './error-table.js';

/** An error a handler raises on purpose: it already knows its status and machine code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly headers?: Readonly<Record<string, string>>,
    /** More fields for the JSON body, next to error and message. */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers?: Readonly<Record<string, string>>;
  /** True when nothing anticipated this error: it is logged with its stack, the client sees a generic 500. */
  unexpected: boolean;
}

export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      body: errorBody(err.errorCode, err.message, err.details),
      headers: err.headers,
      unexpected: false,
    };
  }
  if (err instanceof ServiceError) {
    const { status, headers } = httpStatusOf(err);
    return { status, body: errorBody(err.errorCode, err.message, err.details), headers, unexpected: false };
  }
  const clientError = asExposedClientError(err);
  if (clientError) return clientError;
  return { status: 500, body: { error: 'internal', message: 'internal server error' }, unexpected: true };
}

const CLIENT_ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * Express and its helpers signal bad requests with a 4xx `status` on the error, e.g. the router's
 * URIError for a path that is not valid percent-encoding, or body-parser's http-errors. Their
 * messages are written for clients (http-errors marks the others `expose: false`).
 */
function asExposedClientError(err: unknown): ErrorResponse | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, expose, message } = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 499)
    return undefined;
  return {
    status,
    body: {
      error: CLIENT_ERROR_CODES[status] ?? 'client_error',
      message: expose !== false && typeof message === 'string' ? message : 'bad request',
    },
    unexpected: false,
  };
}
