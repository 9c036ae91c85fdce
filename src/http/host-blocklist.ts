// The hosts POST /shorten refuses to shorten (--blocked-hosts). An entry blocks the host itself
// and every subdomain of it: "evil.org" blocks evil.org, www.evil.org and a.b.evil.org, but not
// notevil.org. Entries and URLs are compared as the WHATWG URL parser spells hosts (lower case,
// punycode, IPv4 in dotted decimal, IPv6 in brackets), so "EVIL.org.", "xn--…" or "0x7f.1" forms
// of a blocked host cannot slip through.

/** The blocked entry the URL's host falls under, or undefined. */
export type HostBlocklist = (url: string) => string | undefined;

/**
 * Normalizes the configured entries ("*.evil.org" and ".evil.org" mean "evil.org"; empty ones are
 * ignored). Throws a TypeError naming an entry that is not a host name or address.
 */
export function normalizeBlockedHosts(entries: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of entries) {
    let entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\*?\./, '');
    if (entry === '') continue;
    if (entry.includes(':') && !entry.startsWith('[')) entry = `[${entry}]`; // a bare IPv6 address
    let host: string;
    try {
      const url = new URL(`http://${entry}/`);
      if (url.username || url.password || url.port || url.pathname !== '/' || url.search || url.hash) {
        throw new TypeError('not a bare host');
      }
      host = url.hostname;
    } catch {
      throw new TypeError(`blocked host ${JSON.stringify(raw)} is not a host name or IP address`);
    }
    out.add(stripDot(host));
  }
  return [...out];
}

export function hostBlocklist(entries: readonly string[]): HostBlocklist {
  const blocked = new Set(normalizeBlockedHosts(entries));
  if (blocked.size === 0) return () => undefined;
  return (url) => {
    let host: string;
    try {
      host = stripDot(new URL(url).hostname);
    } catch {
      return undefined; // callers pass validated URLs
    }
    if (blocked.has(host)) return host;
    // Addresses have no subdomains: 10.1.2.3 is not "under" 1.2.3.
    if (host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host)) return undefined;
    for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const parent = host.slice(dot + 1);
      if (blocked.has(parent)) return parent;
    }
    return undefined;
  };
}

/** "evil.org." (the fully qualified spelling) is the same host as "evil.org". */
function stripDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
