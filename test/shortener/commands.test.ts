import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  decodeCommand,
  encodeCommand,
  type UrlCommand,
  type VisitsCommand,
} from '../../src/shortener/commands.js';

const sample: UrlCommand = {
  type: 'create',
  code: 'abc1234',
  url: 'https://example.com/path?q=1#frag',
  createdAt: 1_700_000_000_123,
};

describe('command codec', () => {
  it.each<UrlCommand>([
    sample,
    { type: 'create', code: 'Z', url: '', createdAt: 0 },
    { type: 'create', code: 'my-alias_ü', url: 'https://例え.jp/ünïcödé', createdAt: 1.5 },
    { type: 'create', code: 'x'.repeat(255), url: `https://example.com/${'y'.repeat(8192)}`, createdAt: -1 },
  ])('round-trips %#', (cmd) => {
    expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
  });

  it('is compact: a fixed 15 bytes of framing around the two strings', () => {
    const bytes = encodeCommand(sample);
    expect(bytes.byteLength).toBe(15 + sample.code.length + sample.url.length);
  });

  it('decodes from a view into a larger buffer', () => {
    const bytes = encodeCommand(sample);
    const padded = new Uint8Array(bytes.byteLength + 10);
    padded.set(bytes, 5);
    expect(decodeCommand(padded.subarray(5, 5 + bytes.byteLength))).toEqual(sample);
  });

  it('refuses to encode a code that could not be an LMDB key or a createdAt that is not a number', () => {
    expect(() => encodeCommand({ ...sample, code: '' })).toThrow(/code must be 1\.\.255 bytes/);
    expect(() => encodeCommand({ ...sample, code: 'x'.repeat(256) })).toThrow(/code must be 1\.\.255 bytes/);
    expect(() => encodeCommand({ ...sample, createdAt: Number.NaN })).toThrow(/createdAt must be a finite/);
  });
});

describe('decoding garbage', () => {
  const valid = Buffer.from(encodeCommand(sample));

  function mutated(change: (bytes: Buffer) => void): Buffer {
    const copy = Buffer.from(valid);
    change(copy);
    return copy;
  }

  it.each([
    ['empty input', Buffer.alloc(0), /truncated at codec version/],
    ['an unknown codec version', mutated((b) => (b[0] = 2)), /unsupported codec version 2/],
    ['JSON', Buffer.from(JSON.stringify(sample)), /unsupported codec version 123/],
    ['an unknown command type', mutated((b) => (b[1] = 99)), /unknown command type 99/],
    ['trailing bytes', Buffer.concat([valid, Buffer.from([0])]), /1 unexpected trailing byte/],
    ['an empty code', mutated((b) => (b[10] = 0)), /code is empty/],
    ['a NaN createdAt', mutated((b) => b.writeDoubleBE(Number.NaN, 2)), /createdAt is not a finite number/],
    ['a url length past the end', mutated((b) => b.writeUInt32BE(0xffffffff, 18)), /truncated at url/],
    ['invalid UTF-8 in the code', mutated((b) => (b[11] = 0xff)), /code is not valid UTF-8/],
  ])('rejects %s with a clear DecodeError', (_name, bytes, message) => {
    expect(() => decodeCommand(bytes)).toThrow(DecodeError);
    expect(() => decodeCommand(bytes)).toThrow(message);
  });

  it('rejects every truncation of a valid command', () => {
    for (let length = 0; length < valid.length; length++) {
      expect(() => decodeCommand(valid.subarray(0, length)), `length ${length}`).toThrow(
        /cannot decode command/,
      );
    }
  });
});

describe('new command types (aliases, expiry, idempotency keys, delete, purge)', () => {
  it.each<UrlCommand>([
    {
      type: 'create',
      code: 'my-alias',
      url: 'https://example.com/a',
      createdAt: 1_700_000_000_000,
      alias: true,
    },
    { type: 'create', code: 'abc1234', url: 'https://example.com/e', createdAt: 1000, expiresAt: 61_000 },
    {
      type: 'create',
      code: 'abc1234',
      url: 'https://example.com/k',
      createdAt: 1000,
      idempotency: { key: 'c0ffee-ü', fingerprint: 'fp', expiresAt: 86_401_000 },
    },
    {
      type: 'create',
      code: 'x'.repeat(64),
      url: 'https://example.com/all',
      createdAt: 5,
      alias: true,
      expiresAt: 0,
      idempotency: { key: 'k'.repeat(255), fingerprint: 'f'.repeat(255), expiresAt: 10 },
    },
    { type: 'delete', code: 'abc1234' },
    { type: 'delete', code: 'x'.repeat(255) },
    { type: 'purge', now: 1_700_000_000_000, expiredBefore: 1_699_996_400_000, limit: 5000 },
    { type: 'purge', now: 0, expiredBefore: -3_600_000, limit: 0xffffffff },
  ])('round-trips %#', (cmd) => {
    expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
  });

  it('still writes a plain create as type 1, byte for byte as the first version did (old logs decode the same)', () => {
    // Bytes of `sample` as the first version of the codec wrote them.
    const v1 = Buffer.concat([
      Buffer.from([1, 1]),
      Buffer.from('4278bcfe5687b000', 'hex'), // 1_700_000_000_123 as float64 BE
      Buffer.from([7]),
      Buffer.from('abc1234'),
      Buffer.from([0, 0, 0, sample.url.length]),
      Buffer.from(sample.url),
    ]);
    expect(Buffer.from(encodeCommand(sample)).equals(v1)).toBe(true);
    expect(decodeCommand(v1)).toEqual(sample);
    // alias: false is a plain create too.
    expect(Buffer.from(encodeCommand({ ...sample, alias: false })).equals(v1)).toBe(true);
  });

  it('refuses to encode negative or non-finite expiry instants and bad keys or limits', () => {
    expect(() => encodeCommand({ ...sample, expiresAt: -1 })).toThrow(
      /expiresAt must be a finite number >= 0/,
    );
    expect(() => encodeCommand({ ...sample, expiresAt: Infinity })).toThrow(/expiresAt/);
    expect(() =>
      encodeCommand({ ...sample, idempotency: { key: '', fingerprint: 'f', expiresAt: 1 } }),
    ).toThrow(/idempotency key must be 1\.\.255 bytes/);
    expect(() => encodeCommand({ type: 'delete', code: '' })).toThrow(/code must be 1\.\.255 bytes/);
    expect(() => encodeCommand({ type: 'purge', now: 1, expiredBefore: 1, limit: 0 })).toThrow(/limit/);
    expect(() => encodeCommand({ type: 'purge', now: NaN, expiredBefore: 1, limit: 1 })).toThrow(/now/);
  });

  const ext = Buffer.from(
    encodeCommand({
      type: 'create',
      code: 'alias01',
      url: 'https://example.com/',
      createdAt: 1,
      alias: true,
      expiresAt: 2,
      idempotency: { key: 'key', fingerprint: 'fp', expiresAt: 3 },
    }),
  );
  const del = Buffer.from(encodeCommand({ type: 'delete', code: 'abc' }));
  const purge = Buffer.from(encodeCommand({ type: 'purge', now: 1, expiredBefore: 0, limit: 10 }));

  it.each([
    [
      'unknown create flags',
      Buffer.concat([ext.subarray(0, 10), Buffer.from([ext[10]! | 32]), ext.subarray(11)]),
      /unknown create flags/,
    ],
    [
      'a negative expiresAt',
      (() => {
        const b = Buffer.from(ext);
        b.writeDoubleBE(-5, ext.length - 8 - 1 - 3 - 1 - 2 - 8);
        return b;
      })(),
      /expiresAt is negative/,
    ],
    ['a delete with trailing bytes', Buffer.concat([del, Buffer.from([1])]), /trailing/],
    [
      'a purge with limit 0',
      (() => {
        const b = Buffer.from(purge);
        b.writeUInt32BE(0, 18);
        return b;
      })(),
      /limit is 0/,
    ],
  ])('rejects %s', (_name, bytes, message) => {
    expect(() => decodeCommand(bytes)).toThrow(DecodeError);
    expect(() => decodeCommand(bytes)).toThrow(message);
  });

  it('rejects every truncation of each new command', () => {
    for (const valid of [ext, del, purge]) {
      for (let length = 0; length < valid.length; length++) {
        expect(() => decodeCommand(valid.subarray(0, length)), `length ${length}`).toThrow(
          /cannot decode command/,
        );
      }
    }
  });
});

describe('the visits command (type 5)', () => {
  const batch: UrlCommand = {
    type: 'visits',
    origin: 3,
    session: 0xfedcba98,
    seq: 17,
    visits: [
      { code: 'abc1234', createdAt: 1_700_000_000_123, day: 20_413, count: 5 },
      { code: 'my-alias_ü', createdAt: 0, day: 0, count: 0xffffffff },
      { code: 'x'.repeat(255), createdAt: -1.5, day: 100_000_000, count: 1 },
    ],
  };
  const bytes = Buffer.from(encodeCommand(batch));

  it('round-trips, with its batch id and every count', () => {
    expect(decodeCommand(bytes)).toEqual(batch);
    expect(bytes[1]).toBe(5);
    expect(bytes.readUInt32BE(2)).toBe(3); // origin
    expect(bytes.readUInt32BE(6)).toBe(0xfedcba98); // session
    expect(bytes.readDoubleBE(10)).toBe(17); // seq
    expect(bytes.readUInt32BE(18)).toBe(3); // number of counts
  });

  it('is compact: 22 bytes of framing, then 17 bytes plus the code per count', () => {
    const one = encodeCommand({ ...batch, visits: [batch.visits[0]!] } as UrlCommand);
    expect(one.byteLength).toBe(22 + 17 + 'abc1234'.length);
  });

  it.each<[string, (cmd: VisitsCommand) => void, RegExp]>([
    ['origin 0', (c) => (c.origin = 0), /origin/],
    ['an origin over 32 bits', (c) => (c.origin = 2 ** 32), /origin/],
    ['a negative session', (c) => (c.session = -1), /session/],
    ['seq 0', (c) => (c.seq = 0), /seq/],
    ['a fractional seq', (c) => (c.seq = 1.5), /seq/],
    ['an empty batch', (c) => (c.visits = []), /1\.\.2\^32-1 counts/],
    ['count 0', (c) => (c.visits[0]!.count = 0), /count/],
    ['a day past what a Date can show', (c) => (c.visits[0]!.day = 100_000_001), /day/],
    ['a negative day', (c) => (c.visits[0]!.day = -1), /day/],
    ['a NaN createdAt', (c) => (c.visits[0]!.createdAt = NaN), /createdAt/],
    ['an empty code', (c) => (c.visits[0]!.code = ''), /code must be 1\.\.255 bytes/],
  ])('refuses to encode %s', (_name, spoil, message) => {
    const cmd = structuredClone(batch) as VisitsCommand;
    spoil(cmd);
    expect(() => encodeCommand(cmd)).toThrow(message);
  });

  it.each([
    ['origin 0', (b: Buffer) => b.writeUInt32BE(0, 2), /origin is 0/],
    ['seq 0', (b: Buffer) => b.writeDoubleBE(0, 10), /seq is not a positive integer/],
    ['an empty batch', (b: Buffer) => b.writeUInt32BE(0, 18), /trailing|empty/],
    ['a count of 0', (b: Buffer) => b.writeUInt32BE(0, 22 + 1 + 7 + 8 + 4), /count is 0/],
    ['a day too far', (b: Buffer) => b.writeUInt32BE(100_000_001, 22 + 1 + 7 + 8), /day 100000001/],
    ['more counts announced than sent', (b: Buffer) => b.writeUInt32BE(4, 18), /truncated/],
  ])('rejects %s', (_name, spoil, message) => {
    const b = Buffer.from(bytes);
    spoil(b);
    expect(() => decodeCommand(b)).toThrow(DecodeError);
    expect(() => decodeCommand(b)).toThrow(message);
  });

  it('rejects every truncation', () => {
    for (let length = 0; length < bytes.length; length++) {
      expect(() => decodeCommand(bytes.subarray(0, length)), `length ${length}`).toThrow(
        /cannot decode command/,
      );
    }
  });
});
