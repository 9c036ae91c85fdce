// --forward-query: the request's query joins the long URL's, safely; both redirect paths (the hot
// one and Express's) do it; without the flag the query is dropped, on the fast path all the same.
import { get as httpGet } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  forwardableQuery,
  hasConsistencyParam,
  withForwardedQuery,
} from '../../src/http/query-forwarding.js';
import { startApp } from './harness.js';

describe('withForwardedQuery', () => {
  it.each([
    ['https://example.com/p', 'utm_source=x', 'https://example.com/p?utm_source=x'],
    ['https://example.com/p?a=1', 'utm_source=x', 'https://example.com/p?a=1&utm_source=x'],
    ['https://example.com/p?', 'b=2', 'https://example.com/p?b=2'],
    ['https://example.com/p?a=1&', 'b=2', 'https://example.com/p?a=1&b=2'],
    ['https://example.com/p#top', 'b=2', 'https://example.com/p?b=2#top'],
    ['https://example.com/p?a=1#top', 'a=2', 'https://example.com/p?a=1&a=2#top'],
    ['https://example.com/p', '', 'https://example.com/p'],
  ])('%s + %s → %s', (target, query, expected) => {
    expect(withForwardedQuery(target, query)).toBe(expected);
  });
});

describe('forwardableQuery', () => {
  it('drops the read option consistency and empty pairs, keeps the rest as sent', () => {
    expect(forwardableQuery('consistency=local&utm_source=x&&b=%20c')).toBe('utm_source=x&b=%20c');
    expect(forwardableQuery('consistency=linearizable')).toBe('');
  });

  it('percent-encodes what may not stand in a Location header or would end the query', () => {
    expect(forwardableQuery('q=a b"<>`#{}|\\^')).toBe('q=a%20b%22%3C%3E%60%23%7B%7D%7C%5C%5E');
    // Node gives the request-target as latin1: each character is one byte the client sent.
    expect(forwardableQuery('q=\u00c3\u00a9')).toBe('q=%C3%A9');
    expect(forwardableQuery('q=\u0001\u007f')).toBe('q=%01%7F');
  });

  it('hasConsistencyParam finds the parameter, not a value or a longer name', () => {
    expect(hasConsistencyParam('consistency=local')).toBe(true);
    expect(hasConsistencyParam('a=1&consistency=local')).toBe(true);
    expect(hasConsistencyParam('a=consistency=local')).toBe(false);
    expect(hasConsistencyParam('xconsistency=1')).toBe(false);
  });
});

describe('redirects with a query', () => {
  it('with --forward-query the Location carries the query; the API parameter is not passed on', async () => {
    const h = await startApp({ forwardQuery: true });
    try {
      h.node.seed({ code: 'abc', url: 'https://example.com/t?a=1#f', createdAt: 0 });
      const res = await fetch(`${h.baseUrl}/abc?utm_source=x&utm_medium=y`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('https://example.com/t?a=1&utm_source=x&utm_medium=y#f');
      const linear = await fetch(`${h.baseUrl}/abc?consistency=linearizable&utm_source=z`, {
        redirect: 'manual',
      });
      expect(linear.headers.get('location')).toBe('https://example.com/t?a=1&utm_source=z#f');
      const plain = await fetch(`${h.baseUrl}/abc`, { redirect: 'manual' });
      expect(plain.headers.get('location')).toBe('https://example.com/t?a=1#f');
      // Both redirects with a query were counted as visits, like any other.
      expect(h.node.recordedVisits.map((v) => v.code)).toEqual(['abc', 'abc', 'abc']);
    } finally {
      await h.close();
    }
  });

  it('characters a client sent unencoded reach the Location percent-encoded (a valid header)', async () => {
    const h = await startApp({ forwardQuery: true });
    try {
      h.node.seed({ code: 'abc', url: 'https://example.com/t', createdAt: 0 });
      // fetch would encode these itself; node:http sends the path as given.
      const location = await new Promise<string | undefined>((resolve, reject) => {
        const req = httpGet(`${h.baseUrl}/abc?x="<>\`{}|^\\`, (res) => {
          res.resume();
          resolve(res.headers.location);
        });
        req.on('error', reject);
      });
      expect(location).toBe('https://example.com/t?x=%22%3C%3E%60%7B%7D%7C%5E%5C');
    } finally {
      await h.close();
    }
  });

  it('without the flag the query is dropped', async () => {
    const h = await startApp();
    try {
      h.node.seed({ code: 'abc', url: 'https://example.com/t', createdAt: 0 });
      const res = await fetch(`${h.baseUrl}/abc?utm_source=x`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('https://example.com/t');
    } finally {
      await h.close();
    }
  });
});
