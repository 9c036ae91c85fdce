// The flags of a node that runs behind a load balancer, one public domain for the whole cluster
// (README "Deploy"). Kept apart from cmd/node.ts so that file only spreads them in.
import { normalizeBaseUrl } from '../src/http/short-url.js';
import type { NodeConfig } from '../src/server.js';

export const DEPLOY_FLAGS = {
  'short-url-base': { type: 'string' },
  'forward-writes': { type: 'boolean' },
} as const;

export const DEPLOY_USAGE = `  --short-url-base URL   the service's one public address, the same on every node (e.g. https://sho.rt):
                         shortUrl, the web page and the OpenAPI servers use it; leaderUrl stays the
                         node's own --public-url (SHORT_URL_BASE, default the node's --public-url)
  --forward-writes       a follower passes writes to the leader and returns its answer, instead of
                         409 not_leader with leaderUrl (FORWARD_WRITES=1)`;

type DeployValues = {
  [K in keyof typeof DEPLOY_FLAGS]?: (typeof DEPLOY_FLAGS)[K]['type'] extends 'boolean' ? boolean : string;
};

export type DeployConfig = Pick<NodeConfig, 'shortUrlBase' | 'forwardWrites'>;

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
  return config;
}

function flag(value: string | undefined, name: string, fail: (message: string) => never): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  return fail(`${name} must be 1/true or 0/false, got "${value}"`);
}
