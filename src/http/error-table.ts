// The one table from the service's refusals to HTTP: each kind of ServiceError has one status,
// and 503s say when to come back. The body is always { error, message, ...details }.
import type { ErrorBody, ErrorKind, ServiceError } from '../domain/errors.js';

/** A short wait before a retry is worth it: an election usually settles well within a second. */
export const RETRY_SOON: Readonly<Record<string, string>> = { 'Retry-After': '1' };

export interface HttpAnswerOf {
  status: number;
  headers?: Readonly<Record<string, string>>;
}

const STATUS_OF: Readonly<Record<ErrorKind, HttpAnswerOf>> = {
  not_leader: { status: 409 },
  no_leader: { status: 503, headers: RETRY_SOON },
  commit_timeout: { status: 504 },
  unavailable: { status: 503, headers: RETRY_SOON },
  conflict: { status: 409 },
  key_reused: { status: 422 },
  forbidden: { status: 403 },
};

export function httpStatusOf(err: ServiceError): HttpAnswerOf {
  return STATUS_OF[err.kind];
}

/** The JSON error body: the code and message first; details never replace them. */
export function errorBody(
  error: string,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): ErrorBody {
  const body: ErrorBody = { error, message };
  if (details === undefined) return body;
  for (const [field, value] of Object.entries(details)) {
    if (field !== 'error' && field !== 'message') body[field] = value;
  }
  return body;
}
