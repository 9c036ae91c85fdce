// A short link must not point at the cluster's own short URLs: GET /a → /b → /a … is a redirect
// loop for every client, and a link to a node's API is never what a user meant. The bases are
// the cluster's public base URL and every member's HTTP URL; a target is refused when it has the
// same scheme, host and port as one of them and a path at or below the base's path. Hosts are
// compared as the WHATWG URL parser spells them (so "EXAMPLE.com." is example.com); other names
// for the same machine (localhost for 127.0.0.1, a second DNS name) are not known here.

function comparableOrigin(url: URL): string {
  const host = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
  return `${url.protocol}//${host}:${url.port}`;
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The base among `bases` that `url` points under, or undefined when it points elsewhere. */
export function ownUrlBase(url: string, bases: readonly string[]): string | undefined {
  const target = parse(url);
  if (target === undefined) return undefined;
  const origin = comparableOrigin(target);
  const path = target.pathname.endsWith('/') ? target.pathname : `${target.pathname}/`;
  for (const base of bases) {
    const b = parse(base);
    if (b === undefined || comparableOrigin(b) !== origin) continue;
    const basePath = b.pathname.endsWith('/') ? b.pathname : `${b.pathname}/`;
    if (path.startsWith(basePath)) return base;
  }
  return undefined;
}
