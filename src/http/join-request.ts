// Validation of POST /cluster/join bodies. A bad join must be refused here: once a member is in
// the configuration log, a typo in its address is replicated to every node.
import { isNodeId, NODE_ID_RULE } from '../common/node-id.js';
import type { JoinRequest } from '../domain/cluster-status.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Addresses are replicated to every node and echoed in every 409: keep them to sane sizes. */
export const MAX_HTTP_URL_LENGTH = 512;
/** A DNS name (253) or a bracketed IPv6 address, a colon and a port. */
export const MAX_RAFT_ADDR_LENGTH = 261;

export function parseJoinRequest(body: unknown): Parsed<JoinRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'send a JSON object {"id", "httpUrl", "raftAddr"}' };
  }
  const { id, httpUrl, raftAddr, nodeUuid } = body as Record<string, unknown>;
  const memberId = parseMemberId(id);
  if (!memberId.ok) return memberId;
  const url = parseHttpUrl(httpUrl);
  if (!url.ok) return url;
  if (typeof raftAddr !== 'string' || raftAddr.length > MAX_RAFT_ADDR_LENGTH || !isHostPort(raftAddr)) {
    return { ok: false, message: `raftAddr must be host:port, at most ${MAX_RAFT_ADDR_LENGTH} characters` };
  }
  if (nodeUuid !== undefined && (typeof nodeUuid !== 'string' || !UUID.test(nodeUuid))) {
    return { ok: false, message: 'nodeUuid must be a UUID' };
  }
  const value: JoinRequest = { id: memberId.value, httpUrl: url.value, raftAddr };
  if (nodeUuid !== undefined) value.nodeUuid = nodeUuid.toLowerCase();
  return { ok: true, value };
}

const INVALID_ID = { ok: false, message: `id must be ${NODE_ID_RULE}` } as const;

/** A member id in a JSON body: a number (not a numeric string) that fits the wire's uint32. */
export function parseMemberId(id: unknown): Parsed<number> {
  return isNodeId(id) ? { ok: true, value: id } : INVALID_ID;
}

/** A member id in a path segment: decimal digits only, so "1e3", "0x10" or " 7" are refused. */
export function parseMemberIdParam(segment: string): Parsed<number> {
  return /^[1-9][0-9]{0,9}$/.test(segment) ? parseMemberId(Number(segment)) : INVALID_ID;
}

/** An http(s) base URL, without the trailing slash (shortUrl and leaderUrl append paths to it). */
function parseHttpUrl(input: unknown): Parsed<string> {
  const invalid = {
    ok: false,
    message: `httpUrl must be an http:// or https:// URL, at most ${MAX_HTTP_URL_LENGTH} characters`,
  } as const;
  if (typeof input !== 'string' || input.length > MAX_HTTP_URL_LENGTH) return invalid;
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
