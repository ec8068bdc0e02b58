/**
 * On-disk constants. Every name and value here mirrors a table in FORMAT.md; change both together.
 */

export const FORMAT_VERSION = 1
export const MAGIC = 'TAILROOT'

export const MIN_PAGE_SIZE = 512
export const MAX_PAGE_SIZE = 65536
export const DEFAULT_PAGE_SIZE = 4096

/** Common page header (FORMAT.md §2). */
export const PAGE_HEADER_SIZE = 16
export const OFF_TYPE = 0
export const OFF_LEVEL = 1
export const OFF_COUNT = 2
export const OFF_CRC = 4
export const OFF_PAGE_NO = 8
export const OFF_AUX = 12

export const PAGE_ZERO = 0x00
export const PAGE_FILE_HEADER = 0x01
export const PAGE_LEAF = 0x02
export const PAGE_INTERNAL = 0x03
export const PAGE_COMMIT = 0x04

/** File header (FORMAT.md §4). */
export const HDR_OFF_MAGIC = 16
export const HDR_OFF_VERSION = 24
export const HDR_OFF_PAGE_SIZE_LOG2 = 26
export const HDR_OFF_KEY_ENCODING = 27
export const HDR_OFF_FLAGS = 28
export const HDR_OFF_FILE_ID = 32
export const HDR_OFF_CREATED_AT = 48
/** Bytes that must be present before the header can be recognised at all. */
export const HDR_MIN_BYTES = 64
export const FILE_ID_SIZE = 16
export const KEY_ENCODING_UTF8 = 0
export const KEY_ENCODING_BINARY = 1
export const FLAG_UNIQUE = 0x01
export const KNOWN_FILE_FLAGS = FLAG_UNIQUE

/** Varints (FORMAT.md §3). */
export const MAX_VARINT_BYTES = 8

/** Internal nodes (FORMAT.md §6). */
export const CHILD_PAGE_SIZE = 4
export const CHILD_COUNT_SIZE = 6
export const CHILD_FIXED_SIZE = CHILD_PAGE_SIZE + CHILD_COUNT_SIZE
export const SLOT_SIZE = 2

/** Node sizes (FORMAT.md §7). */
export const UNDERFULL_DIVISOR = 4
/** Worst-case bytes of a separator besides its key: varint key length (3) + varint rowId (8). */
export const SEPARATOR_OVERHEAD = 3 + MAX_VARINT_BYTES

/** Commit page (FORMAT.md §8). */
export const CMT_OFF_SEQUENCE = 16
export const CMT_OFF_ROOT = 24
export const CMT_OFF_HEIGHT = 28
export const CMT_OFF_FLAGS = 29
export const CMT_OFF_META_LENGTH = 30
export const CMT_OFF_ENTRY_COUNT = 32
export const CMT_OFF_PREV = 40
export const CMT_OFF_FIRST_DATA = 44
export const CMT_OFF_DATA_CRC = 48
export const CMT_OFF_LIVE_PAGES = 52
export const CMT_OFF_TIMESTAMP = 56
export const CMT_OFF_FILE_ID = 64
export const CMT_OFF_META = 80
export const COMMIT_DATA_SYNCED = 0x01
export const COMMIT_PREV_DURABLE = 0x02
export const COMMIT_SUPERSEDED = 0x04
export const MAX_META_BYTES = 1024

export const MAX_ROW_ID = Number.MAX_SAFE_INTEGER
export const MAX_PAGE_NO = 0xffffffff

/** MAX_KEY_BYTES(P) = floor((P − 50) / 2) − 11 (FORMAT.md §7). */
export function maxKeyBytes(pageSize: number): number {
  const fixed = PAGE_HEADER_SIZE + 3 * CHILD_FIXED_SIZE + 2 * SLOT_SIZE
  return Math.floor((pageSize - fixed) / 2) - SEPARATOR_OVERHEAD
}

export function maxMetaBytes(pageSize: number): number {
  return Math.min(MAX_META_BYTES, pageSize - CMT_OFF_META)
}

export function isValidPageSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= MIN_PAGE_SIZE && n <= MAX_PAGE_SIZE && (n & (n - 1)) === 0
}
