// Secrets (cluster tokens, API keys): where they come from, which ones are good enough, and
// comparing them without leaking their contents through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Shortest secret a node accepts. An empty or tiny one (an unset shell variable, a placeholder)
 * would switch token mode on while protecting nothing; `openssl rand -hex 32` gives 64.
 */
export const MIN_SECRET_LENGTH = 16;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** True when `presented` equals `required`; constant-time whatever the presented length. */
export function secretMatches(presented: string | undefined, required: string): boolean {
  if (typeof presented !== 'string') return false;
  // Hashing both sides makes the compared buffers the same length.
  return timingSafeEqual(sha256(presented), sha256(required));
}

/** Why `secret` cannot be used, or undefined when it can. */
export function secretProblem(secret: string): string | undefined {
  if (secret === '') return 'is empty';
  // Header values lose surrounding blanks and cannot carry control characters, so such a secret
  // could never be presented as it was configured.
  if (!/^[\x21-\x7e]+$/.test(secret)) return 'must be printable ASCII without spaces';
  if (secret.length < MIN_SECRET_LENGTH) {
    return `is ${secret.length} characters long; use at least ${MIN_SECRET_LENGTH} (e.g. openssl rand -hex 32)`;
  }
  return undefined;
}

/** The places one secret may be given: a value (flag or variable) or a file holding it. */
export interface SecretSources {
  /** The setting's name in messages, e.g. "--cluster-token". */
  name: string;
  flag?: string;
  flagFile?: string;
  env?: string;
  envFile?: string;
  /** Names of the file flag and the variables, for messages. */
  names: { flagFile: string; env: string; envFile: string };
}

/**
 * The secret from its flag or file flag, else from its variable or file variable; undefined when
 * none is given. Throws a message for the operator when a given one is unusable: set but empty,
 * given twice, unreadable, or too short. A file's trailing newline is not part of the secret.
 */
export function resolveSecret(s: SecretSources): string | undefined {
  const pick = (value: string | undefined, file: string | undefined, valueName: string, fileName: string) => {
    if (value !== undefined && file !== undefined) {
      throw new Error(`give either ${valueName} or ${fileName}, not both`);
    }
    if (file !== undefined) return { secret: readSecretFile(file, fileName), from: `${fileName} ${file}` };
    if (value !== undefined) return { secret: value, from: valueName };
    return undefined;
  };
  const chosen =
    pick(s.flag, s.flagFile, s.name, s.names.flagFile) ??
    pick(s.env, s.envFile, s.names.env, s.names.envFile);
  if (!chosen) return undefined;
  const problem = secretProblem(chosen.secret);
  if (problem) throw new Error(`the secret from ${chosen.from} ${problem}`);
  return chosen.secret;
}

function readSecretFile(path: string, name: string): string {
  if (path === '') throw new Error(`${name} is empty: give the path of a file holding the secret`);
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new Error(`cannot read ${name} ${path}: ${(err as Error).message}`);
  }
}
