// Request-body parsing for the few routes that take a body. One middleware per route picks the
// parser from the Content-Type itself (so body-parser does not re-match media types on every
// request) and turns body-parser's failures into the API's JSON errors: 400 invalid_json, 413, 415.
import express from 'express';
import type { RequestHandler } from 'express';
import { HttpError } from './errors.js';

export type BodyFormat = 'json' | 'form' | 'text';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/** A body that claims to be JSON and is not (the hot routes refuse it with the same error). */
export const invalidJson = (): HttpError =>
  new HttpError(400, 'invalid_json', 'the request body is not valid JSON');

const MEDIA_TYPES: Readonly<Record<BodyFormat, string>> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  text: 'text/plain',
};

/**
 * Parses the body in one of `formats` into req.body. A request without a body leaves req.body
 * undefined (the route decides whether that is an error); a body of any other type is a 415.
 */
export function parseBody(formats: readonly BodyFormat[], maxBodyBytes: number): RequestHandler {
  // Content-Type matching is done here, so the parsers accept whatever they are handed.
  const any = () => true;
  const parsers = new Map<string, { format: BodyFormat; parse: RequestHandler }>();
  for (const format of formats) {
    const parse =
      format === 'json'
        ? express.json({ limit: maxBodyBytes, type: any, strict: true })
        : format === 'form'
          ? // extended: false is Node's querystring: flat fields, no nested objects to validate.
            express.urlencoded({ limit: maxBodyBytes, type: any, extended: false })
          : express.text({ limit: maxBodyBytes, type: any, defaultCharset: 'utf-8' });
    parsers.set(MEDIA_TYPES[format], { format, parse });
  }
  const accepted = formats.map((f) => MEDIA_TYPES[f]).join(', ');

  return (req, res, next) => {
    if (!hasBody(req.headers)) return next();
    const parser = parsers.get(mediaType(req.headers['content-type']));
    if (!parser) {
      return next(
        new HttpError(415, 'unsupported_media_type', `the request body must be one of: ${accepted}`),
      );
    }
    parser.parse(req, res, (err?: unknown) => {
      if (err === undefined || err === null) return next();
      next(toBodyError(err, parser.format, maxBodyBytes));
    });
  };
}

/**
 * The body as text into req.body whatever its Content-Type says (for POST /, whose clients send the
 * bare URL under any type or none). UTF-8 unless a charset is named.
 */
export function parseRawText(maxBodyBytes: number): RequestHandler {
  const parse = express.text({ limit: maxBodyBytes, type: () => true, defaultCharset: 'utf-8' });
  return (req, res, next) => {
    if (!hasBody(req.headers)) return next();
    parse(req, res, (err?: unknown) => {
      if (err === undefined || err === null) return next();
      next(toBodyError(err, 'text', maxBodyBytes));
    });
  };
}

/** Same rule as body-parser's: a body is announced by Transfer-Encoding or a non-zero Content-Length. */
function hasBody(headers: { 'transfer-encoding'?: string; 'content-length'?: string }): boolean {
  return (
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && headers['content-length'] !== '0')
  );
}

/** "Application/JSON; charset=utf-8" → "application/json". */
function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function toBodyError(err: unknown, format: BodyFormat, maxBodyBytes: number): unknown {
  const type = typeof err === 'object' && err !== null ? (err as { type?: unknown }).type : undefined;
  switch (type) {
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', `the request body exceeds ${maxBodyBytes} bytes`);
    case 'entity.parse.failed':
      return format === 'json'
        ? invalidJson()
        : new HttpError(400, 'invalid_body', 'the request body could not be parsed');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'unsupported_media_type', (err as Error).message);
    default:
      // e.g. the client aborted or sent fewer bytes than announced; http-errors with status 400.
      return err;
  }
}
