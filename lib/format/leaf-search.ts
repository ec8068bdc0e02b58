/**
 * Whether a leaf page holds one pair, answered from the page bytes without decoding the leaf
 * (FORMAT.md §5): a presence check (an insert's, a delete's) on a leaf that is not cached then
 * allocates nothing. Pure. leafHasPair checks the page exactly as decodeNode does, in the same
 * single pass (slots in bounds, varints well formed, keys ascending, rowIds ascending, the entry
 * count), and throws the same DecodeError, so a page gives CORRUPT here whenever decoding it
 * would. checkedLeafHas answers for a page leafHasPair accepted before, by binary search, and
 * checkedLeafIds finds a key's rowIds in such a page.
 */
import { OFF_AUX, OFF_COUNT, OFF_LEVEL, OFF_TYPE, PAGE_HEADER_SIZE, PAGE_INTERNAL, PAGE_LEAF, SLOT_SIZE } from './constants.ts'
import { leafFirstId, leafHeader, leafIdCount, leafKeyLength, leafNextId } from './node.ts'
import { DecodeError } from './page.ts'
import { bloomAdd, bloomHas, keyHashAt, pairHash } from './pair-hash.ts'

/** Whether the bytes page[at, at + len) equal the byte string `k` (one char per byte). */
function bytesEqual(page: Buffer, at: number, len: number, k: string): boolean {
  if (len !== k.length) return false
  for (let i = 0; i < len; i++) if (page[at + i] !== k.charCodeAt(i)) return false
  return true
}

/** Compares page[a, a + alen) with page[b, b + blen) bytewise: < 0, 0 or > 0. */
function compareBytes(page: Buffer, a: number, alen: number, b: number, blen: number): number {
  const n = Math.min(alen, blen)
  for (let i = 0; i < n; i++) {
    const d = page[a + i]! - page[b + i]!
    if (d !== 0) return d
  }
  return alen - blen
}

/**
 * Whether the leaf `page` (its CRC and page number checked already) holds the pair (k, r).
 * Throws DecodeError when the page is not a well-formed leaf, as decodeNode would.
 */
export function leafHasPair(page: Buffer, k: string, r: number): boolean {
  if (page.length < PAGE_HEADER_SIZE) throw new DecodeError(`a node page of ${page.length} bytes is shorter than its header`)
  const type = page[OFF_TYPE]
  if (type !== PAGE_LEAF) {
    // An internal page is a node, at a level ≥ 1 (decodeNode refuses level 0), but not a leaf.
    if (type === PAGE_INTERNAL) throw page[OFF_LEVEL]! >= 1 ? new LevelMismatch(page[OFF_LEVEL]!) : new DecodeError('internal page with level 0')
    throw new DecodeError(`expected a node page, found page type 0x${(type ?? 0).toString(16)}`)
  }
  const { g, total, slotsEnd } = leafHeader(page)
  const cur = { pos: 0 }
  let found = false
  let prevAt = 0
  let prevLen = -1
  let count = 0
  for (let i = 0; i < g; i++) {
    const klen = leafKeyLength(page, cur, i, slotsEnd)
    const at = cur.pos
    cur.pos += klen
    if (i > 0 && !(compareBytes(page, prevAt, prevLen, at, klen) < 0)) throw new DecodeError(`leaf group ${i}: keys out of order`)
    prevAt = at
    prevLen = klen
    const mine = !found && bytesEqual(page, at, klen, k)
    const n = leafIdCount(page, cur, i)
    let id = leafFirstId(page, cur, i)
    if (mine && id === r) found = true
    for (let j = 1; j < n; j++) {
      id = leafNextId(page, cur, i, id)
      if (mine && id === r) found = true
    }
    count += n
  }
  if (count !== total) throw new DecodeError(`leaf holds ${count} entries but its header says ${total}`)
  return found
}

/** The position checkedLeafHas reads at (one object for every call: it allocates nothing). */
const at = { pos: 0 }

/** A varint of a page leafHasPair accepted (so well formed, and inside the page) at `at.pos`. */
function checkedVarint(page: Buffer): number {
  let pos = at.pos
  let b = page[pos++]!
  if (b < 0x80) { at.pos = pos; return b }
  let result = b & 0x7f
  let mul = 0x80
  for (;;) {
    b = page[pos++]!
    result += (b & 0x7f) * mul
    if (b < 0x80) { at.pos = pos; return result }
    mul *= 0x80
  }
}

/**
 * Binary search over the groups' slots of a page leafHasPair accepted, comparing page bytes with
 * `k` where they are: the group whose key is `k`, with `at.pos` then at its rowId count; else
 * -1 - (the first group whose key is above `k`). O(log groups) key comparisons and no checks.
 */
function searchGroups(page: Buffer, k: string): number {
  const kl = k.length
  let lo = 0
  let hi = page[OFF_COUNT]! | (page[OFF_COUNT + 1]! << 8)
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const slot = PAGE_HEADER_SIZE + SLOT_SIZE * mid
    at.pos = page[slot]! | (page[slot + 1]! << 8)
    const len = checkedVarint(page)
    const p = at.pos
    const n = len < kl ? len : kl
    let d = 0
    for (let i = 0; i < n && d === 0; i++) d = page[p + i]! - k.charCodeAt(i)
    if (d === 0) d = len - kl
    if (d < 0) lo = mid + 1
    else if (d > 0) hi = mid
    else { at.pos = p + len; return mid }
  }
  return -1 - lo
}

/**
 * leafHasPair for a page it accepted before (unchanged since), by searchGroups. Searching these
 * bytes reads far less memory than a decoded leaf's strings and arrays, which matters when many
 * leaves take turns (each check misses the CPU caches).
 */
export function checkedLeafHas(page: Buffer, k: string, r: number): boolean {
  if (searchGroups(page, k) < 0) return false
  const n = checkedVarint(page)
  let id = checkedVarint(page)
  for (let j = 1; j < n && id < r; j++) id += checkedVarint(page)
  return id === r
}

/**
 * The rowIds of key `k` in a leaf page leafHasPair accepted before, ascending (a new array; []
 * when the leaf shows that no pair of `k` exists), by searchGroups; null when the pairs of `k`
 * may continue in the next leaf: `k` is the leaf's last key, or above all of its keys (then a
 * lookup that descended to this leaf for (k, -1) finds them after it).
 */
export function checkedLeafIds(page: Buffer, k: string): number[] | null {
  const groups = page[OFF_COUNT]! | (page[OFF_COUNT + 1]! << 8)
  const g = searchGroups(page, k)
  if (g < 0) return -1 - g === groups ? null : []
  if (g === groups - 1) return null
  const count = checkedVarint(page)
  const ids = new Array<number>(count)
  let id = checkedVarint(page)
  ids[0] = id
  for (let j = 1; j < count; j++) ids[j] = id += checkedVarint(page)
  return ids
}

/**
 * A Bloom filter of the pairs of a leaf page leafHasPair accepted (unchanged since): 8 bits per
 * pair, 2 of them set, about 5% false positives. leafFilterHas then answers false for most absent
 * pairs with two reads of the filter, where checkedLeafHas reads about ten places of a page (the
 * slots, then a key per step of the search), each a likely miss of the processor's caches when
 * many leaves take turns. An insert of a new pair, the usual presence check, is such a case.
 */
export function leafPairFilter(page: Buffer): Int32Array {
  const groups = page[OFF_COUNT]! | (page[OFF_COUNT + 1]! << 8)
  const total = page.readUInt32LE(OFF_AUX)
  let log2 = 5
  while (log2 < 20 && 2 ** log2 < 8 * total) log2++
  const f = new Int32Array(2 ** (log2 - 5))
  const shift = 32 - log2
  for (let i = 0; i < groups; i++) {
    const slot = PAGE_HEADER_SIZE + SLOT_SIZE * i
    at.pos = page[slot]! | (page[slot + 1]! << 8)
    const len = checkedVarint(page)
    const h = keyHashAt(page, at.pos, len)
    at.pos += len
    const n = checkedVarint(page)
    let id = checkedVarint(page)
    bloomAdd(f, shift, pairHash(h, id))
    for (let j = 1; j < n; j++) bloomAdd(f, shift, pairHash(h, id += checkedVarint(page)))
  }
  return f
}

/** Whether the leaf whose leafPairFilter is `f` may hold the pair whose pairHash is p: false means it does not. */
export function leafFilterHas(f: Int32Array, p: number): boolean {
  // f holds 32 × f.length bits, a power of two: 2^(32 - shift).
  return bloomHas(f, Math.clz32(f.length) - 4, p)
}

/** A well-formed page type for a node, but an internal one where a leaf was expected. */
export class LevelMismatch extends Error {
  readonly level: number
  constructor(level: number) {
    super(`internal page at level ${level}`)
    this.level = level
  }
}
