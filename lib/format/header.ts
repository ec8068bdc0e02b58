/** Page 0, the file header (FORMAT.md §4). Pure. */
import {
  FILE_ID_SIZE, FLAG_SET, FLAG_UNIQUE, FORMAT_VERSION, HDR_MIN_BYTES, HDR_OFF_CREATED_AT, HDR_OFF_FILE_ID, HDR_OFF_FLAGS,
  HDR_OFF_KEY_ENCODING, HDR_OFF_MAGIC, HDR_OFF_PAGE_SIZE_LOG2, HDR_OFF_VERSION, KEY_ENCODING_BINARY,
  KEY_ENCODING_TYPED, KEY_ENCODING_UTF8, KNOWN_FILE_FLAGS, MAGIC, MAX_PAGE_SIZE, MIN_PAGE_SIZE, OFF_PAGE_NO, OFF_TYPE, PAGE_FILE_HEADER,
} from './constants.ts'
import { crcMatches, readU64, sealPage, writeU64 } from './page.ts'

export type KeyEncoding = 'utf8' | 'binary' | 'typed'

/** The header byte of each key encoding. */
const ENCODING_BYTE: Record<KeyEncoding, number> = { utf8: KEY_ENCODING_UTF8, binary: KEY_ENCODING_BINARY, typed: KEY_ENCODING_TYPED }
const ENCODING_OF_BYTE = new Map<number, KeyEncoding>(Object.entries(ENCODING_BYTE).map(([k, v]) => [v, k as KeyEncoding]))

/** The number of a key encoding (the header's `keyEncoding` byte, FORMAT.md §4). */
export function encodingNumber(e: KeyEncoding): number { return ENCODING_BYTE[e] }
/** The key encoding of a number, or undefined when it names none. */
export function encodingOfNumber(n: number): KeyEncoding | undefined { return ENCODING_OF_BYTE.get(n) }

export interface FileHeader {
  formatVersion: number
  pageSize: number
  keyEncoding: KeyEncoding
  unique: boolean
  fileId: Buffer
  createdAt: number
  /** A set of named indexes (FLAG_SET, FORMAT.md §12); absent means false. */
  set?: boolean
}

export function encodeHeader(h: FileHeader): Buffer {
  const page = Buffer.alloc(h.pageSize)
  page.write(MAGIC, HDR_OFF_MAGIC, 'latin1')
  page.writeUInt16LE(h.formatVersion, HDR_OFF_VERSION)
  page[HDR_OFF_PAGE_SIZE_LOG2] = Math.log2(h.pageSize)
  page[HDR_OFF_KEY_ENCODING] = ENCODING_BYTE[h.keyEncoding]
  page[HDR_OFF_FLAGS] = (h.unique ? FLAG_UNIQUE : 0) | (h.set === true ? FLAG_SET : 0)
  h.fileId.copy(page, HDR_OFF_FILE_ID, 0, FILE_ID_SIZE)
  writeU64(page, HDR_OFF_CREATED_AT, h.createdAt)
  sealPage(page, PAGE_FILE_HEADER, 0)
  return page
}

export type HeaderProblem = { code: 'NOT_AN_INDEX' | 'VERSION' | 'CORRUPT'; message: string }

/**
 * Decodes the header from the first bytes of a file (at least its first page when the file has
 * one). Returns a problem instead of throwing, so callers can attach the file name.
 */
export function decodeHeader(bytes: Buffer): FileHeader | HeaderProblem {
  if (bytes.length < HDR_MIN_BYTES || bytes[OFF_TYPE] !== PAGE_FILE_HEADER ||
      bytes.toString('latin1', HDR_OFF_MAGIC, HDR_OFF_MAGIC + MAGIC.length) !== MAGIC) {
    return { code: 'NOT_AN_INDEX', message: 'not a tailroot index (no tailroot header)' }
  }
  const formatVersion = bytes.readUInt16LE(HDR_OFF_VERSION)
  const flags = bytes[HDR_OFF_FLAGS]!
  if (formatVersion > FORMAT_VERSION || (flags & ~KNOWN_FILE_FLAGS) !== 0) {
    return { code: 'VERSION', message: `format version ${formatVersion} (flags 0x${flags.toString(16)}) is newer than this tailroot supports (version ${FORMAT_VERSION})` }
  }
  if (formatVersion === 0) return { code: 'CORRUPT', message: 'page 0: format version 0' }
  const log2 = bytes[HDR_OFF_PAGE_SIZE_LOG2]!
  const pageSize = 2 ** log2
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE) return { code: 'CORRUPT', message: `page 0: bad page size 2^${log2}` }
  if (bytes.length < pageSize) return { code: 'CORRUPT', message: `page 0: file is shorter than one page of ${pageSize} bytes` }
  const page = bytes.subarray(0, pageSize)
  if (!crcMatches(page) || page.readUInt32LE(OFF_PAGE_NO) !== 0) return { code: 'CORRUPT', message: 'page 0: header checksum mismatch' }
  // Checked after the CRC: in an intact header, an encoding this code does not know comes from a
  // newer version; in a damaged one, the damage is what to report.
  const enc = page[HDR_OFF_KEY_ENCODING]!
  const keyEncoding = ENCODING_OF_BYTE.get(enc)
  if (keyEncoding === undefined) {
    return { code: 'VERSION', message: `key encoding ${enc} is newer than this tailroot supports (it knows 0 = utf8, 1 = binary and 2 = typed)` }
  }
  const set = (flags & FLAG_SET) !== 0
  if (set && (keyEncoding !== 'binary' || (flags & FLAG_UNIQUE) !== 0 || formatVersion < 2)) {
    return { code: 'CORRUPT', message: 'page 0: a set file (FLAG_SET) must have format version 2 or later, key encoding binary and FLAG_UNIQUE clear' }
  }
  return {
    formatVersion,
    pageSize,
    keyEncoding,
    unique: (flags & FLAG_UNIQUE) !== 0,
    ...(set ? { set: true } : {}),
    fileId: Buffer.from(page.subarray(HDR_OFF_FILE_ID, HDR_OFF_FILE_ID + FILE_ID_SIZE)),
    createdAt: Math.max(0, readU64(page, HDR_OFF_CREATED_AT)),
  }
}

export function isHeaderProblem(h: FileHeader | HeaderProblem): h is HeaderProblem {
  return 'code' in h
}
