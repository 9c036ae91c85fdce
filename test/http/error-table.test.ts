// The one table from the service's refusals to HTTP answers: every kind has its status, 503s carry
// Retry-After, bodies are { error, message, ...details } with the code and message never replaced.
import { describe, expect, it } from 'vitest';
import { HttpError, toErrorResponse } from '../../src/http/errors.js';
import {
  CommitTimeoutError,
  ConflictError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  NotLeaderError,
  UnavailableError,
  aliasTaken,
} from '../../src/domain/errors.js';

describe('toErrorResponse: service errors through the error table', () => {
  it.each([
    [
      'not leader, leader known',
      new NotLeaderError(2, 'http://n2'),
      409,
      { error: 'not_leader', leaderId: 2, leaderUrl: 'http://n2' },
      undefined,
    ],
    ['no leader known', new NotLeaderError(0, null), 503, { error: 'no_leader' }, '1'],
    ['commit timeout', new CommitTimeoutError(5_000), 504, { error: 'commit_timeout' }, undefined],
    ['unavailable', new UnavailableError('shutting down'), 503, { error: 'unavailable' }, '1'],
    [
      'a conflict keeps its code',
      new ConflictError('membership_change_in_progress', 'one at a time'),
      409,
      { error: 'membership_change_in_progress', message: 'one at a time' },
      undefined,
    ],
    [
      'alias taken names the alias',
      aliasTaken('mine'),
      409,
      { error: 'alias_taken', alias: 'mine' },
      undefined,
    ],
    [
      'a reused idempotency key',
      new IdempotencyKeyReusedError(),
      422,
      { error: 'idempotency_key_reused' },
      undefined,
    ],
    [
      'forbidden',
      new ForbiddenError('not_a_member', 'node 9 is not'),
      403,
      { error: 'not_a_member' },
      undefined,
    ],
  ])('%s', (_name, err, status, body, retryAfter) => {
    const answer = toErrorResponse(err);
    expect(answer.status).toBe(status);
    expect(answer.unexpected).toBe(false);
    expect(answer.body).toMatchObject({ ...body, message: expect.any(String) });
    expect(answer.headers?.['Retry-After']).toBe(retryAfter);
    // The code and the message come first in the JSON, whatever the details are.
    expect(Object.keys(answer.body).slice(0, 2)).toEqual(['error', 'message']);
  });

  it('details never replace the code or the message', () => {
    const answer = toErrorResponse(
      new ConflictError('x_taken', 'taken', { error: 'other', message: 'no', n: 1 }),
    );
    expect(answer.body).toEqual({ error: 'x_taken', message: 'taken', n: 1 });
  });

  it('an HttpError keeps its own status, headers and details', () => {
    const answer = toErrorResponse(
      new HttpError(403, 'host_blocked', 'blocked', { 'X-A': 'b' }, { host: 'e.org' }),
    );
    expect(answer).toEqual({
      status: 403,
      body: { error: 'host_blocked', message: 'blocked', host: 'e.org' },
      headers: { 'X-A': 'b' },
      unexpected: false,
    });
  });

  it('anything else is an unexpected 500 with a generic body', () => {
    expect(toErrorResponse(new Error('boom'))).toEqual({
      status: 500,
      body: { error: 'internal', message: 'internal server error' },
      unexpected: true,
    });
  });
});
