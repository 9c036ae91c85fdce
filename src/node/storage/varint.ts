// Unsigned LEB128 varints for Raft terms and indexes. They are JS numbers, so at most 2^53 - 1
// (Number.MAX_SAFE_INTEGER): 8 bytes in the worst case, 1-3 bytes for the values a real cluster
// sees. Arithmetic, not bitwise operators, because JS bit operators truncate to 32 bits.

/** Longest encoding of a safe integer: ceil(53 / 7) bytes. */
export const MAX_VARINT_BYTES = 8;

export function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}

/** Writes `value` at `offset`; returns the offset just past it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    target[offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  target[offset++] = value;
  return offset;
}

/** Reads a varint at `offset`; undefined if it runs off the end or is not a safe integer. */
export function readVarint(source: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (offset + i >= source.length) return undefined;
    const byte = source[offset + i];
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      return Number.isSafeInteger(value) ? { value, next: offset + i + 1 } : undefined;
    }
    scale *= 0x80;
  }
  return undefined;
}
