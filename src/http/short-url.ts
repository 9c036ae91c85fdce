// Two kinds of base URL, kept apart on purpose:
// - the short-URL base (--short-url-base): the one public address of the whole service, e.g.
//   "https://sho.rt", the same on every node. shortUrl = base + '/' + code, and the web page and
//   the OpenAPI document name it, since that is what users keep and share.
// - a node's own URL (--public-url): where clients and peers reach this particular node. It is
//   what a follower's 409 gives as leaderUrl, and what joins and visit batches are sent to.
// Without a short-URL base (one node, or no balancer in front) the node's own URL serves as both.
export type ShortUrlOf = (code: string) => string;

/** An http(s) URL without trailing slashes; throws a TypeError for anything else. */
export function normalizeBaseUrl(base: string, name = 'publicUrl'): string {
  let url: URL | undefined;
  try {
    url = new URL(base);
  } catch {
    url = undefined;
  }
  // "localhost:8081" parses, as a URL with the scheme "localhost:"; refuse it at startup.
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError(`${name} must be an http(s) URL, got ${JSON.stringify(base)}`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError(`${name} must not have a query or a fragment, got ${JSON.stringify(base)}`);
  }
  // "http://host:8081/" and "http://host:8081" must both give "http://host:8081/abc".
  return url.href.replace(/\/+$/, '');
}

export function shortUrlBuilder(base: string): ShortUrlOf {
  const normalized = normalizeBaseUrl(base);
  return (code) => `${normalized}/${code}`;
}

/**
 * The bases under which this cluster itself answers (the short-URL base and this node's own URL):
 * a long URL under one of them would redirect to the service itself, so callers can refuse it.
 * Peers' own URLs are in the membership (GET /cluster/status) and change with it.
 */
export function ownBaseUrls(options: { shortUrlBase?: string; publicUrl: string }): string[] {
  const bases = [options.shortUrlBase, options.publicUrl]
    .filter((b): b is string => b !== undefined)
    .map((b) => normalizeBaseUrl(b));
  return [...new Set(bases)];
}
