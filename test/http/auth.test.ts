// API keys for writes, the cluster token for cluster endpoints, and protected mode.
import type { NextFunction, Request, Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { requireClusterAccess } from '../../src/http/auth.js';
import { HttpError } from '../../src/http/errors.js';
import { json, startApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const post = (base: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/shorten`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ url: 'https://example.com/secret' }),
  });

describe('API key for writes', () => {
  it('refuses writes without the key or with a wrong one (401, nothing proposed)', async () => {
    h = await startApp({ apiKey: 's3cret' });
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { 'x-api-key': 's3cre' },
      { authorization: 's3cret' },
    ];
    for (const headers of attempts) {
      const res = await post(h.baseUrl, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect((await json(res)).error).toBe('unauthorized');
    }
    expect(h.node.createCalls).toHaveLength(0);
  });

  it('accepts the key as a Bearer token or in X-Api-Key', async () => {
    h = await startApp({ apiKey: 's3cret' });
    expect((await post(h.baseUrl, { authorization: 'Bearer s3cret' })).status).toBe(201);
    expect((await post(h.baseUrl, { 'x-api-key': 's3cret' })).status).toBe(200);
  });

  it('keeps reads open', async () => {
    h = await startApp({ apiKey: 's3cret' });
    h.node.seed({ code: 'abc1234', url: 'https://example.com/x', createdAt: 1 });
    expect((await fetch(`${h.baseUrl}/abc1234`, { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(`${h.baseUrl}/api/urls/abc1234`)).status).toBe(200);
  });
});

describe('cluster token', () => {
  const join = (base: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/cluster/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ id: 5, httpUrl: 'http://127.0.0.1:8085', raftAddr: '127.0.0.1:9085' }),
    });

  it('refuses join and remove without the token or with a wrong one', async () => {
    h = await startApp({ clusterToken: 'tok' });
    const before = h.node.members.length;
    const attempts: Array<Record<string, string>> = [{}, { 'x-cluster-token': 'nope' }];
    for (const headers of attempts) {
      const res = await join(h.baseUrl, headers);
      expect(res.status).toBe(401);
      expect((await json(res)).error).toBe('unauthorized');
    }
    const remove = await fetch(`${h.baseUrl}/cluster/members/1`, { method: 'DELETE' });
    expect(remove.status).toBe(401);
    expect(h.node.members).toHaveLength(before);
  });

  it('accepts the right token (X-Cluster-Token or Bearer), and leaves writes alone', async () => {
    h = await startApp({ clusterToken: 'tok' });
    expect((await join(h.baseUrl, { 'x-cluster-token': 'tok' })).status).toBe(200);
    const removed = await fetch(`${h.baseUrl}/cluster/members/5`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer tok' },
    });
    expect(removed.status).toBe(200);
    expect((await post(h.baseUrl)).status).toBe(201);
  });
});

describe('protected mode (no cluster token)', () => {
  const LOCAL_HOST = { host: '127.0.0.1:8081' };
  function run(remoteAddress: string, headers: Record<string, string> = LOCAL_HOST): unknown {
    let passed: unknown = 'not called';
    const req = { socket: { remoteAddress }, headers } as unknown as Request;
    requireClusterAccess(undefined)(
      req,
      {} as Response,
      ((err?: unknown) => {
        passed = err;
      }) as NextFunction,
    );
    return passed;
  }

  function expectRefused(outcome: unknown, why: RegExp): void {
    expect(outcome).toBeInstanceOf(HttpError);
    expect((outcome as HttpError).status).toBe(403);
    expect((outcome as HttpError).errorCode).toBe('protected_mode');
    expect((outcome as HttpError).message).toMatch(why);
  }

  it('serves cluster endpoints to loopback callers only', () => {
    expect(run('127.0.0.1')).toBeUndefined();
    expect(run('::1', { host: '[::1]:8081' })).toBeUndefined();
    expect(run('::ffff:127.0.0.1', { host: 'localhost:8081' })).toBeUndefined();
    expectRefused(run('10.1.2.3'), /another machine/);
  });

  it('refuses loopback requests relayed by a proxy on this machine', () => {
    for (const header of [
      'forwarded',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-real-ip',
    ]) {
      expectRefused(run('127.0.0.1', { ...LOCAL_HOST, [header]: '203.0.113.9' }), new RegExp(header));
    }
  });

  it('refuses a foreign Host name (DNS rebinding) and requests from web pages', () => {
    for (const host of ['evil.example:8081', '127.evil.example:8081', 'evil.example', '']) {
      expectRefused(run('127.0.0.1', { host }), /Host header/);
    }
    expectRefused(run('127.0.0.1', {}), /Host header/);
    expectRefused(run('127.0.0.1', { ...LOCAL_HOST, origin: 'http://evil.example' }), /web page/);
    expectRefused(run('127.0.0.1', { ...LOCAL_HOST, 'sec-fetch-site': 'cross-site' }), /web page/);
    // Typed into the address bar (a backup download): no other site is involved.
    expect(run('127.0.0.1', { ...LOCAL_HOST, 'sec-fetch-site': 'none' })).toBeUndefined();
  });
});
