/**
 * Several indexes in one file (FORMAT.md §12): the stored key prefix of each named index and the
 * catalog entries that name them. Keys are byte strings, one char per byte, as in the tree. Pure.
 */
import {
  CATALOG_ENCODING_FACTOR, CATALOG_NUMBER_FACTOR, MAX_INDEX_NAME_BYTES, MAX_SET_INDEXES, SET_CATALOG,
} from './constants.ts'
import { encodingNumber, encodingOfNumber } from './header.ts'
import type { KeyEncoding } from './header.ts'
import { isWellFormed } from './well-formed.ts'

/** A named index's settings, fixed when its catalog entry is written. */
export interface CatalogEntry {
  name: string
  /** 1 to MAX_SET_INDEXES: its keys are stored after indexPrefix(number). */
  number: number
  keyEncoding: KeyEncoding
  unique: boolean
}

/** The two bytes (big-endian) every stored key of index `n` starts with. */
export function indexPrefix(n: number): string {
  return String.fromCharCode(n >>> 8, n & 0xff)
}

/** The index number a stored key starts with (the key has at least two bytes). */
export function prefixNumber(key: string): number {
  return key.charCodeAt(0) * 256 + key.charCodeAt(1)
}

export const CATALOG_PREFIX = indexPrefix(SET_CATALOG)

/** The catalog key of a (valid) index name: the catalog prefix, then the name's UTF-8 bytes. */
export function catalogKey(name: string): string {
  return CATALOG_PREFIX + Buffer.from(name, 'utf8').toString('latin1')
}

export function catalogRowId(e: Omit<CatalogEntry, 'name'>): number {
  return e.number * CATALOG_NUMBER_FACTOR + encodingNumber(e.keyEncoding) * CATALOG_ENCODING_FACTOR + (e.unique ? 1 : 0)
}

/** The settings a catalog rowId holds, or a description of what is wrong with it. */
export function decodeCatalogRowId(r: number): Omit<CatalogEntry, 'name'> | string {
  const number = Math.floor(r / CATALOG_NUMBER_FACTOR)
  const rest = r % CATALOG_NUMBER_FACTOR
  const keyEncoding = encodingOfNumber(Math.floor(rest / CATALOG_ENCODING_FACTOR))
  if (number < 1 || number > MAX_SET_INDEXES) return `catalog rowId ${r} names index number ${number}, outside 1..${MAX_SET_INDEXES}`
  if (keyEncoding === undefined) return `catalog rowId ${r} names an unknown key encoding ${Math.floor(rest / CATALOG_ENCODING_FACTOR)}`
  return { number, keyEncoding, unique: rest % CATALOG_ENCODING_FACTOR === 1 }
}

/** Why `name` cannot name an index, or null when it can. */
export function indexNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `an index name must be a string, got ${name === null ? 'null' : typeof name}`
  if (name.length === 0) return 'an index name must not be empty'
  if (!isWellFormed(name)) return 'an index name must be well-formed UTF-16 (it has a lone surrogate)'
  const n = Buffer.byteLength(name, 'utf8')
  if (n > MAX_INDEX_NAME_BYTES) return `an index name is at most ${MAX_INDEX_NAME_BYTES} bytes of UTF-8, got ${n}`
  return null
}

/** The name a catalog key's bytes hold, or null when they are not a valid name. */
export function catalogName(key: string): string | null {
  const bytes = Buffer.from(key.slice(CATALOG_PREFIX.length), 'latin1')
  const name = bytes.toString('utf8')
  if (!Buffer.from(name, 'utf8').equals(bytes)) return null
  return indexNameProblem(name) === null ? name : null
}
