import { describe, expect, it } from 'vitest';
import { MAX_URL_BYTES, validateLongUrl } from '../../src/shortener/validate-url.js';

describe('validateLongUrl', () => {
  it.each([
    ['https://example.com/a?b=c#d', 'https://example.com/a?b=c#d'],
    ['http://example.com', 'http://example.com/'],
    ['  https://example.com/padded \n', 'https://example.com/padded'],
    ['HTTPS://EXAMPLE.com:443/Path', 'https://example.com/Path'],
    ['https://example.com/a b', 'https://example.com/a%20b'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
  ])('accepts %j as %j', (input, url) => {
    expect(validateLongUrl(input)).toEqual({ ok: true, url });
  });

  it('gives equivalent spellings the same url, so the store dedups them', () => {
    const a = validateLongUrl('HTTP://Example.COM');
    const b = validateLongUrl('http://example.com/');
    expect(a.ok && b.ok && a.url === b.url).toBe(true);
  });

  it.each([
    ['a number', 42, 'url must be a string'],
    ['null', null, 'url must be a string'],
    ['an object', { url: 'https://example.com' }, 'url must be a string'],
    ['the empty string', '', 'url must not be empty'],
    ['only whitespace', ' \t\n ', 'url must not be empty'],
    ['a relative URL', 'example.com/page', 'url must be an absolute URL, such as https://example.com/page'],
    ['a URL without a host', 'http://', 'url must be an absolute URL, such as https://example.com/page'],
    ['ftp', 'ftp://example.com/file', 'url must use http or https'],
    ['javascript', 'javascript:alert(1)', 'url must use http or https'],
    ['data', 'data:text/html,<b>hi</b>', 'url must use http or https'],
    ['file (no host either)', 'file:///etc/passwd', 'url must use http or https'],
  ])('rejects %s', (_name, input, message) => {
    expect(validateLongUrl(input)).toEqual({ ok: false, message });
  });

  it('accepts exactly 8192 bytes and rejects one more', () => {
    const prefix = 'https://example.com/';
    const atLimit = prefix + 'a'.repeat(MAX_URL_BYTES - prefix.length);
    expect(validateLongUrl(atLimit)).toEqual({ ok: true, url: atLimit });
    expect(validateLongUrl(atLimit + 'a')).toEqual({ ok: false, message: 'url must be at most 8192 bytes' });
  });

  it('rejects a URL that only grows past the limit when normalized', () => {
    // Each "é" is 2 bytes as typed and 6 bytes ("%C3%A9") once percent-encoded.
    const input = 'https://example.com/' + 'é'.repeat(2000);
    expect(Buffer.byteLength(input)).toBeLessThanOrEqual(MAX_URL_BYTES);
    expect(validateLongUrl(input)).toEqual({ ok: false, message: 'url must be at most 8192 bytes' });
  });
});
