/**
 * The base level of a ChangeLog (change-log.ts): most of its entries, sorted by (key, rowId), in
 * chunks of at most MAX_CHUNK entries. Pure and persistent: merge() returns a new level that
 * shares every untouched chunk with the old one, so a few changes into a large level copy the
 * chunks they touch and the list of chunks, not every entry.
 *
 * A filter of the keys and pairs (KeyFilter) answers state() and keyChanges() for most pairs and
 * keys without entries without searching the chunks: most presence checks are of such pairs.
 */
import { comparePair } from '../format/node.ts'
import type { Batch } from './batch.ts'
import { keyHash, pairHash } from '../format/pair-hash.ts'
import { KeyFilter } from './key-filter.ts'
import { LogConflict } from './log-conflict.ts'
import { pairGallop, pairSearch } from './pair-search.ts'

/**
 * Entries per chunk above which a rewritten chunk is split. A merge copies every chunk it
 * changes and shares the rest, and copies the list of chunks: a merge of changes to many random
 * keys changes about one chunk per change, so its cost is near (changes × chunk size + chunks).
 * Small chunks keep the first term low; the list copy is a plain copy of references.
 */
const MAX_CHUNK = 48
/** Entries per piece when a chunk is split. */
const SPLIT_CHUNK = 32
/** A merge of at least one change per DENSE chunks searches forward from the last place (dense). */
const DENSE = 4

/**
 * What the merges of every LogChunks copied so far, for tests of the cost model: entries written
 * into new chunks, and chunk references written into new chunk lists. Only ever grows.
 */
export const chunkCopies = { entries: 0, refs: 0 }

interface Chunk {
  readonly keys: readonly string[]
  readonly ids: readonly number[]
  /** +1 or -1 per entry; null when every entry is +1 (only inserts: the usual case). */
  readonly signs: readonly number[] | null
  /** Sum of signs. */
  readonly net: number
}

export class LogChunks {
  private readonly chunks: readonly Chunk[]
  /** The first pair of each chunk, side by side, for the search of chunkFor. */
  private readonly firstKeys: readonly string[]
  private readonly firstIds: readonly number[]
  /** starts[i]: entries before chunk i; netStarts[i]: sum of signs before chunk i (made on first use). */
  private starts: Float64Array | null = null
  private netStarts: Float64Array | null = null
  /** The chunk chunkAt found last, where it looks first: a walk by position finds its chunk in O(1). */
  private last = 0
  /** Number of entries. */
  readonly size: number
  /** Sum of signs. */
  readonly net: number
  /** The keys and pairs of the entries, and maybe more (null: none, the empty level). */
  readonly filter: KeyFilter | null

  static readonly EMPTY = new LogChunks([], 0, 0, null)

  private constructor(chunks: Chunk[], size: number, net: number, filter: KeyFilter | null) {
    this.chunks = chunks
    this.filter = filter
    const n = chunks.length
    const firstKeys: string[] = new Array(n)
    const firstIds: number[] = new Array(n)
    for (let i = 0; i < n; i++) { const c = chunks[i]!; firstKeys[i] = c.keys[0]!; firstIds[i] = c.ids[0]! }
    chunkCopies.refs += n
    this.firstKeys = firstKeys
    this.firstIds = firstIds
    this.size = size
    this.net = net
  }

  /**
   * Applies sorted changes, each effective against the state this level describes (an insert of
   * a pair absent from it, a delete of a pair present in it). An insert cancels a -1 entry, a
   * delete cancels a +1 entry. Throws LogConflict when a change cannot be effective (an insert
   * over a +1 entry, a delete over a -1 entry) or the changes are out of order. `hashes`: the
   * keyHash of each change (hashes[o - from]) for the filter, or null when every change cancels
   * an entry (the filter stays as it is).
   */
  merge(b: Batch, from: number, to: number, hashes: readonly number[] | null): LogChunks {
    if (from >= to) return this
    const chunks = this.chunks
    const out: Chunk[] = []
    const acc = { size: this.size, net: this.net }
    if (chunks.length === 0) {
      pushChunks(out, mergeChunk(null, b, from, to, acc))
      return new LogChunks(out, acc.size, acc.net, this.filterFor(out, acc.size, b, from, to, hashes))
    }
    // Dense (a flush of the delta, a large batch): about one change per chunk or more, so the next
    // chunk, the changes of a chunk and the place of a change in it lie near the last ones, found
    // by steps of 1, 2, 4… forward from there and a binary search (O(log distance) comparisons of
    // keys that are seldom in the processor's cache). Else by binary search from the last chunk,
    // whose first steps compare the same keys for every change, which stay cached.
    const dense = (to - from) * DENSE >= chunks.length
    let o = from
    let i = 0
    while (o < to) {
      // Chunk c takes the changes below the first pair of chunk c + 1 (the first chunk also those
      // below its own), so a few changes into a long level cost a few searches, and the untouched
      // chunks are shared.
      const k = b.keys[o]!
      const r = b.ids[o]!
      const c = this.chunkFor(k, r, i, dense)
      for (; i < c; i++) out.push(chunks[i]!)
      const next = chunks[c + 1]
      const end = next === undefined ? to : (dense ? pairGallop : pairSearch)(b.keys, b.ids, o, to, next.keys[0]!, next.ids[0]!)
      pushChunks(out, mergeChunk(chunks[c]!, b, o, end, acc, dense))
      o = end
      i = c + 1
    }
    for (; i < chunks.length; i++) out.push(chunks[i]!)
    return new LogChunks(out, acc.size, acc.net, this.filterFor(out, acc.size, b, from, to, hashes))
  }

  /** The filter of the level this merge makes: this level's, with the changes added (none when `hashes` is null), or a new one. */
  private filterFor(chunks: Chunk[], size: number, b: Batch, from: number, to: number, hashes: readonly number[] | null): KeyFilter | null {
    if (size === 0) return null
    let f = this.filter
    if (f !== null && hashes === null) return f
    if (f !== null && f.fits(to - from)) {
      for (let o = from; o < to; o++) { const h = hashes![o - from]!; f.add(h, pairHash(h, b.ids[o]!)) }
      return f
    }
    f = new KeyFilter(size)
    for (const c of chunks) for (let j = 0; j < c.keys.length; j++) { const h = keyHash(c.keys[j]!); f.add(h, pairHash(h, c.ids[j]!)) }
    return f
  }

  /** +1 when the pair was inserted, -1 when deleted, 0 when it has no entry; p: its pairHash. */
  state(k: string, r: number, p: number): number {
    if (this.filter === null || !this.filter.mayHave(p)) return 0
    return this.find(k, r)
  }

  /** state() without the filter: a search. */
  find(k: string, r: number): number {
    const i = this.chunkFor(k, r)
    if (i < 0) return 0
    const c = this.chunks[i]!
    const j = chunkLowerBound(c, k, r)
    return j < c.keys.length && c.keys[j] === k && c.ids[j] === r ? signOf(c, j) : 0
  }

  /** Sum of the signs of the entries strictly below (k, r); r may be -1, fractional or Infinity. */
  netBelow(k: string, r: number): number {
    const i = this.chunkFor(k, r)
    if (i < 0) return 0
    const c = this.chunks[i]!
    const j = chunkLowerBound(c, k, r)
    return this.prefixes().netStarts[i]! + netOf(c, j)
  }

  /** Index of the first entry ≥ (k, r). */
  lowerBound(k: string, r: number): number {
    const i = this.chunkFor(k, r)
    if (i < 0) return 0
    return this.prefixes().starts[i]! + chunkLowerBound(this.chunks[i]!, k, r)
  }

  /** Sum of the signs of entries [0, n). */
  netBefore(n: number): number {
    if (n >= this.size) return this.net
    const i = this.chunkAt(n)
    const c = this.chunks[i]!
    return this.netStarts![i]! + netOf(c, n - this.starts![i]!)
  }

  keyAt(n: number): string { const i = this.chunkAt(n); return this.chunks[i]!.keys[n - this.starts![i]!]! }
  idAt(n: number): number { const i = this.chunkAt(n); return this.chunks[i]!.ids[n - this.starts![i]!]! }
  signAt(n: number): number { const i = this.chunkAt(n); return signOf(this.chunks[i]!, n - this.starts![i]!) }

  /** The entries of key k: rowIds inserted and deleted, ascending; h: keyHash(k). */
  keyChanges(k: string, h: number): { ins: number[]; del: number[] } | null {
    if (this.filter === null || !this.filter.mayHave(h)) return null
    let n = this.lowerBound(k, -1)
    if (n >= this.size || this.keyAt(n) !== k) return null
    const ins: number[] = []
    const del: number[] = []
    const starts = this.starts!
    for (; n < this.size; n++) {
      const i = this.chunkAt(n)
      const c = this.chunks[i]!
      const j = n - starts[i]!
      if (c.keys[j] !== k) break
      if (signOf(c, j) > 0) ins.push(c.ids[j]!)
      else del.push(c.ids[j]!)
    }
    return { ins, del }
  }

  /** Every entry in order, as a batch (+1 = insert). */
  toBatch(): Batch {
    const keys: string[] = []
    const ids: number[] = []
    const ins: boolean[] = []
    for (const c of this.chunks) {
      for (let j = 0; j < c.keys.length; j++) { keys.push(c.keys[j]!); ids.push(c.ids[j]!); ins.push(signOf(c, j) > 0) }
    }
    return { keys, ids, ins }
  }

  /** The entries and net before each chunk, made on first use (a merge does not need them). */
  private prefixes(): { starts: Float64Array; netStarts: Float64Array } {
    if (this.starts === null || this.netStarts === null) {
      const chunks = this.chunks
      const starts = new Float64Array(chunks.length)
      const netStarts = new Float64Array(chunks.length)
      let n = 0
      let net = 0
      for (let i = 0; i < chunks.length; i++) {
        starts[i] = n
        netStarts[i] = net
        n += chunks[i]!.keys.length
        net += chunks[i]!.net
      }
      this.starts = starts
      this.netStarts = netStarts
    }
    return { starts: this.starts, netStarts: this.netStarts }
  }

  /**
   * The chunk that holds or would hold (k, r): the last whose first pair ≤ (k, r), or `from` (0
   * by default) when none after it is; -1 if empty. `gallop`: searched forward from `from` by
   * steps of 1, 2, 4… then a binary search (O(log distance) comparisons).
   */
  private chunkFor(k: string, r: number, from = 0, gallop = false): number {
    const n = this.firstKeys.length
    if (n === 0) return -1
    // The first chunk whose first pair is above (k, r): ≥ (k, r + 1) for an integer r, as rowIds
    // are integers (exact up to 2^53), and ≥ (k, r) for any other r (-1 aside, which is an integer).
    const above = Number.isInteger(r) ? r + 1 : r
    const i = (gallop ? pairGallop : pairSearch)(this.firstKeys, this.firstIds, from, n, k, above)
    return Math.max(from, i - 1)
  }

  /** The chunk holding entry n (0 ≤ n < size): the last one found or its neighbour, else by binary search. */
  private chunkAt(n: number): number {
    const starts = this.prefixes().starts
    const last = this.last
    const end = starts.length - 1
    if (starts[last]! <= n && (last === end || n < starts[last + 1]!)) return last
    if (last < end && starts[last + 1]! <= n && (last + 1 === end || n < starts[last + 2]!)) return this.last = last + 1
    if (last > 0 && starts[last - 1]! <= n && n < starts[last]!) return this.last = last - 1
    let lo = 0
    let hi = end
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (starts[mid]! <= n) lo = mid
      else hi = mid - 1
    }
    return this.last = lo
  }
}

/** The first entry of chunk c whose pair is ≥ (k, r). */
function chunkLowerBound(c: Chunk, k: string, r: number): number {
  return pairSearch(c.keys, c.ids, 0, c.keys.length, k, r)
}

function signOf(c: Chunk, j: number): number {
  return c.signs === null ? 1 : c.signs[j]!
}

/** Sum of the signs of the first `j` entries of c. */
function netOf(c: Chunk, j: number): number {
  const signs = c.signs
  if (signs === null) return j
  let net = 0
  for (let x = 0; x < j; x++) net += signs[x]!
  return net
}

interface Entries { keys: string[]; ids: number[]; signs: number[] | null; net: number }

/**
 * Merges changes [lo, hi) of b into chunk c (null: none), adjusting `acc` (the level's size and
 * net). Each change finds its place by binary search from the previous one (`dense`: by steps of
 * 1, 2, 4… from it, then a binary search), and the entries between are copied without
 * comparisons: a few changes into a full chunk cost a few searches and one copy, into arrays made
 * at their largest size once (a cancelled entry leaves them shorter).
 */
function mergeChunk(c: Chunk | null, b: Batch, lo: number, hi: number, acc: { size: number; net: number }, dense = false): Entries {
  const n = c === null ? 0 : c.keys.length
  const cap = n + hi - lo
  const keys: string[] = new Array(cap)
  const ids: number[] = new Array(cap)
  // Signs only once an entry is -1.
  let signs: number[] | null = c?.signs == null ? null : new Array(cap)
  let net = c === null ? 0 : c.net
  let w = 0
  let j = 0
  for (let o = lo; o < hi; o++) {
    const k = b.keys[o]!
    const r = b.ids[o]!
    const ins = b.ins[o]!
    if (o > lo && comparePair(b.keys[o - 1]!, b.ids[o - 1]!, k, r) >= 0) throw new LogConflict(k, r, 'changes out of order')
    const p = c === null ? 0 : (dense ? pairGallop : pairSearch)(c.keys, c.ids, j, c.keys.length, k, r)
    for (; j < p; j++, w++) { keys[w] = c!.keys[j]!; ids[w] = c!.ids[j]!; if (signs !== null) signs[w] = signOf(c!, j) }
    if (p < n && c!.keys[p] === k && c!.ids[p] === r) {
      // The same pair: an opposite change cancels the entry; the same change again cannot be effective.
      if ((signOf(c!, p) > 0) === ins) throw new LogConflict(k, r, ins ? 'insert of a pair already inserted' : 'delete of a pair already deleted')
      j++
      acc.size--
    } else {
      if (!ins && signs === null) { signs = new Array(cap); for (let x = 0; x < w; x++) signs[x] = 1 }
      keys[w] = k; ids[w] = r
      if (signs !== null) signs[w] = ins ? 1 : -1
      w++
      acc.size++
    }
    // Either way the index gains (insert) or loses (delete) the pair.
    net += ins ? 1 : -1
    acc.net += ins ? 1 : -1
  }
  for (; j < n; j++, w++) { keys[w] = c!.keys[j]!; ids[w] = c!.ids[j]!; if (signs !== null) signs[w] = signOf(c!, j) }
  chunkCopies.entries += w
  if (w < cap) {
    // Some changes cancelled entries.
    keys.length = w
    ids.length = w
    if (signs !== null) signs.length = w
  }
  // Deletes all cancelled: only inserts remain.
  if (net === w) signs = null
  return { keys, ids, signs, net }
}

/** Appends the entries as chunks of at most MAX_CHUNK (none when empty). */
function pushChunks(out: Chunk[], e: Entries): void {
  const n = e.keys.length
  if (n === 0) return
  if (n <= MAX_CHUNK) { out.push(e); return }
  chunkCopies.entries += n
  const pieces = Math.ceil(n / SPLIT_CHUNK)
  for (let p = 0; p < pieces; p++) {
    const from = Math.floor((p * n) / pieces)
    const to = Math.floor(((p + 1) * n) / pieces)
    let signs = e.signs === null ? null : e.signs.slice(from, to)
    let net = to - from
    if (signs !== null) {
      net = 0
      for (const s of signs) net += s
      if (net === to - from) signs = null
    }
    out.push({ keys: e.keys.slice(from, to), ids: e.ids.slice(from, to), signs, net })
  }
}
