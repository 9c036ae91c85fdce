// Query forwarding (--forward-query): GET /abc?utm_source=x redirects to the long URL with the
// request's query appended, so campaign tags survive the short link. The target's own query comes
// first and is kept as stored; the request's pairs follow (a name in both appears twice, as with
// any repeated parameter: the target's first); a fragment stays last. The `consistency` parameter
// is this API's own (a read option) and is never passed on.
//
// The request's query is copied as the client sent it, except that anything that may not stand in
// a Location header or would end the query (bytes outside printable ASCII, '#', '"', '<', '>',
// '`', '{', '}', '|', '\', '^', space) is percent-encoded: a Location this node writes is always a
// valid header value and a well-formed URL.

/** The request-target's query without '?', or '' when it has none. */
export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

/** Whether the query names the read option `consistency` (then Express reads it). */
export function hasConsistencyParam(query: string): boolean {
  return query.startsWith('consistency=') || query.includes('&consistency=');
}

const UNSAFE = /[^\x21\x24-\x3b\x3d\x3f-\x5b\x5d\x5f\x61-\x7a\x7e]/gu;

/** The pairs of the request's query to pass on, made safe for a Location header; '' for none. */
export function forwardableQuery(query: string): string {
  if (query === '') return '';
  const pairs = query.split('&').filter((p) => p !== '' && !p.startsWith('consistency='));
  return pairs.join('&').replace(UNSAFE, percentEncoded);
}

/**
 * Node hands the request-target over as latin1: a character up to U+00FF stands for the byte the
 * client sent, so it is encoded as that byte, never re-encoded as UTF-8.
 */
function percentEncoded(c: string): string {
  const bytes = c.charCodeAt(0) <= 0xff ? Buffer.from(c, 'latin1') : Buffer.from(c, 'utf8');
  let out = '';
  for (const b of bytes) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/** The long URL with `query` (already forwardable) added to its own. */
export function withForwardedQuery(longUrl: string, query: string): string {
  if (query === '') return longUrl;
  const hash = longUrl.indexOf('#');
  const base = hash === -1 ? longUrl : longUrl.slice(0, hash);
  const fragment = hash === -1 ? '' : longUrl.slice(hash);
  const q = base.indexOf('?');
  const joiner = q === -1 ? '?' : q === base.length - 1 || base.endsWith('&') ? '' : '&';
  return base + joiner + query + fragment;
}
