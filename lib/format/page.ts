/** The common page header and page checksums (FORMAT.md §2). Pure. */
import { crc32c } from '@node-rs/crc32'
import {
  OFF_AUX, OFF_COUNT, OFF_CRC, OFF_LEVEL, OFF_PAGE_NO, OFF_TYPE, PAGE_HEADER_SIZE,
} from './constants.ts'

/** Thrown by the pure decoders; the pager turns it into a CORRUPT error naming file and page. */
export class DecodeError extends Error {}

/** CRC32C table (reflected, polynomial 0x82F63B78), for the four header bytes pageCrc covers first. */
let table: Int32Array | null = null

function crcTable(): Int32Array {
  if (table !== null) return table
  const t = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[n] = c
  }
  return table = t
}

/** crc32c(page[0..4]): four bytes are cheaper to fold here than to hand to the native CRC. */
export function headCrc(page: Uint8Array): number {
  const t = crcTable()
  let c = ~0
  c = t[(c ^ page[0]!) & 0xff]! ^ (c >>> 8)
  c = t[(c ^ page[1]!) & 0xff]! ^ (c >>> 8)
  c = t[(c ^ page[2]!) & 0xff]! ^ (c >>> 8)
  c = t[(c ^ page[3]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** The page's CRC (FORMAT.md §2): crc32c(page[8..P], crc32c(page[0..4])). */
export function pageCrc(page: Buffer): number {
  return crc32c(page.subarray(OFF_PAGE_NO), headCrc(page))
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
