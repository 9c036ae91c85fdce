import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, startApp, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startApp();
});
afterEach(async () => {
  await h.close();
});

describe('health', () => {
  it('GET /healthz → 200 {status: ok}, also while the node is not ready', async () => {
    h.node.ready = false;
    const res = await fetch(h.baseUrl + '/healthz');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok' });
  });

  it('GET /readyz → 200 when the node is ready', async () => {
    const res = await fetch(h.baseUrl + '/readyz');
    expect(res.status).toBe(200);
    expect((await json(res)).status).toBe('ready');
  });

  it('GET /readyz → 503 not_ready with Retry-After when it is not', async () => {
    h.node.ready = false;
    const res = await fetch(h.baseUrl + '/readyz');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await json(res)).toEqual({ status: 'not_ready', error: 'not_ready', message: expect.any(String) });
  });

  it('POST /healthz → 405', async () => {
    const res = await fetch(h.baseUrl + '/healthz', { method: 'POST' });
    expect(res.status).toBe(405);
  });
});
