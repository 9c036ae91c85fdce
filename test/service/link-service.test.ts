// The link service over a scripted runtime: what it proposes for a create, how it retries a
// generated code that apply finds taken, and how refusals and runtime errors come out.
import { describe, expect, it } from 'vitest';
import { DeadlineError } from '../../src/node/waiters.js';
import { NotLeaderError as RaftNotLeaderError, Role } from '../../src/raft/index.js';
import {
  CommitTimeoutError,
  ConflictError,
  IdempotencyKeyReusedError,
  NotLeaderError,
} from '../../src/domain/errors.js';
import { LinkService, MAX_CODE_ATTEMPTS, type LinkRuntime } from '../../src/service/link-service.js';
import type { UrlRecord } from '../../src/domain/records.js';
import { decodeCommand, type CreateCommand, type UrlCommand } from '../../src/shortener/commands.js';
import type { ApplyResult } from '../../src/shortener/url-store.js';

/** A leader whose apply answers are scripted per proposal. */
function scripted(answers: Array<(cmd: UrlCommand) => ApplyResult | Error>) {
  const proposed: UrlCommand[] = [];
  const runtime: LinkRuntime = {
    role: Role.Leader,
    member: (id) => (id === 2 ? { id: 2, httpUrl: 'http://n2', raftAddr: 'n2:1' } : undefined),
    readIndex: () => Promise.resolve(0),
    propose: (data) => {
      const cmd = decodeCommand(data);
      proposed.push(cmd);
      const answer = answers.shift();
      if (answer === undefined) return Promise.reject(new Error('no more scripted answers'));
      const result = answer(cmd);
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
  };
  const records = new Map<string, UrlRecord>();
  let n = 0;
  const links = new LinkService(
    runtime,
    { get: (code) => records.get(code), list: () => ({ records: [...records.values()] }) },
    { readTimeoutMs: 1_000, newCode: () => `code${++n}00` },
  );
  return { links, proposed, records };
}

const created = (cmd: UrlCommand): ApplyResult => {
  const c = cmd as CreateCommand;
  return { code: c.code, url: c.url, createdAt: c.createdAt, created: true };
};
const codeTaken = (cmd: UrlCommand): ApplyResult => ({
  error: 'code_taken',
  code: (cmd as CreateCommand).code,
});

describe('LinkService.createShortUrl', () => {
  it('proposes the request under a generated code, with the leader instants it was given', async () => {
    const { links, proposed } = scripted([created]);
    const idempotency = { key: 'k', fingerprint: 'f', expiresAt: 9_000 };
    const result = await links.createShortUrl({
      url: 'https://example.com/a',
      createdAt: 1_000,
      expiresAt: 5_000,
      idempotency,
    });
    expect(proposed).toEqual([
      {
        type: 'create',
        code: 'code100',
        url: 'https://example.com/a',
        createdAt: 1_000,
        expiresAt: 5_000,
        idempotency,
      },
    ]);
    expect(result).toEqual({
      code: 'code100',
      url: 'https://example.com/a',
      createdAt: 1_000,
      created: true,
    });
  });

  it('retries a taken generated code with a fresh one; the caller sees only the success', async () => {
    const { links, proposed } = scripted([
      ...Array.from({ length: MAX_CODE_ATTEMPTS - 1 }, () => codeTaken),
      created,
    ]);
    const result = await links.createShortUrl({ url: 'https://example.com/r', createdAt: 1 });
    const codes = proposed.map((c) => (c as CreateCommand).code);
    expect(codes).toHaveLength(MAX_CODE_ATTEMPTS);
    expect(new Set(codes).size).toBe(MAX_CODE_ATTEMPTS);
    expect(result.code).toBe(codes.at(-1));
  });

  it(`gives up after ${MAX_CODE_ATTEMPTS} taken codes with an unexpected error (a 500, logged)`, async () => {
    const { links, proposed } = scripted(Array.from({ length: MAX_CODE_ATTEMPTS + 1 }, () => codeTaken));
    const err = await links.createShortUrl({ url: 'https://example.com/r', createdAt: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/no free code after 4 attempts/);
    expect(proposed).toHaveLength(MAX_CODE_ATTEMPTS);
  });

  it('an alias is proposed as it is, once: taken is alias_taken naming it, never a retry', async () => {
    const { links, proposed } = scripted([
      (cmd) => ({ error: 'alias_taken', code: (cmd as CreateCommand).code }),
    ]);
    const err = await links
      .createShortUrl({ url: 'https://e.org', createdAt: 1, alias: 'mine' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ errorCode: 'alias_taken', details: { alias: 'mine' } });
    expect(proposed).toEqual([
      { type: 'create', code: 'mine', alias: true, url: 'https://e.org', createdAt: 1 },
    ]);
  });

  it('a reused idempotency key is refused as such', async () => {
    const { links } = scripted([
      (cmd) => ({ error: 'idempotency_key_reused', code: (cmd as CreateCommand).code }),
    ]);
    await expect(links.createShortUrl({ url: 'https://e.org', createdAt: 1 })).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
  });

  it("runtime errors become the service's: not leader (naming its URL), commit timeout", async () => {
    const { links } = scripted([() => new RaftNotLeaderError(2), () => new DeadlineError(700)]);
    const notLeader = await links.createShortUrl({ url: 'https://e.org', createdAt: 1 }).catch((e) => e);
    expect(notLeader).toBeInstanceOf(NotLeaderError);
    expect(notLeader).toMatchObject({ leaderId: 2, leaderUrl: 'http://n2' });
    await expect(links.deleteShortUrl('abc')).rejects.toBeInstanceOf(CommitTimeoutError);
  });
});
