import { describe, expect, it } from 'vitest';
import { ownUrlBase } from '../../src/http/own-urls.js';

describe('ownUrlBase', () => {
  const bases = ['https://sho.rt/s/', 'http://10.0.0.1:8081'];

  it.each([
    ['https://sho.rt/s/abc', 'https://sho.rt/s/'],
    ['https://sho.rt/s', 'https://sho.rt/s/'],
    ['https://SHO.RT.:443/s/abc', 'https://sho.rt/s/'],
    ['http://10.0.0.1:8081/abc', 'http://10.0.0.1:8081'],
  ])('%s is under %s', (url, base) => {
    expect(ownUrlBase(url, bases)).toBe(base);
  });

  it.each([
    'https://sho.rt/',
    'https://sho.rt/sx/abc',
    'http://sho.rt/s/abc',
    'http://10.0.0.1:8082/',
    'not a url',
  ])('%s is not', (url) => {
    expect(ownUrlBase(url, bases)).toBeUndefined();
  });
});
