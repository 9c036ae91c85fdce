import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CommitTimeoutError,
  ConflictError,
  NotLeaderError,
  UnavailableError,
} from '../../src/domain/errors.js';
import { json, PUBLIC_URL, startApp, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startApp();
});
afterEach(async () => {
  await h.close();
});

function post(body: RequestInit['body'], contentType?: string, path = '/shorten'): Promise<Response> {
  return fetch(h.baseUrl + path, {
    method: 'POST',
    body,
    headers: contentType ? { 'content-type': contentType } : {},
  });
}
const postJson = (value: unknown) => post(JSON.stringify(value), 'application/json');

describe('POST /shorten: the three body formats', () => {
  it('JSON {"url"} → 201 with code, shortUrl built from publicUrl, and the normalized url', async () => {
    const before = Date.now();
    const res = await postJson({ url: 'HTTPS://Example.COM/a?b=1' });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toEqual({
      code: expect.stringMatching(/^[0-9A-Za-z]{7}$/),
      shortUrl: `${PUBLIC_URL}/${body.code}`,
      url: 'https://example.com/a?b=1',
    });
    // The leader decided createdAt before proposing (the code is the link service's choice).
    expect(h.node.createCalls).toHaveLength(1);
    expect(h.node.createCalls[0]).toEqual({
      url: 'https://example.com/a?b=1',
      createdAt: expect.any(Number),
    });
    expect(h.node.createCalls[0]!.createdAt).toBeGreaterThanOrEqual(before);
    expect(h.node.createCalls[0]!.createdAt).toBeLessThanOrEqual(Date.now());
  });

  it('form url=… → 201', async () => {
    const res = await post(
      'url=' + encodeURIComponent('https://example.com/form?x=1&y=2'),
      'application/x-www-form-urlencoded',
    );
    expect(res.status).toBe(201);
    expect((await json(res)).url).toBe('https://example.com/form?x=1&y=2');
  });

  it('text/plain body (with the newline a shell pipe adds) → 201', async () => {
    const res = await post('https://example.com/text\n', 'text/plain; charset=utf-8');
    expect(res.status).toBe(201);
    expect((await json(res)).url).toBe('https://example.com/text');
  });

  it('the same URL again → 200 with the same code, whatever the body format', async () => {
    const first = await json(await postJson({ url: 'https://example.com/dedup' }));
    const again = await postJson({ url: 'https://example.com/dedup' });
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual(first);
    const asText = await post('https://example.com/dedup', 'text/plain');
    expect(asText.status).toBe(200);
    expect((await json(asText)).code).toBe(first.code);
  });
});

describe('POST /shorten: bad input is a 400 and proposes nothing', () => {
  const cases: Array<[string, () => Promise<Response>, string]> = [
    ['an ftp: URL', () => postJson({ url: 'ftp://example.com/file' }), 'invalid_url'],
    ['a relative URL', () => postJson({ url: '/just/a/path' }), 'invalid_url'],
    ['a URL over 8 KiB', () => postJson({ url: 'https://example.com/' + 'a'.repeat(9000) }), 'invalid_url'],
    ['a url that is not a string', () => postJson({ url: 42 }), 'invalid_url'],
    ['malformed JSON', () => post('{"url": "https://example.com"', 'application/json'), 'invalid_json'],
    [
      'a JSON string instead of an object',
      () => post('"https://example.com"', 'application/json'),
      'invalid_json',
    ],
    ['JSON without url', () => postJson({ link: 'https://example.com' }), 'missing_url'],
    ['a JSON array', () => postJson(['https://example.com']), 'missing_url'],
    ['an empty JSON body', () => post('', 'application/json'), 'missing_url'],
    ['no body at all', () => post(undefined), 'missing_url'],
    ['an empty text body', () => post('  \n', 'text/plain'), 'missing_url'],
    [
      'a form without url',
      () => post('u=https://example.com', 'application/x-www-form-urlencoded'),
      'missing_url',
    ],
    [
      'a form with url twice',
      () => post('url=https://a.example&url=https://b.example', 'application/x-www-form-urlencoded'),
      'invalid_url',
    ],
  ];
  it.each(cases)('%s', async (_name, send, errorCode) => {
    const res = await send();
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body).toEqual({ error: errorCode, message: expect.any(String) });
    expect(body.message).not.toBe('');
    expect(h.node.createCalls).toHaveLength(0);
  });
});

describe('POST /shorten: body limits and types', () => {
  it('a body over the default 16 KiB → 413 JSON', async () => {
    const res = await postJson({ url: 'https://example.com/' + 'a'.repeat(17 * 1024) });
    expect(res.status).toBe(413);
    expect(await json(res)).toEqual({
      error: 'payload_too_large',
      message: expect.stringContaining('16384'),
    });
    expect(h.node.createCalls).toHaveLength(0);
  });

  it('a body over the same limit in chunked encoding (no Content-Length) → 413', async () => {
    const chunks = [
      new TextEncoder().encode('url=' + 'a'.repeat(10_000)),
      new TextEncoder().encode('b'.repeat(10_000)),
    ];
    const stream = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const res = await fetch(h.baseUrl + '/shorten', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await json(res)).error).toBe('payload_too_large');
  });

  it('maxBodyBytes is configurable', async () => {
    await h.close();
    h = await startApp({ maxBodyBytes: 100 });
    const small = await postJson({ url: 'https://example.com/ok' });
    expect(small.status).toBe(201);
    const big = await postJson({ url: 'https://example.com/' + 'a'.repeat(100) });
    expect(big.status).toBe(413);
  });

  it.each([
    ['application/xml', '<url>https://example.com</url>'],
    ['multipart/form-data; boundary=x', '--x--'],
  ])('Content-Type %s → 415 JSON', async (type, body) => {
    const res = await post(body, type);
    expect(res.status).toBe(415);
    expect(await json(res)).toEqual({
      error: 'unsupported_media_type',
      message: expect.stringContaining('application/json'),
    });
  });

  it('a body without a Content-Type → 415', async () => {
    const res = await post(new TextEncoder().encode('https://example.com'));
    expect(res.status).toBe(415);
  });

  it('JSON in a non-UTF charset → 415', async () => {
    const res = await post('{"url":"https://example.com"}', 'application/json; charset=latin1');
    expect(res.status).toBe(415);
    expect((await json(res)).error).toBe('unsupported_media_type');
  });

  it('GET /shorten → 405 with Allow: POST', async () => {
    const res = await fetch(h.baseUrl + '/shorten');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect((await json(res)).error).toBe('method_not_allowed');
  });
});

describe('POST /shorten: errors from the node', () => {
  it('on a follower → 409 with exactly error, message, leaderId and leaderUrl', async () => {
    h.node.fail.create = new NotLeaderError(2, 'http://127.0.0.1:8082');
    const res = await postJson({ url: 'https://example.com' });
    expect(res.status).toBe(409);
    expect(await json(res)).toEqual({
      error: 'not_leader',
      message: expect.stringContaining('node 2'),
      leaderId: 2,
      leaderUrl: 'http://127.0.0.1:8082',
    });
  });

  it('with no known leader → 503 with Retry-After', async () => {
    h.node.fail.create = new NotLeaderError(0, null);
    const res = await postJson({ url: 'https://example.com' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await json(res)).toEqual({ error: 'no_leader', message: 'no leader is known' });
  });

  it('a commit timeout → 504', async () => {
    h.node.fail.create = new CommitTimeoutError(2000);
    const res = await postJson({ url: 'https://example.com' });
    expect(res.status).toBe(504);
    expect(await json(res)).toEqual({ error: 'commit_timeout', message: expect.stringContaining('2000 ms') });
  });

  it('an unavailable node → 503 with Retry-After', async () => {
    h.node.fail.create = new UnavailableError('shutting down');
    const res = await postJson({ url: 'https://example.com' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await json(res)).toEqual({ error: 'unavailable', message: 'shutting down' });
  });

  it('a ConflictError → 409 with its own error code', async () => {
    h.node.fail.create = new ConflictError('read_only', 'the cluster is read-only');
    const res = await postJson({ url: 'https://example.com' });
    expect(res.status).toBe(409);
    expect(await json(res)).toEqual({ error: 'read_only', message: 'the cluster is read-only' });
  });

  it('anything else → 500 with a generic message; the error is logged, its details never sent', async () => {
    h.node.fail.create = new Error('lmdb: MDB_MAP_FULL at /secret/path');
    const res = await postJson({ url: 'https://example.com' });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal', message: 'internal server error' });
    expect(text).not.toContain('secret');
    const logged = h.logs.find((l) => l.level === 50 && typeof l.err === 'object');
    expect((logged?.err as { message?: string } | undefined)?.message).toBe(
      'lmdb: MDB_MAP_FULL at /secret/path',
    );
  });

  it('a rejection that is not an Error (a string) is a 500 too', async () => {
    h.node.fail.create = 'boom';
    const res = await postJson({ url: 'https://example.com' });
    expect(res.status).toBe(500);
    expect((await json(res)).error).toBe('internal');
  });
});

describe('POST /shorten: no free code', () => {
  // The link service retries collisions (test/service/link-service.test.ts); when it gives up,
  // the client sees a 500 and the error is logged with its cause.
  it('is a logged 500', async () => {
    h.node.fail.create = new Error('no free code after 4 attempts');
    const res = await postJson({ url: 'https://example.com/retry' });
    expect(res.status).toBe(500);
    expect(h.logs.some((l) => l.level === 50 && JSON.stringify(l.err).includes('no free code'))).toBe(true);
  });
});
