import { describe, expect, it } from 'vitest';
import { parseInstant, parseIsoInstant } from '../../src/http/parse-instant.js';

describe('parseInstant', () => {
  it.each([
    ['2030-01-31', Date.UTC(2030, 0, 31)],
    ['2028-02-29', Date.UTC(2028, 1, 29)],
    ['2030-01-31T12:00Z', Date.UTC(2030, 0, 31, 12)],
    ['2030-01-31T12:00:05Z', Date.UTC(2030, 0, 31, 12, 0, 5)],
    ['2030-01-31T12:00:05.25Z', Date.UTC(2030, 0, 31, 12, 0, 5, 250)],
    ['2030-01-31T12:00:05.123456789z', Date.UTC(2030, 0, 31, 12, 0, 5, 123)],
    ['2030-01-31t12:00:00+02:00', Date.UTC(2030, 0, 31, 10)],
    ['2030-01-31T00:30:00-01:30', Date.UTC(2030, 0, 31, 2)],
    ['0050-06-01', -60_576_249_600_000], // not 1950: years below 100 are years
  ])('reads %s', (text, ms) => {
    expect(parseIsoInstant(text)).toBe(ms);
    expect(parseInstant(text)).toBe(ms);
  });

  it.each([
    '2030-02-30', // rolls over to March 2 in Date.parse
    '2030-02-29', // not a leap year
    '2100-02-29', // a century that is not a leap year
    '2030-04-31',
    '2030-13-01',
    '2030-00-10',
    '2030-01-00',
    '2030-01-31T24:00:00Z',
    '2030-01-31T12:60:00Z',
    '2030-01-31T12:00:60Z',
    '2030-01-31T12:00:00+24:00',
    '2030-01-31T12:00:00', // no zone: its instant would depend on the server's time zone
    '2030-01-31 12:00:00Z',
    '2030-1-31',
    '31/01/2030',
    'Jan 31 2030',
    'Thu, 31 Jan 2030 12:00:00 GMT',
    '2030-01-31T12:00:00Zjunk',
    '+002030-01-31',
    'tomorrow',
    '',
  ])('refuses %j', (text) => {
    expect(parseIsoInstant(text)).toBeUndefined();
    expect(parseInstant(text)).toBeUndefined();
  });

  it('keeps epoch milliseconds, as a number or as digits', () => {
    expect(parseInstant(1_900_000_000_000)).toBe(1_900_000_000_000);
    expect(parseInstant('1900000000000')).toBe(1_900_000_000_000);
    expect(parseInstant(-1)).toBeUndefined();
    expect(parseInstant(Number.NaN)).toBeUndefined();
    expect(parseInstant(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(parseInstant(true)).toBeUndefined();
  });
});
