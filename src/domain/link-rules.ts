// The shape of what a client may ask for: codes and aliases, how far ahead a link may expire, and
// how a redirect may answer. Validation, the OpenAPI document, the visit-batch wire format and the
// client all read them from here.

/** What a code may look like; anything else cannot exist, so it is a 404 without a lookup. */
export const CODE_SYNTAX = /^[0-9A-Za-z_-]{1,64}$/;

export function isValidCodeSyntax(code: string): boolean {
  return CODE_SYNTAX.test(code);
}

/** A custom alias: 3 to 64 of the code characters (case-sensitive). */
export const ALIAS_SYNTAX = /^[0-9A-Za-z_-]{3,64}$/;

/** The furthest expiry accepted: ten years. */
export const MAX_TTL_SECONDS = 10 * 365 * 24 * 60 * 60;

export type RedirectStatus = 301 | 302 | 307 | 308;
export const REDIRECT_STATUSES: readonly RedirectStatus[] = [301, 302, 307, 308];

export function isRedirectStatus(status: number): status is RedirectStatus {
  return (REDIRECT_STATUSES as readonly number[]).includes(status);
}
