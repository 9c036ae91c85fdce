// Validation of POST /cluster/join bodies. A bad join must be refused here: once a member is in
// the configuration log, a typo in its address is replicated to every node.
import type { JoinRequest } from './node-api.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

export function parseJoinRequest(body: unknown): Parsed<JoinRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'send a JSON object {"id", "httpUrl", "raftAddr"}' };
  }
  const { id, httpUrl, raftAddr } = body as Record<string, unknown>;
  const memberId = parseMemberId(id);
  if (!memberId.ok) return memberId;
  const url = parseHttpUrl(httpUrl);
  if (!url.ok) return url;
  if (typeof raftAddr !== 'string' || !isHostPort(raftAddr)) {
    return { ok: false, message: 'raftAddr must be host:port' };
  }
  return { ok: true, value: { id: memberId.value, httpUrl: url.value, raftAddr } };
}

/** A member id in a JSON body: a positive safe integer (a number, not a numeric string). */
export function parseMemberId(id: unknown): Parsed<number> {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    return { ok: false, message: 'id must be a positive integer' };
  }
  return { ok: true, value: id };
}

/** A member id in a path segment: decimal digits only, so "1e3", "0x10" or " 7" are refused. */
export function parseMemberIdParam(segment: string): Parsed<number> {
  return /^[1-9][0-9]{0,15}$/.test(segment)
    ? parseMemberId(Number(segment))
    : { ok: false, message: 'id must be a positive integer' };
}

/** An http(s) base URL, without the trailing slash (shortUrl and leaderUrl append paths to it). */
function parseHttpUrl(input: unknown): Parsed<string> {
  const invalid = { ok: false, message: 'httpUrl must be an http:// or https:// URL' } as const;
  if (typeof input !== 'string') return invalid;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return invalid;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return invalid;
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return { ok: false, message: 'httpUrl must be a base URL, without credentials, query or fragment' };
  }
  return { ok: true, value: url.href.replace(/\/+$/, '') };
}

function isHostPort(addr: string): boolean {
  const match = HOST_PORT.exec(addr);
  if (!match) return false;
  const port = Number(match[1]);
  return port >= 1 && port <= 65535;
}
