// PATCH /api/urls/:code: changes a short URL in place — its target URL, tags, expiry or visit
// limit — as one replicated command (leader only, API key when one is set). The code, createdAt
// and the visit statistics stay. Validation is create's (link-fields.ts, parseExpiry): a refused
// edit changes nothing. Absent fields stay as they are; null removes an expiry or a limit, null or
// [] removes the tags.
//
// An edit sets values rather than changing them relative to what is stored, so a retry of the same
// PATCH leaves the same record: it needs no Idempotency-Key. (ttlSeconds is counted from the
// leader's instant of each attempt, so a retry may move that expiry by the retry's delay.)
import type { RequestHandler } from 'express';
import { HttpError } from '../errors.js';
import { checkTargetUrl, parseMaxVisits, parseTags, type TargetUrlRules } from '../link-fields.js';
import type { NodeApi } from '../node-api.js';
import type { UpdateCommandInput } from '../../domain/records.js';
import { recordBody } from '../record-body.js';
import type { ShortUrlOf } from '../short-url.js';
import { absent, isFields, parseExpiry } from './shorten.js';

const EDITABLE = new Set(['url', 'tags', 'ttlSeconds', 'expiresAt', 'maxVisits']);

export interface EditDeps extends TargetUrlRules {
  node: NodeApi;
  shortUrlOf: ShortUrlOf;
}

/** The change a PATCH body asks for (the leader's `now` fixes a ttlSeconds). Throws a 400. */
export function parseEdit(
  code: string,
  body: unknown,
  now: number,
  rules: TargetUrlRules,
): UpdateCommandInput {
  if (!isFields(body)) {
    throw new HttpError(400, 'invalid_edit', 'send a JSON object with the fields to change');
  }
  const unknown = Object.keys(body).filter((k) => !EDITABLE.has(k));
  if (unknown.length > 0) {
    throw new HttpError(
      400,
      'invalid_edit',
      `unknown field ${JSON.stringify(unknown[0])}: an edit may set ${[...EDITABLE].join(', ')}`,
    );
  }
  const input: UpdateCommandInput = { code, updatedAt: now };
  if (body.url !== undefined) input.url = checkTargetUrl(body.url, rules);
  if (body.tags !== undefined) input.tags = body.tags === null ? [] : parseTags(body.tags);
  if (body.maxVisits !== undefined)
    input.maxVisits = body.maxVisits === null ? null : parseMaxVisits(body.maxVisits);
  if (body.expiresAt === null && absent(body.ttlSeconds)) input.expiresAt = null;
  else {
    const expiry = parseExpiry(body, now);
    if (expiry.expiresAt !== undefined) input.expiresAt = expiry.expiresAt;
  }
  if (Object.keys(input).length === 2) {
    throw new HttpError(
      400,
      'invalid_edit',
      `the edit changes nothing: set one of ${[...EDITABLE].join(', ')}`,
    );
  }
  return input;
}

export function editHandler(deps: EditDeps): RequestHandler {
  return async (req, res) => {
    const code = req.params.code as string;
    const input = parseEdit(code, req.body, Date.now(), deps);
    const outcome = await deps.node.updateShortUrl(input);
    if ('record' in outcome) {
      res.json(recordBody(outcome.record, deps.shortUrlOf));
      return;
    }
    if (outcome.refused === 'expired') {
      throw new HttpError(
        410,
        'expired',
        'this short URL has expired',
        { 'Cache-Control': 'no-store' },
        {
          expiresAt: new Date(outcome.expiresAt).toISOString(),
        },
      );
    }
    throw new HttpError(404, 'not_found', 'no short URL has this code');
  };
}
