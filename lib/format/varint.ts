/** Unsigned LEB128 varints for values below 2^53 (FORMAT.md §3). Pure; bounds-checked. */
import { MAX_VARINT_BYTES } from './constants.ts'

export function varintSize(n: number): number {
  if (n < 0x80) return 1
  if (n < 0x4000) return 2
  if (n < 0x200000) return 3
  if (n < 0x10000000) return 4
  if (n < 0x800000000) return 5
  if (n < 0x40000000000) return 6
  if (n < 0x2000000000000) return 7
  return 8
}

/** Writes n at buf[pos]; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  buf[pos++] = n
  return pos
}

/**
 * Reads a varint at buf[pos] no further than `end`. Returns the value and sets `cursor.pos`;
 * returns -1 when the varint is malformed (too long or runs past `end`).
 */
export function readVarint(buf: Uint8Array, cursor: { pos: number }, end: number): number {
  let pos = cursor.pos
  let result = 0
  let mul = 1
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= end) return -1
    const b = buf[pos++]!
    result += (b & 0x7f) * mul
    if (b < 0x80) {
      cursor.pos = pos
      return result > Number.MAX_SAFE_INTEGER ? -1 : result
    }
    mul *= 0x80
  }
  return -1
}
