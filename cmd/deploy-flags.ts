// The flags of a node that runs behind a load balancer, one public domain for the whole cluster
// (README "Deploy"). Kept apart from cmd/node.ts so that file only spreads them in.
import { parseCidrs } from '../src/http/client-address.js';
import { normalizeBaseUrl } from '../src/http/short-url.js';
import type { NodeConfig } from '../src/server.js';

export const DEPLOY_FLAGS = {
  'short-url-base': { type: 'string' },
  'forward-writes': { type: 'boolean' },
  'trust-proxy': { type: 'string' },
  'shutdown-delay-ms': { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
} as const;

export const DEPLOY_USAGE = `  --short-url-base URL   the service's one public address, the same on every node (e.g. https://sho.rt):
                         shortUrl, the web page and the OpenAPI servers use it; leaderUrl stays the
                         node's own --public-url (SHORT_URL_BASE, default the node's --public-url)
  --forward-writes       a follower passes writes to the leader and returns its answer, instead of
                         409 not_leader with leaderUrl (FORWARD_WRITES=1)
  --trust-proxy CIDR,..  proxies (the load balancer; the nodes, without a cluster token) whose
                         X-Forwarded-For/Forwarded names the client for the write rate limit (TRUST_PROXY)
  --shutdown-delay-ms N  on SIGTERM, readiness answers 503 this long before the listener closes, so a
                         balancer stops sending first (SHUTDOWN_DELAY_MS, default 0)
  --drain-timeout-ms N   then requests in flight get this long to finish (DRAIN_TIMEOUT_MS, default 10000)`;

type DeployValues = {
  [K in keyof typeof DEPLOY_FLAGS]?: (typeof DEPLOY_FLAGS)[K]['type'] extends 'boolean' ? boolean : string;
};

export type DeployConfig = Pick<
  NodeConfig,
  'shortUrlBase' | 'forwardWrites' | 'trustProxy' | 'shutdownDelayMs' | 'drainTimeoutMs'
>;

/** The deploy settings from flags (which win) and the environment; `fail` reports a bad value. */
export function deployConfig(
  values: DeployValues,
  env: NodeJS.ProcessEnv,
  fail: (message: string) => never,
): DeployConfig {
  const config: DeployConfig = {};
  const base = values['short-url-base'] ?? (env.SHORT_URL_BASE || undefined);
  if (base !== undefined) {
    try {
      config.shortUrlBase = normalizeBaseUrl(base, '--short-url-base');
    } catch (err) {
      fail((err as Error).message);
    }
  }
  config.forwardWrites = values['forward-writes'] ?? flag(env.FORWARD_WRITES, 'FORWARD_WRITES', fail);
  const proxies = values['trust-proxy'] ?? (env.TRUST_PROXY || undefined);
  if (proxies !== undefined) {
    const cidrs = proxies
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
    try {
      parseCidrs(cidrs);
    } catch (err) {
      fail(`--trust-proxy: ${(err as Error).message}`);
    }
    config.trustProxy = cidrs;
  }
  config.shutdownDelayMs = milliseconds(
    values['shutdown-delay-ms'] ?? env.SHUTDOWN_DELAY_MS,
    '--shutdown-delay-ms',
    fail,
  );
  config.drainTimeoutMs = milliseconds(
    values['drain-timeout-ms'] ?? env.DRAIN_TIMEOUT_MS,
    '--drain-timeout-ms',
    fail,
  );
  return config;
}

function milliseconds(
  value: string | undefined,
  name: string,
  fail: (message: string) => never,
): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function flag(value: string | undefined, name: string, fail: (message: string) => never): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  return fail(`${name} must be 1/true or 0/false, got "${value}"`);
}
