// Where secrets come from and which ones a node accepts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSecret, secretMatches, secretProblem, type SecretSources } from '../../src/common/secrets.js';

const GOOD = '0123456789abcdef0123';
const names = { flagFile: '--cluster-token-file', env: 'CLUSTER_TOKEN', envFile: 'CLUSTER_TOKEN_FILE' };
const resolve = (given: Omit<SecretSources, 'name' | 'names'>) =>
  resolveSecret({ name: '--cluster-token', names, ...given });

const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe('secretProblem', () => {
  it('refuses empty, short, blank-containing and non-printable secrets', () => {
    expect(secretProblem('')).toMatch(/empty/);
    expect(secretProblem('short-secret')).toMatch(/12 characters long; use at least 16/);
    expect(secretProblem(`${GOOD} x`)).toMatch(/printable ASCII/);
    expect(secretProblem(`${GOOD}\n`)).toMatch(/printable ASCII/);
    expect(secretProblem(`${GOOD}é`)).toMatch(/printable ASCII/);
    expect(secretProblem(GOOD)).toBeUndefined();
  });
});

describe('resolveSecret', () => {
  it('is undefined when no source is given', () => {
    expect(resolve({})).toBeUndefined();
  });

  it('refuses an empty flag or variable instead of treating it as no secret', () => {
    expect(() => resolve({ flag: '' })).toThrow('the secret from --cluster-token is empty');
    expect(() => resolve({ env: '' })).toThrow('the secret from CLUSTER_TOKEN is empty');
    expect(() => resolve({ flag: 'tok' })).toThrow(/3 characters long/);
  });

  it('reads a file, without its trailing newline; the flag wins over the environment', () => {
    const file = secretFile('token', `${GOOD}\n`);
    expect(resolve({ flagFile: file })).toBe(GOOD);
    expect(resolve({ envFile: file })).toBe(GOOD);
    expect(resolve({ flagFile: file, env: 'an-ignored-variable-value' })).toBe(GOOD);
  });

  it('refuses an empty or unreadable file and a secret given twice', () => {
    expect(() => resolve({ flagFile: secretFile('empty', '\n') })).toThrow(
      /--cluster-token-file .* is empty/,
    );
    expect(() => resolve({ flagFile: join(dir, 'missing') })).toThrow(/cannot read --cluster-token-file/);
    expect(() => resolve({ flagFile: '' })).toThrow(/--cluster-token-file is empty/);
    const file = secretFile('twice', GOOD);
    expect(() => resolve({ flag: GOOD, flagFile: file })).toThrow(
      /either --cluster-token or --cluster-token-file/,
    );
    expect(() => resolve({ env: GOOD, envFile: file })).toThrow(/either CLUSTER_TOKEN or CLUSTER_TOKEN_FILE/);
  });
});

describe('secretMatches', () => {
  it('matches only the exact secret, whatever the presented length', () => {
    expect(secretMatches(GOOD, GOOD)).toBe(true);
    expect(secretMatches(GOOD.slice(0, -1), GOOD)).toBe(false);
    expect(secretMatches(`${GOOD}0`, GOOD)).toBe(false);
    expect(secretMatches('', GOOD)).toBe(false);
    expect(secretMatches(undefined, GOOD)).toBe(false);
  });
});
