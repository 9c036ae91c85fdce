import { describe, expect, it } from 'vitest';
import { isReservedCode, newCode, RESERVED_CODES } from '../../src/shortener/code-generator.js';

describe('code generator', () => {
  it('generates 7 alphanumerics', () => {
    for (let i = 0; i < 10_000; i++) {
      expect(newCode()).toMatch(/^[0-9A-Za-z]{7}$/);
    }
  });

  it('generates varied codes', () => {
    const codes = new Set(Array.from({ length: 1000 }, () => newCode()));
    expect(codes.size).toBe(1000);
  });

  it('reserves the API routes in any case', () => {
    for (const route of ['healthz', 'readyz', 'cluster', 'api', 'shorten', 'metrics', 'openapi.json']) {
      expect(isReservedCode(route)).toBe(true);
    }
    for (const route of ['favicon.ico', 'robots.txt', 'static', 'assets', 'admin']) {
      expect(isReservedCode(route)).toBe(true);
    }
    expect(isReservedCode('HealthZ')).toBe(true);
    expect(isReservedCode('METRICS')).toBe(true);
    expect(isReservedCode('abc1234')).toBe(false);
    expect(isReservedCode('healthz2')).toBe(false);
  });

  it('lists reserved codes in lower case, as isReservedCode compares them', () => {
    for (const code of RESERVED_CODES) expect(code).toBe(code.toLowerCase());
  });

  it('draws again until the code is not reserved', () => {
    const draws = ['healthz', 'Cluster', 'SHORTEN', 'abc1234', 'never00'];
    const code = newCode(() => draws.shift()!);
    expect(code).toBe('abc1234');
    expect(draws).toEqual(['never00']);
  });
});
