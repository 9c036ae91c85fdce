// Reading the API's answers: JSON bodies, the two kinds of 409, Retry-After. Pure functions, so
// the rules are in one place (the load tool reads answers with them too).
import type { ErrorBody } from './errors.js';
import { NOT_LEADER } from '../domain/errors.js';

/** The body as a JSON object, or undefined (empty, not JSON, not an object). */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  if (body === '') return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The API's error shape, with a stand-in when a body (a proxy's, say) is not one. */
export function errorBody(status: number, body: string): ErrorBody {
  const json = jsonObject(body);
  const error = typeof json?.error === 'string' ? json.error : `http_${status}`;
  const message = typeof json?.message === 'string' ? json.message : body.slice(0, 200) || `HTTP ${status}`;
  return { ...json, error, message };
}

/**
 * A 409 that redirects to the leader names it in `leaderUrl` (the API's not-leader shape
 * `{message, leaderId, leaderUrl}`); other 409s (alias_taken, membership_change_in_progress)
 * never carry one. Returns the leader's base URL without a trailing slash.
 */
export function notLeaderTarget(status: number, body: string): string | undefined {
  if (status !== 409) return undefined;
  const leaderUrl = jsonObject(body)?.leaderUrl;
  if (typeof leaderUrl !== 'string' || !/^https?:\/\/[^/]/i.test(leaderUrl)) return undefined;
  return trimSlash(leaderUrl);
}

/** A 409 not-leader that names no leader (the node has not learnt one yet). */
export function isLeaderlessNotLeader(status: number, body: string): boolean {
  return (
    status === 409 && jsonObject(body)?.error === NOT_LEADER && notLeaderTarget(status, body) === undefined
  );
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or invalid. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
