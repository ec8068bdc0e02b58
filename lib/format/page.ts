/** The common page header and page checksums (FORMAT.md §2). Pure. */
import { crc32c } from '@node-rs/crc32'
import {
  OFF_AUX, OFF_COUNT, OFF_CRC, OFF_LEVEL, OFF_PAGE_NO, OFF_TYPE, PAGE_HEADER_SIZE,
} from './constants.ts'

/** Thrown by the pure decoders; the pager turns it into a CORRUPT error naming file and page. */
export class DecodeError extends Error {}

export function pageCrc(page: Buffer): number {
  return crc32c(page.subarray(OFF_PAGE_NO), crc32c(page.subarray(0, OFF_CRC)))
}

/** Fills in the common header of a page whose body is already written, and its CRC. */
export function sealPage(page: Buffer, type: number, pageNo: number, level = 0, count = 0, aux = 0): void {
  page[OFF_TYPE] = type
  page[OFF_LEVEL] = level
  page.writeUInt16LE(count, OFF_COUNT)
  page.writeUInt32LE(pageNo, OFF_PAGE_NO)
  page.writeUInt32LE(aux, OFF_AUX)
  page.writeUInt32LE(pageCrc(page), OFF_CRC)
}

export function crcMatches(page: Buffer): boolean {
  return page.length >= PAGE_HEADER_SIZE && page.readUInt32LE(OFF_CRC) === pageCrc(page)
}

export interface PageHeader {
  type: number
  level: number
  count: number
  pageNo: number
  aux: number
}

export function readPageHeader(page: Buffer): PageHeader {
  return {
    type: page[OFF_TYPE]!,
    level: page[OFF_LEVEL]!,
    count: page.readUInt16LE(OFF_COUNT),
    pageNo: page.readUInt32LE(OFF_PAGE_NO),
    aux: page.readUInt32LE(OFF_AUX),
  }
}

export function writeU48(buf: Buffer, off: number, n: number): void {
  buf.writeUIntLE(n, off, 6)
}
export function readU48(buf: Buffer, off: number): number {
  return buf.readUIntLE(off, 6)
}
export function writeU64(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32LE(n % 0x100000000, off)
  buf.writeUInt32LE(Math.floor(n / 0x100000000), off + 4)
}
/** Returns -1 when the value does not fit in 53 bits. */
export function readU64(buf: Buffer, off: number): number {
  const hi = buf.readUInt32LE(off + 4)
  if (hi > 0x1fffff) return -1
  return hi * 0x100000000 + buf.readUInt32LE(off)
}
