// A bounds-checked cursor over bytes that came from the network or disk.
// Every read checks the remaining length so truncated input fails with a clear message
// instead of reading zeros or garbage past the end.

/** The bytes are not a valid encoding of what the caller expected. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

// fatal: true rejects invalid UTF-8 rather than silently substituting U+FFFD,
// which would turn corrupt bytes into a plausible but wrong string.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export class ByteReader {
  private readonly view: DataView;
  private offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    /** Names what is being decoded, for error messages. */
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  uint8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.offset++);
  }

  uint32(field: string): number {
    this.need(4, field);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  float64(field: string): number {
    this.need(8, field);
    const value = this.view.getFloat64(this.offset);
    this.offset += 8;
    return value;
  }

  utf8(byteLength: number, field: string): string {
    this.need(byteLength, field);
    const slice = this.bytes.subarray(this.offset, this.offset + byteLength);
    this.offset += byteLength;
    try {
      return strictUtf8.decode(slice);
    } catch {
      throw this.error(`${field} is not valid UTF-8`);
    }
  }

  /** Trailing bytes mean the input is not what we think it is; refuse rather than ignore them. */
  end(): void {
    const left = this.bytes.byteLength - this.offset;
    if (left !== 0) throw this.error(`${left} unexpected trailing byte(s)`);
  }

  error(detail: string): DecodeError {
    return new DecodeError(`cannot decode ${this.what}: ${detail}`);
  }

  private need(byteLength: number, field: string): void {
    if (this.offset + byteLength > this.bytes.byteLength) {
      throw this.error(`truncated at ${field} (needs ${byteLength} byte(s) at offset ${this.offset})`);
    }
  }
}
