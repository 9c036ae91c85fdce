// A follower's side of POST /cluster/join: it passes the join on to the leader itself, with its
// own cluster token, to the leader's address from the Raft membership (which only token holders
// can change). So a joining node sends its token to the one URL its operator gave it and never to
// an address it learned from an answer nobody authenticated (a 409's leaderUrl, a redirect).
import { Agent, fetch } from 'undici';
import type { ForwardJoin } from '../service/cluster-admin.js';
import { FORWARDED_JOIN_HEADER } from './node-api.js';

export function joinForwarder(options: {
  nodeId: number;
  clusterToken?: string;
  ca?: Buffer;
  timeoutMs?: number;
}): ForwardJoin {
  const dispatcher = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [FORWARDED_JOIN_HEADER]: String(options.nodeId),
  };
  if (options.clusterToken !== undefined) headers['x-cluster-token'] = options.clusterToken;
  const timeoutMs = options.timeoutMs ?? 10_000;

  return async (leaderUrl, request) => {
    const res = await fetch(new URL('/cluster/join', leaderUrl), {
      method: 'POST',
      headers,
      body: JSON.stringify(request),
      // A redirect would take the token somewhere the membership does not name.
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
      dispatcher,
    });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        body = parsed as Record<string, unknown>;
      }
    } catch {
      body = { message: text.slice(0, 200) };
    }
    return { status: res.status, body };
  };
}
