// shortUrl = this node's public base URL + '/' + code. The base is normalized once, at startup.
export type ShortUrlOf = (code: string) => string;

export function shortUrlBuilder(publicUrl: string): ShortUrlOf {
  let url: URL | undefined;
  try {
    url = new URL(publicUrl);
  } catch {
    url = undefined;
  }
  // "localhost:8081" parses, as a URL with the scheme "localhost:"; refuse it at startup.
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError(`publicUrl must be an http(s) URL, got ${JSON.stringify(publicUrl)}`);
  }
  // "http://host:8081/" and "http://host:8081" must both give "http://host:8081/abc".
  const base = url.href.replace(/\/+$/, '');
  return (code) => `${base}/${code}`;
}
