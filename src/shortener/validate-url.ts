// Validates and normalizes the long URL of a create request, before anything is proposed.
// Normalizing (WHATWG href) makes equivalent spellings, e.g. "HTTP://Example.com", one URL, so the
// store's "same URL, same code" rule sees them as the same.

export const MAX_URL_BYTES = 8192;

export type UrlValidation = { ok: true; url: string } | { ok: false; message: string };

export function validateLongUrl(input: unknown): UrlValidation {
  if (typeof input !== 'string') return invalid('url must be a string');
  const trimmed = input.trim();
  if (trimmed === '') return invalid('url must not be empty');
  // Checked before parsing so an oversized body is not parsed at all, and again after, because
  // normalizing can grow a URL (percent-encoding, punycode).
  if (Buffer.byteLength(trimmed, 'utf8') > MAX_URL_BYTES) return tooLong();

  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return invalid('url must be an absolute URL, such as https://example.com/page');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return invalid('url must use http or https');
  }
  if (parsed.hostname === '') return invalid('url must have a host');

  const url = parsed.href;
  if (Buffer.byteLength(url, 'utf8') > MAX_URL_BYTES) return tooLong();
  return { ok: true, url };
}

function invalid(message: string): UrlValidation {
  return { ok: false, message };
}

function tooLong(): UrlValidation {
  return invalid(`url must be at most ${MAX_URL_BYTES} bytes`);
}
