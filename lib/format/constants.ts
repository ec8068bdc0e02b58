/**
 * On-disk constants. Every name and value here mirrors a table in FORMAT.md; change both together.
 */

export const FORMAT_VERSION = 2
/** The first version with change records (FORMAT.md §10); version 1 files are read and written without them. */
export const FIRST_LOG_VERSION = 2
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
export const PAGE_LOG = 0x05

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
export const KEY_ENCODING_TYPED = 2
export const FLAG_UNIQUE = 0x01
/** A set of named indexes (FORMAT.md §12). */
export const FLAG_SET = 0x02
export const KNOWN_FILE_FLAGS = FLAG_UNIQUE | FLAG_SET

/** Several indexes in one file (FORMAT.md §12). */
export const SET_NUMBER_BYTES = 2
/** The index number of the catalog. */
export const SET_CATALOG = 0
export const MAX_SET_INDEXES = 65535
export const MAX_INDEX_NAME_BYTES = 200
/** A catalog entry's rowId is number · CATALOG_NUMBER_FACTOR + encoding · CATALOG_ENCODING_FACTOR + unique. */
export const CATALOG_NUMBER_FACTOR = 8
export const CATALOG_ENCODING_FACTOR = 2

/** Typed keys (FORMAT.md §4.1): element tags, in key order, and the other reserved bytes. */
export const TK_END = 0x00
export const TK_ESCAPE = 0x01
export const TK_NULL = 0x10
export const TK_FALSE = 0x20
export const TK_TRUE = 0x21
export const TK_NEG_INFINITY = 0x30
export const TK_NEGATIVE = 0x31
export const TK_ZERO = 0x32
export const TK_POSITIVE = 0x33
export const TK_POS_INFINITY = 0x34
export const TK_DATE = 0x40
export const TK_STRING = 0x50
export const TK_BYTES = 0x60
export const TK_TUPLE = 0x70
export const TK_KIND_NUMBER = 0x00
export const TK_KIND_BIGINT = 0x01
export const TK_EXPONENT_BIAS = 0x8000
/** The largest bigint exponent: |n| < 2^(TK_MAX_EXPONENT + 1). */
export const TK_MAX_EXPONENT = 0x7fff
/** The most arrays a typed key nests, the key itself counting as one. */
export const TK_MAX_DEPTH = 16
/** The largest |Date time value| in ms, as ECMAScript allows it. */
export const TK_MAX_DATE_MS = 8.64e15

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
/** Version 1: meta follows the file id. */
export const CMT_OFF_META_V1 = 80
/** Version 2 (FORMAT.md §8, §10): the change-record fields, then meta, then inline records. */
export const CMT_OFF_LOG_HEAD = 80
export const CMT_OFF_LOG_PREV = 84
export const CMT_OFF_CHAIN_RECORDS = 88
export const CMT_OFF_LOG_RECORDS = 92
export const CMT_OFF_LOG_PAGES = 96
export const CMT_OFF_INLINE_LENGTH = 98
export const CMT_OFF_META = 100
export const COMMIT_DATA_SYNCED = 0x01
export const COMMIT_PREV_DURABLE = 0x02
export const COMMIT_SUPERSEDED = 0x04
export const MAX_META_BYTES = 1024

/** Change records (FORMAT.md §10): the low bit of a record's first varint. */
export const LOG_OP_INSERT = 1
/** Records a pending chain holds before a commit folds them into the tree (the default of maxPendingChanges). */
export const DEFAULT_MAX_PENDING = 131072
/** Bytes of log pages and commit pages a pending chain holds before a commit folds it. */
export const MAX_PENDING_BYTES = 4 * 1024 * 1024
/**
 * Most records a commit carries forward from the head of its chain (§10, "Carrying records
 * forward"): carrying re-encodes them at each commit, so a commit costs more with more of them,
 * while the chain gains a page per CARRY_MAX_RECORDS changes of single-change commits instead of
 * one per commit. A writer's policy; readers check none of it.
 */
export const CARRY_MAX_RECORDS = 16

export const MAX_ROW_ID = Number.MAX_SAFE_INTEGER
export const MAX_PAGE_NO = 0xffffffff

/** MAX_KEY_BYTES(P) = floor((P − 50) / 2) − 11 (FORMAT.md §7). */
export function maxKeyBytes(pageSize: number): number {
  const fixed = PAGE_HEADER_SIZE + 3 * CHILD_FIXED_SIZE + 2 * SLOT_SIZE
  return Math.floor((pageSize - fixed) / 2) - SEPARATOR_OVERHEAD
}

/** Where a commit page's meta starts in a file of format `version`. */
export function metaOffset(version: number): number {
  return version >= FIRST_LOG_VERSION ? CMT_OFF_META : CMT_OFF_META_V1
}

export function maxMetaBytes(pageSize: number, version = FORMAT_VERSION): number {
  return Math.min(MAX_META_BYTES, pageSize - metaOffset(version))
}

export function isValidPageSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= MIN_PAGE_SIZE && n <= MAX_PAGE_SIZE && (n & (n - 1)) === 0
}

// Preallocation (§8, "Preallocation and the tail"): a writer's policy, not a rule readers check.
/** The smallest extension, in pages (64 KiB at 4 KiB pages). */
export const PREALLOC_MIN_PAGES = 16
/** The largest extension, in bytes (64 MiB), unless PREALLOC_MIN_PAGES pages are more. */
export const PREALLOC_MAX_BYTES = 67108864
