/** Commit pages (FORMAT.md §8). Pure. */
import {
  CMT_OFF_DATA_CRC, CMT_OFF_ENTRY_COUNT, CMT_OFF_FILE_ID, CMT_OFF_FIRST_DATA, CMT_OFF_FLAGS, CMT_OFF_HEIGHT,
  CMT_OFF_LIVE_PAGES, CMT_OFF_META, CMT_OFF_META_LENGTH, CMT_OFF_PREV, CMT_OFF_ROOT, CMT_OFF_SEQUENCE,
  CMT_OFF_TIMESTAMP, FILE_ID_SIZE, OFF_PAGE_NO, OFF_TYPE, PAGE_COMMIT, maxMetaBytes,
} from './constants.ts'
import { crcMatches, readU64, sealPage, writeU64 } from './page.ts'

export interface Commit {
  /** Page number of this commit page; 0 for the empty state of a new file (no commit yet). */
  page: number
  sequence: number
  root: number
  height: number
  flags: number
  entryCount: number
  prevCommit: number
  firstDataPage: number
  dataCrc: number
  livePages: number
  timestamp: number
  meta: Buffer | null
}

/** The state of a file with no commit at all. */
export const EMPTY_COMMIT: Commit = Object.freeze({
  page: 0, sequence: 0, root: 0, height: 0, flags: 0, entryCount: 0, prevCommit: 0,
  firstDataPage: 1, dataCrc: 0, livePages: 0, timestamp: 0, meta: null,
}) as Commit

export function encodeCommit(c: Commit, fileId: Buffer, pageSize: number): Buffer {
  const page = Buffer.alloc(pageSize)
  writeU64(page, CMT_OFF_SEQUENCE, c.sequence)
  page.writeUInt32LE(c.root, CMT_OFF_ROOT)
  page[CMT_OFF_HEIGHT] = c.height
  page[CMT_OFF_FLAGS] = c.flags
  const meta = c.meta ?? Buffer.alloc(0)
  page.writeUInt16LE(meta.length, CMT_OFF_META_LENGTH)
  writeU64(page, CMT_OFF_ENTRY_COUNT, c.entryCount)
  page.writeUInt32LE(c.prevCommit, CMT_OFF_PREV)
  page.writeUInt32LE(c.firstDataPage, CMT_OFF_FIRST_DATA)
  page.writeUInt32LE(c.dataCrc >>> 0, CMT_OFF_DATA_CRC)
  page.writeUInt32LE(c.livePages, CMT_OFF_LIVE_PAGES)
  writeU64(page, CMT_OFF_TIMESTAMP, c.timestamp)
  fileId.copy(page, CMT_OFF_FILE_ID, 0, FILE_ID_SIZE)
  meta.copy(page, CMT_OFF_META)
  sealPage(page, PAGE_COMMIT, c.page)
  return page
}

/**
 * Decodes the page at `pageNo` as a commit page. Returns null unless it is a structurally valid
 * commit page of this file (the data checksum is the caller's to check).
 */
export function decodeCommit(page: Buffer, pageNo: number, fileId: Buffer): Commit | null {
  if (page[OFF_TYPE] !== PAGE_COMMIT || !crcMatches(page)) return null
  if (page.readUInt32LE(OFF_PAGE_NO) !== pageNo) return null
  if (!page.subarray(CMT_OFF_FILE_ID, CMT_OFF_FILE_ID + FILE_ID_SIZE).equals(fileId)) return null
  const sequence = readU64(page, CMT_OFF_SEQUENCE)
  const entryCount = readU64(page, CMT_OFF_ENTRY_COUNT)
  const timestamp = readU64(page, CMT_OFF_TIMESTAMP)
  const root = page.readUInt32LE(CMT_OFF_ROOT)
  const height = page[CMT_OFF_HEIGHT]!
  const prevCommit = page.readUInt32LE(CMT_OFF_PREV)
  const firstDataPage = page.readUInt32LE(CMT_OFF_FIRST_DATA)
  const metaLength = page.readUInt16LE(CMT_OFF_META_LENGTH)
  if (sequence < 1 || entryCount < 0 || timestamp < 0) return null
  if (root >= pageNo || (root === 0) !== (height === 0) || (root === 0) !== (entryCount === 0)) return null
  if (firstDataPage > pageNo || firstDataPage < 1 || (prevCommit !== 0 && prevCommit >= firstDataPage)) return null
  if (metaLength > maxMetaBytes(page.length)) return null
  return {
    page: pageNo,
    sequence,
    root,
    height,
    flags: page[CMT_OFF_FLAGS]!,
    entryCount,
    prevCommit,
    firstDataPage,
    dataCrc: page.readUInt32LE(CMT_OFF_DATA_CRC),
    livePages: page.readUInt32LE(CMT_OFF_LIVE_PAGES),
    timestamp,
    meta: metaLength > 0 ? Buffer.from(page.subarray(CMT_OFF_META, CMT_OFF_META + metaLength)) : null,
  }
}
