import { describe, expect, it } from 'vitest';
import { DecodeError, decodeCommand, encodeCommand, type UrlCommand } from '../../src/shortener/commands.js';

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
