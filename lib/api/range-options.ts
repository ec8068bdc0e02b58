/** Range options normalised in one place: key bounds and `after` become pair bounds. */
import { invalid, naming } from '../errors.ts'
import type { KeyCodec } from '../keys.ts'
import type { TypedKey } from '../format/typed-key.ts'

/** What `prefix` takes: a string (utf8), bytes (binary), or for typed keys an array, a string or bytes. */
export type PrefixOf<K> = [K] extends [string] ? string : [K] extends [Uint8Array] ? Uint8Array : readonly TypedKey[] | string | Uint8Array

export interface KeyBounds<K> {
  gt?: K
  gte?: K
  lt?: K
  lte?: K
  /**
   * Only the keys that start with this: a string or bytes prefix of a utf8 or binary key; for a
   * typed index, the tuples whose leading elements equal the array's, or the strings (byte
   * strings) that start with a string (Uint8Array). Intersected with the other bounds.
   */
  prefix?: PrefixOf<K>
}

export interface RangeOptions<K> extends KeyBounds<K> {
  /** Start strictly after this pair, in the direction of iteration (keyset pagination). */
  after?: [K, number]
  reverse?: boolean
  /** Pairs to skip first, in O(height) page reads. */
  offset?: number
  /** Most pairs to yield. */
  limit?: number
}

/** Pairs (k, r) with r possibly -1, fractional or Infinity; null = unbounded. */
export interface PairBound {
  key: string
  rowId: number
}

export interface NormalRange {
  lower: PairBound | null
  upper: PairBound | null
  reverse: boolean
  offset: number
  limit: number
}

const BOUND_KEYS = ['gt', 'gte', 'lt', 'lte', 'prefix']
const RANGE_KEYS = new Set([...BOUND_KEYS, 'after', 'reverse', 'offset', 'limit'])

function count(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt
  if (v === Infinity && name === 'limit') return Infinity
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`range option ${name} must be a non-negative integer, got ${String(v)}`)
  return v
}

/** Validates range options; errors name the index file. */
export function normaliseRange(o: unknown, codec: KeyCodec, boundsOnly: boolean): NormalRange {
  try { return normalise(o, codec, boundsOnly) } catch (err) { throw naming(codec.path, err) }
}

function normalise(o: unknown, codec: KeyCodec, boundsOnly: boolean): NormalRange {
  if (o === undefined) o = {}
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw invalid('range options must be an object')
  const r = o as Record<string, unknown>
  for (const k of Object.keys(r)) {
    if (!RANGE_KEYS.has(k) || (boundsOnly && !BOUND_KEYS.includes(k))) throw invalid(`unknown ${boundsOnly ? 'countRange' : 'range'} option '${k}'`)
  }
  if (r.gt !== undefined && r.gte !== undefined) throw invalid('range options gt and gte cannot both be given')
  if (r.lt !== undefined && r.lte !== undefined) throw invalid('range options lt and lte cannot both be given')
  let lower: PairBound | null = null
  let upper: PairBound | null = null
  if (r.gte !== undefined) lower = { key: codec.encode(r.gte, 'gte', true), rowId: -1 }
  if (r.gt !== undefined) lower = { key: codec.encode(r.gt, 'gt', true), rowId: Infinity }
  if (r.lte !== undefined) upper = { key: codec.encode(r.lte, 'lte', true), rowId: Infinity }
  if (r.lt !== undefined) upper = { key: codec.encode(r.lt, 'lt', true), rowId: -1 }
  if (r.prefix !== undefined) {
    const p = codec.prefix(r.prefix)
    lower = maxBound(lower, { key: p, rowId: -1 })
    const end = prefixEnd(p)
    if (end !== null) upper = minBound(upper, { key: end, rowId: -1 })
  }
  const reverse = r.reverse === undefined ? false : r.reverse
  if (typeof reverse !== 'boolean') throw invalid('range option reverse must be a boolean')
  if (r.after !== undefined) {
    const a = r.after
    if (!Array.isArray(a) || a.length !== 2) throw invalid('range option after must be a [key, rowId] pair')
    const key = codec.encode(a[0], 'after[0]', true)
    const rowId = codec.rowId(a[1], 'after[1]')
    // Strictly after (k, r) going forward is ≥ (k, r + 1) (rowIds are integers, and r + 1 ≤ 2^53
    // is exact, where r + ½ would round back to r above 2^52); going backward it is < (k, r).
    if (!reverse) lower = maxBound(lower, { key, rowId: rowId + 1 })
    else upper = minBound(upper, { key, rowId })
  }
  if (codec.scope !== null) {
    // A named index of a set file is the range of its prefix (FORMAT.md §12).
    lower = maxBound(lower, { key: codec.scope, rowId: -1 })
    const end = prefixEnd(codec.scope)
    if (end !== null) upper = minBound(upper, { key: end, rowId: -1 })
  }
  return { lower, upper, reverse, offset: count(r.offset, 'offset', 0), limit: count(r.limit, 'limit', Infinity) }
}

function less(a: PairBound, b: PairBound): boolean {
  return a.key < b.key || (a.key === b.key && a.rowId < b.rowId)
}
function maxBound(a: PairBound | null, b: PairBound): PairBound {
  return a === null || less(a, b) ? b : a
}
function minBound(a: PairBound | null, b: PairBound): PairBound {
  return a === null || less(b, a) ? b : a
}

/** The least byte string above every string that starts with `p`; null when there is none. */
function prefixEnd(p: string): string | null {
  let n = p.length
  while (n > 0 && p.charCodeAt(n - 1) === 0xff) n--
  if (n === 0) return null
  return p.slice(0, n - 1) + String.fromCharCode(p.charCodeAt(n - 1) + 1)
}
