// Generates the short codes the leader puts into create commands.
//
// 62 alphanumerics, length 7: 62^7 ≈ 3.5e12 codes, so collisions are rare; when one happens, apply
// answers code_taken and the leader proposes again with a fresh code.

import { customAlphabet } from 'nanoid';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const CODE_LENGTH = 7;

/**
 * Paths the HTTP API serves (or may serve) at the top level, where GET /:code also lives.
 * A code equal to one of them, in any case, could never be reached. Lower-case.
 */
export const RESERVED_CODES: ReadonlySet<string> = new Set([
  'healthz',
  'readyz',
  'cluster',
  'api',
  'shorten',
  'metrics',
  'openapi.json',
  'favicon.ico',
  'robots.txt',
  'static',
  'assets',
  'admin',
  'docs',
  'status',
  'version',
  '.well-known',
]);

export function isReservedCode(code: string): boolean {
  return RESERVED_CODES.has(code.toLowerCase());
}

const drawRandomCode = customAlphabet(ALPHABET, CODE_LENGTH);

/** A random code that is never reserved. `draw` exists so tests can feed reserved words in. */
export function newCode(draw: () => string = drawRandomCode): string {
  for (;;) {
    const code = draw();
    if (!isReservedCode(code)) return code;
  }
}
