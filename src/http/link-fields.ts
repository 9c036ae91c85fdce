// The fields a client may set on a short URL, checked the same way on create (POST /shorten) and
// edit (PATCH /api/urls/:code): the target URL (abuse rules), tags and the visit limit.
import { HttpError } from './errors.js';
import type { HostBlocklist } from './host-blocklist.js';
import { ownUrlBase } from './own-urls.js';
import { validateLongUrl } from '../shortener/validate-url.js';
import { canonicalTags, isValidTag, MAX_TAG_LENGTH, MAX_TAGS } from '../shortener/link-tags.js';

/** The largest visit limit accepted (the store holds up to 2^32-1; a round figure is easier to document). */
export const MAX_VISITS_LIMIT = 1_000_000_000;

export interface TargetUrlRules {
  /** Refuses URLs whose host is blocked (or a subdomain of a blocked one). */
  blockedHost?: HostBlocklist;
  /** The cluster's own base URLs (public base, members): links to them are refused (own-urls.ts). */
  ownBases?: () => readonly string[];
}

/**
 * The normalized long URL, or the 400/403 that refuses it: only http and https, never the
 * cluster's own short URLs or nodes (a redirect loop), never a blocked host.
 */
export function checkTargetUrl(input: unknown, rules: TargetUrlRules): string {
  const validation = validateLongUrl(input);
  if (!validation.ok) throw new HttpError(400, 'invalid_url', validation.message);
  const url = validation.url;
  const blocked = rules.blockedHost?.(url);
  if (blocked !== undefined) {
    throw new HttpError(
      403,
      'host_blocked',
      `links to ${blocked} and its subdomains cannot be shortened here`,
      undefined,
      { host: blocked },
    );
  }
  const ownBase = rules.ownBases ? ownUrlBase(url, rules.ownBases()) : undefined;
  if (ownBase !== undefined) {
    throw new HttpError(
      400,
      'invalid_url',
      `the URL points at this cluster's own short URLs (${ownBase}): the link would redirect in a loop`,
    );
  }
  return url;
}

const invalidTags = (detail: string): HttpError =>
  new HttpError(
    400,
    'invalid_tags',
    `${detail}: tags are up to ${MAX_TAGS} distinct names of 1 to ${MAX_TAG_LENGTH} characters of a-z, 0-9, "_", "-" and "." (upper case is lowered), as a JSON array or a comma-separated string`,
  );

/**
 * Tags as a JSON array of strings or a comma-separated string (a form field): trimmed, lower-cased,
 * distinct and sorted. An empty array or string is no tags.
 */
export function parseTags(value: unknown): string[] {
  const raw =
    typeof value === 'string'
      ? value.split(',').filter((t) => t.trim() !== '')
      : Array.isArray(value)
        ? value
        : undefined;
  if (raw === undefined) throw invalidTags('tags must be an array of strings or a comma-separated string');
  const tags: string[] = [];
  for (const tag of raw) {
    if (typeof tag !== 'string') throw invalidTags('every tag must be a string');
    const t = tag.trim().toLowerCase();
    if (!isValidTag(t)) throw invalidTags(`"${tag.slice(0, 40)}" is not a valid tag`);
    tags.push(t);
  }
  const canonical = canonicalTags(tags);
  if (canonical.length > MAX_TAGS) throw invalidTags(`${canonical.length} tags are too many`);
  return canonical;
}

/** A visit limit: a whole number from 1 to MAX_VISITS_LIMIT (a digit string from a form too). */
export function parseMaxVisits(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_VISITS_LIMIT) {
    throw new HttpError(
      400,
      'invalid_max_visits',
      `maxVisits must be a whole number from 1 to ${MAX_VISITS_LIMIT}`,
    );
  }
  return n;
}
