// The client's address for the write rate limit (--trust-proxy): behind a load balancer every
// connection comes from the balancer, so the client is named in X-Forwarded-For (or Forwarded) —
// but any client can write those headers, so they count only when the connection comes from a
// trusted proxy. The chain is read from the right (the hop nearest to us) and the first address
// that is not a trusted proxy is the client, as Express's "trust proxy" and nginx's real_ip do.
//
// A write another node forwarded (--forward-writes) carries the cluster token when the cluster
// has one; such a connection is trusted like a proxy, so the client's address survives the hop.
// Without a cluster token, list the nodes' own addresses in --trust-proxy for the same effect.
//
// Never use this for access control: the cluster endpoints' loopback check reads the socket.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { secretMatches } from '../common/secrets.js';

export type ClientAddressOf = (req: IncomingMessage) => string;

/** The socket's peer address (IPv4-mapped IPv6 as plain IPv4). */
export function peerAddress(req: IncomingMessage): string {
  return plain(req.socket.remoteAddress ?? 'unknown');
}

/** A BlockList of the given CIDRs ("10.0.0.0/8", "::1/128", or a bare address); throws on a bad one. */
export function parseCidrs(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of cidrs) {
    const cidr = raw.trim();
    const slash = cidr.indexOf('/');
    const address = slash === -1 ? cidr : cidr.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new TypeError(`not an IP address or CIDR: ${JSON.stringify(raw)}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const max = family === 4 ? 32 : 128;
    const prefix = slash === -1 ? max : Number(cidr.slice(slash + 1));
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (slash !== -1 && cidr.endsWith('/'))) {
      throw new TypeError(`bad prefix length in ${JSON.stringify(raw)}`);
    }
    list.addSubnet(address, prefix, type);
  }
  return list;
}

export function clientAddressResolver(options: {
  /** CIDRs of proxies whose forwarding headers are believed. */
  trustedProxies?: readonly string[];
  clusterToken?: string;
}): ClientAddressOf {
  const proxies = parseCidrs(options.trustedProxies ?? []);
  const { clusterToken } = options;
  const trusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && proxies.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
  const fromCluster = (req: IncomingMessage): boolean =>
    clusterToken !== undefined &&
    req.headers['x-cluster-token'] !== undefined &&
    secretMatches(req.headers['x-cluster-token'] as string, clusterToken);

  return (req) => {
    const peer = peerAddress(req);
    if (!trusted(peer) && !fromCluster(req)) return peer;
    const chain = forwardedChain(req);
    for (let i = chain.length - 1; i >= 0; i--) {
      if (!trusted(chain[i]!)) return chain[i]!;
    }
    // Every hop is a trusted proxy: the one furthest away is as close to the client as we get.
    return chain[0] ?? peer;
  };
}

/** The addresses a request passed through, client first: X-Forwarded-For, else Forwarded's for=. */
export function forwardedChain(req: IncomingMessage): string[] {
  const xff = req.headers['x-forwarded-for'];
  if (xff !== undefined) {
    return (Array.isArray(xff) ? xff.join(',') : xff)
      .split(',')
      .map((s) => hostOnly(s.trim()))
      .filter((s) => s !== '');
  }
  const forwarded = req.headers.forwarded;
  if (forwarded === undefined) return [];
  const out: string[] = [];
  for (const element of forwarded.split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      out.push(
        hostOnly(
          pair
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1'),
        ),
      );
    }
  }
  return out.filter((s) => s !== '');
}

/** "[2001:db8::1]:4711" → "2001:db8::1"; "192.0.2.1:80" → "192.0.2.1"; others as they are. */
function hostOnly(value: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracket) return plain(bracket[1]!);
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(value);
  if (v4port) return v4port[1]!;
  return plain(value);
}

function plain(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
