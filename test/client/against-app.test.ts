// The client against the real HTTP app (in process, over an in-memory node): the answers it
// parses are the ones the API really gives, including a follower's 409 and the alias 409.
import { afterEach, describe, expect, it } from 'vitest';
import { AliasTakenError, ShortenerClient } from '../../src/client/index.js';
import { NotLeaderError } from '../../src/domain/errors.js';
import { PUBLIC_URL, startApp, type Harness } from '../http/harness.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function app(options: Parameters<typeof startApp>[0] = {}): Promise<Harness> {
  const h = await startApp(options);
  open.push(h);
  return h;
}

describe('the client against the app', () => {
  it('create, resolve, stats, delete', async () => {
    const leader = await app({ apiKey: 'k' });
    const c = new ShortenerClient({ nodes: [leader.baseUrl], apiKey: 'k' });
    open.push(c);

    const made = await c.create('https://example.com/a', { alias: 'my-alias', ttlSeconds: 3600 });
    expect(made).toMatchObject({ code: 'my-alias', shortUrl: `${PUBLIC_URL}/my-alias`, created: true });
    expect(made.expiresAt).toMatch(/^\d{4}-/);
    // The generated key went with it: the same create again is a replay, not a 409.
    const again = await c.create('https://example.com/a', {
      alias: 'my-alias',
      ttlSeconds: 3600,
      idempotencyKey: made.idempotencyKey,
    });
    expect(again).toMatchObject({ code: 'my-alias', replayed: true });

    expect(await c.resolve('my-alias')).toMatchObject({
      found: true,
      status: 302,
      location: 'https://example.com/a',
    });
    expect(await c.stats('my-alias')).toMatchObject({
      code: 'my-alias',
      alias: true,
      url: 'https://example.com/a',
    });

    await c.delete('my-alias');
    expect(await c.resolve('my-alias')).toMatchObject({ found: false, status: 404, error: 'not_found' });
    await expect(c.stats('my-alias')).rejects.toMatchObject({ status: 404, errorCode: 'not_found' });
  });

  it('follows a follower’s 409 to the leader, and tells alias_taken apart', async () => {
    const leader = await app();
    const follower = await app();
    follower.node.fail.create = new NotLeaderError(1, leader.baseUrl);
    const c = new ShortenerClient({ nodes: [follower.baseUrl, leader.baseUrl] });
    open.push(c);

    const first = await c.create('https://example.com/x', { alias: 'taken' });
    expect(first).toMatchObject({ hops: 1, node: leader.baseUrl });
    const err = await c.create('https://example.com/y', { alias: 'taken' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AliasTakenError);
    expect(err).toMatchObject({ alias: 'taken', hops: 0 });
  });

  it('a wrong API key is a 401 ApiError, not retried', async () => {
    const leader = await app({ apiKey: 'k' });
    const c = new ShortenerClient({ nodes: [leader.baseUrl], apiKey: 'wrong' });
    open.push(c);
    await expect(c.create('https://example.com/')).rejects.toMatchObject({
      status: 401,
      errorCode: 'unauthorized',
      attempts: 1,
    });
  });
});
