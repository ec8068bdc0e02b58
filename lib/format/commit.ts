/** Commit pages (FORMAT.md §8, and §10 for the change-record fields of version 2). Pure. */
import {
  CMT_OFF_CHAIN_RECORDS, CMT_OFF_DATA_CRC, CMT_OFF_ENTRY_COUNT, CMT_OFF_FILE_ID, CMT_OFF_FIRST_DATA, CMT_OFF_FLAGS,
  CMT_OFF_HEIGHT, CMT_OFF_INLINE_LENGTH, CMT_OFF_LIVE_PAGES, CMT_OFF_LOG_HEAD, CMT_OFF_LOG_PAGES, CMT_OFF_LOG_PREV,
  CMT_OFF_LOG_RECORDS, CMT_OFF_META_LENGTH, CMT_OFF_PREV, CMT_OFF_ROOT, CMT_OFF_SEQUENCE, CMT_OFF_TIMESTAMP,
  FILE_ID_SIZE, FIRST_LOG_VERSION, FORMAT_VERSION, OFF_PAGE_NO, OFF_TYPE, PAGE_COMMIT, maxMetaBytes, metaOffset,
} from './constants.ts'
import { crcMatches, readU64, sealPage, writeU64 } from './page.ts'

export interface Commit {
  /** Page number of this commit page; 0 for the empty state of a new file (no commit yet). */
  page: number
  sequence: number
  root: number
  height: number
  flags: number
  /** Pairs in the index: the tree's plus the net of the pending changes. */
  entryCount: number
  prevCommit: number
  firstDataPage: number
  dataCrc: number
  livePages: number
  timestamp: number
  meta: Buffer | null
  /** The newest commit page (≤ this one) holding records of the pending chain; 0: none pending. */
  logHead: number
  /** With records of its own: the logHead before this commit (0: this commit starts the chain). */
  logPrev: number
  /** Records in the pending chain up to and including this commit. */
  chainRecords: number
  /** Records this commit holds (inline or in its log pages). */
  logRecords: number
  /** Log pages among this commit's data pages: the first `logPages` of them. */
  logPages: number
  /** Records held in this commit page, after meta; null when none. */
  inline: Buffer | null
}

/** The state of a file with no commit at all. */
export const EMPTY_COMMIT: Commit = Object.freeze({
  page: 0, sequence: 0, root: 0, height: 0, flags: 0, entryCount: 0, prevCommit: 0,
  firstDataPage: 1, dataCrc: 0, livePages: 0, timestamp: 0, meta: null,
  logHead: 0, logPrev: 0, chainRecords: 0, logRecords: 0, logPages: 0, inline: null,
}) as Commit

/** Bytes a version-2 commit page has for inline records after `metaLength` bytes of meta. */
export function inlineCapacity(pageSize: number, version: number, metaLength: number): number {
  return version >= FIRST_LOG_VERSION ? pageSize - metaOffset(version) - metaLength : 0
}

export function encodeCommit(c: Commit, fileId: Buffer, pageSize: number, version = FORMAT_VERSION): Buffer {
  const page = Buffer.alloc(pageSize)
  writeU64(page, CMT_OFF_SEQUENCE, c.sequence)
  page.writeUInt32LE(c.root, CMT_OFF_ROOT)
  page[CMT_OFF_HEIGHT] = c.height
  page[CMT_OFF_FLAGS] = c.flags
  page.writeUInt16LE(c.meta === null ? 0 : c.meta.length, CMT_OFF_META_LENGTH)
  writeU64(page, CMT_OFF_ENTRY_COUNT, c.entryCount)
  page.writeUInt32LE(c.prevCommit, CMT_OFF_PREV)
  page.writeUInt32LE(c.firstDataPage, CMT_OFF_FIRST_DATA)
  page.writeUInt32LE(c.dataCrc >>> 0, CMT_OFF_DATA_CRC)
  page.writeUInt32LE(c.livePages, CMT_OFF_LIVE_PAGES)
  writeU64(page, CMT_OFF_TIMESTAMP, c.timestamp)
  // TypedArray set() copies as Buffer.copy does, without its argument handling.
  page.set(fileId.length === FILE_ID_SIZE ? fileId : fileId.subarray(0, FILE_ID_SIZE), CMT_OFF_FILE_ID)
  const metaAt = metaOffset(version)
  const metaLength = c.meta === null ? 0 : c.meta.length
  if (c.meta !== null) page.set(c.meta, metaAt)
  if (version >= FIRST_LOG_VERSION) {
    page.writeUInt32LE(c.logHead, CMT_OFF_LOG_HEAD)
    page.writeUInt32LE(c.logPrev, CMT_OFF_LOG_PREV)
    page.writeUInt32LE(c.chainRecords, CMT_OFF_CHAIN_RECORDS)
    page.writeUInt32LE(c.logRecords, CMT_OFF_LOG_RECORDS)
    page.writeUInt16LE(c.logPages, CMT_OFF_LOG_PAGES)
    const inline = c.inline
    page.writeUInt16LE(inline === null ? 0 : inline.length, CMT_OFF_INLINE_LENGTH)
    if (inline !== null) page.set(inline, metaAt + metaLength)
  } else if (c.logHead !== 0 || c.chainRecords !== 0) {
    throw new Error('internal error: change records in a version 1 file')
  }
  sealPage(page, PAGE_COMMIT, c.page)
  return page
}

/**
 * Decodes the page at `pageNo` as a commit page of a file of format `version`. Returns null
 * unless it is a well-formed commit page of this file (the data checksum is the caller's to check).
 */
export function decodeCommit(page: Buffer, pageNo: number, fileId: Buffer, version = FORMAT_VERSION): Commit | null {
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
  if (root >= pageNo || (root === 0) !== (height === 0)) return null
  if (firstDataPage > pageNo || firstDataPage < 1 || (prevCommit !== 0 && prevCommit >= firstDataPage)) return null
  if (metaLength > maxMetaBytes(page.length, version)) return null
  const metaAt = metaOffset(version)
  const log = version >= FIRST_LOG_VERSION ? decodeLogFields(page, pageNo, firstDataPage, metaAt + metaLength) : NO_LOG
  if (log === null) return null
  // Without pending changes the tree holds every pair: an empty tree is an empty index.
  if (log.logHead === 0 && (root === 0) !== (entryCount === 0)) return null
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
    meta: metaLength > 0 ? Buffer.from(page.subarray(metaAt, metaAt + metaLength)) : null,
    ...log,
  }
}

export type LogFields = Pick<Commit, 'logHead' | 'logPrev' | 'chainRecords' | 'logRecords' | 'logPages' | 'inline'>

export const NO_LOG: LogFields = { logHead: 0, logPrev: 0, chainRecords: 0, logRecords: 0, logPages: 0, inline: null }

/** The change-record fields (FORMAT.md §10), or null when they break a rule. */
function decodeLogFields(page: Buffer, pageNo: number, firstDataPage: number, inlineAt: number): LogFields | null {
  const logHead = page.readUInt32LE(CMT_OFF_LOG_HEAD)
  const logPrev = page.readUInt32LE(CMT_OFF_LOG_PREV)
  const chainRecords = page.readUInt32LE(CMT_OFF_CHAIN_RECORDS)
  const logRecords = page.readUInt32LE(CMT_OFF_LOG_RECORDS)
  const logPages = page.readUInt16LE(CMT_OFF_LOG_PAGES)
  const inlineLength = page.readUInt16LE(CMT_OFF_INLINE_LENGTH)
  if (inlineAt + inlineLength > page.length || logPages > pageNo - firstDataPage) return null
  if (logRecords > 0) {
    // Records of its own: the head is this page, the previous head lies below this commit's data.
    if (logHead !== pageNo || logPrev >= firstDataPage || chainRecords < logRecords) return null
    if ((logPages > 0) === (inlineLength > 0)) return null
    if (logPrev === 0 && chainRecords !== logRecords) return null
  } else {
    if (logPrev !== 0 || logPages !== 0 || inlineLength !== 0 || logHead >= firstDataPage) return null
    if ((logHead === 0) !== (chainRecords === 0)) return null
  }
  const inline = inlineLength > 0 ? Buffer.from(page.subarray(inlineAt, inlineAt + inlineLength)) : null
  return { logHead, logPrev, chainRecords, logRecords, logPages, inline }
}
