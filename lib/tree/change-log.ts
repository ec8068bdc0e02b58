/**
 * The pending changes of an index: pairs inserted into or deleted from the state its tree holds,
 * not yet folded into the tree (FORMAT.md §10). Pure and persistent: merge() returns a new log
 * that shares every untouched chunk with the old one, so a snapshot keeps the log it started
 * with at no cost, and a small commit copies one chunk and the chunk list, not the whole log.
 *
 * Each pair appears at most once, with sign +1 (in the index, absent from the tree) or -1 (in
 * the tree, deleted from the index). Entries are sorted by (key, rowId).
 *
 * A filter of the keys (KeyFilter) answers state() and keyChanges() for most keys without
 * entries without searching the chunks: most presence checks are of such keys.
 */
import { comparePair } from '../format/node.ts'
import type { Batch } from './batch.ts'

/**
 * Entries per chunk above which a rewritten chunk is split. A merge copies every chunk it
 * changes and shares the rest, and copies the list of chunks: a group commit of changes to many
 * random keys changes about one chunk per change, so its cost is near (changes × chunk size +
 * chunks). Small chunks keep the first term low; the list copy is a plain copy of references.
 */
const MAX_CHUNK = 48
/** Entries per piece when a chunk is split. */
const SPLIT_CHUNK = 32

interface Chunk {
  readonly keys: readonly string[]
  readonly ids: readonly number[]
  /** +1 or -1 per entry; null when every entry is +1 (only inserts: the usual case). */
  readonly signs: readonly number[] | null
  /** Sum of signs. */
  readonly net: number
}

/** A change that is not effective where it is applied: the log and the changes disagree. */
export class LogConflict extends Error {
  readonly key: string
  readonly rowId: number
  constructor(key: string, rowId: number, what: string) {
    super(what)
    this.key = key
    this.rowId = rowId
  }
}

/**
 * A Bloom filter of the keys of a log's entries (two bits per key): a key whose bits are not
 * both set has no entry. Bits are only ever added, so a log merged from another shares its
 * filter and adds the keys of its changes: the filter then holds a superset of the keys of every
 * log that shares it, which costs false positives (a search) but never a wrong answer, and a
 * merge adds to it without a copy. A log whose merges added more keys than `limit` gets a new
 * filter, made from its own entries, with room for four times as many.
 */
class KeyFilter {
  private readonly bits: Int32Array
  /** 32 less log2 of the number of bits: a hash's top bits pick a bit. */
  private readonly shift: number
  /** Keys added so far (by every log sharing the filter), and how many it takes before a new one. */
  added = 0
  readonly limit: number

  /** A filter for `entries` keys and about four times as many added later. */
  constructor(entries: number) {
    let log2 = 12
    while (log2 < 26 && 2 ** log2 < 32 * entries) log2++
    this.bits = new Int32Array(2 ** (log2 - 5))
    this.shift = 32 - log2
    // 8 bits per key: about 5% false positives when full.
    this.limit = 2 ** (log2 - 3)
  }

  add(k: string): void {
    const h = keyHash(k)
    const a = Math.imul(h, 0x9e3779b1) >>> this.shift
    const b = Math.imul(h, 0x85ebca6b) >>> this.shift
    this.bits[a >>> 5]! |= 1 << (a & 31)
    this.bits[b >>> 5]! |= 1 << (b & 31)
    this.added++
  }

  mayHave(k: string): boolean {
    const h = keyHash(k)
    const a = Math.imul(h, 0x9e3779b1) >>> this.shift
    const b = Math.imul(h, 0x85ebca6b) >>> this.shift
    return (this.bits[a >>> 5]! & (1 << (a & 31))) !== 0 && (this.bits[b >>> 5]! & (1 << (b & 31))) !== 0
  }
}

/** FNV-1a over the key's bytes (chars). */
function keyHash(k: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193)
  return h
}

export class ChangeLog {
  private readonly chunks: readonly Chunk[]
  /** The first pair of each chunk, side by side, for the search of chunkFor. */
  private readonly firstKeys: readonly string[]
  private readonly firstIds: readonly number[]
  /** starts[i]: entries before chunk i; netStarts[i]: sum of signs before chunk i (made on first use). */
  private starts: Float64Array | null = null
  private netStarts: Float64Array | null = null
  /** Number of entries. */
  readonly size: number
  /** Sum of signs: the index holds tree.count + net pairs. */
  readonly net: number
  /** The keys of the entries, and maybe more (null: none, the empty log). */
  private readonly filter: KeyFilter | null

  static readonly EMPTY = new ChangeLog([], 0, 0, null)

  private constructor(chunks: Chunk[], size: number, net: number, filter: KeyFilter | null) {
    this.chunks = chunks
    this.filter = filter
    const n = chunks.length
    const firstKeys: string[] = new Array(n)
    const firstIds: number[] = new Array(n)
    for (let i = 0; i < n; i++) { const c = chunks[i]!; firstKeys[i] = c.keys[0]!; firstIds[i] = c.ids[0]! }
    this.firstKeys = firstKeys
    this.firstIds = firstIds
    this.size = size
    this.net = net
  }

  get empty(): boolean { return this.size === 0 }

  /**
   * Applies sorted changes, each effective against the state this log describes (an insert of a
   * pair absent from it, a delete of a pair present in it). An insert cancels a -1 entry, a
   * delete cancels a +1 entry. Throws LogConflict when a change cannot be effective (an insert
   * over a +1 entry, a delete over a -1 entry): the caller decides what that means.
   */
  merge(b: Batch, from = 0, to = b.keys.length): ChangeLog {
    if (from >= to) return this
    const chunks = this.chunks
    const out: Chunk[] = []
    const acc = { size: this.size, net: this.net }
    if (chunks.length === 0) {
      pushChunks(out, mergeChunk(null, b, from, to, acc))
      return new ChangeLog(out, acc.size, acc.net, this.filterFor(out, acc.size, b, from, to))
    }
    let o = from
    let i = 0
    while (o < to) {
      // Chunk c takes the changes below the first pair of chunk c + 1 (the first chunk also those
      // below its own). Found by binary search, so a few changes into a long log cost a few
      // searches, and the untouched chunks are shared.
      const c = this.chunkFor(b.keys[o]!, b.ids[o]!, i)
      for (; i < c; i++) out.push(chunks[i]!)
      const next = chunks[c + 1]
      const end = next === undefined ? to : lowerBound(b, o, to, next.keys[0]!, next.ids[0]!)
      pushChunks(out, mergeChunk(chunks[c]!, b, o, end, acc))
      o = end
      i = c + 1
    }
    for (; i < chunks.length; i++) out.push(chunks[i]!)
    return new ChangeLog(out, acc.size, acc.net, this.filterFor(out, acc.size, b, from, to))
  }

  /** The filter of the log this merge makes: this log's, with the keys of b[from, to) added, or a new one. */
  private filterFor(chunks: Chunk[], size: number, b: Batch, from: number, to: number): KeyFilter | null {
    if (size === 0) return null
    let f = this.filter
    if (f !== null && f.added + (to - from) <= f.limit) {
      for (let o = from; o < to; o++) f.add(b.keys[o]!)
      return f
    }
    f = new KeyFilter(size)
    for (const c of chunks) for (const k of c.keys) f.add(k)
    return f
  }

  /** +1 when the pair was inserted, -1 when deleted, 0 when it has no pending change. */
  state(k: string, r: number): number {
    if (this.filter === null || !this.filter.mayHave(k)) return 0
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
    const p = this.prefixes()
    return p.netStarts[i]! + netOf(c, n - p.starts[i]!)
  }

  keyAt(n: number): string { const i = this.chunkAt(n); return this.chunks[i]!.keys[n - this.starts![i]!]! }
  idAt(n: number): number { const i = this.chunkAt(n); return this.chunks[i]!.ids[n - this.starts![i]!]! }
  signAt(n: number): number { const i = this.chunkAt(n); return signOf(this.chunks[i]!, n - this.starts![i]!) }

  /** The pending changes of key k: rowIds inserted and deleted, ascending. */
  keyChanges(k: string): { ins: number[]; del: number[] } | null {
    if (this.filter === null || !this.filter.mayHave(k)) return null
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
   * by default) when none after it is; -1 if empty.
   */
  private chunkFor(k: string, r: number, from = 0): number {
    const keys = this.firstKeys
    if (keys.length === 0) return -1
    const ids = this.firstIds
    let lo = from
    let hi = keys.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      const ck = keys[mid]!
      if (ck < k || (ck === k && ids[mid]! <= r)) lo = mid
      else hi = mid - 1
    }
    return lo
  }


  /** The chunk holding entry n (0 ≤ n < size). */
  private chunkAt(n: number): number {
    const starts = this.prefixes().starts
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (starts[mid]! <= n) lo = mid
      else hi = mid - 1
    }
    return lo
  }
}

function lowerBound(b: Batch, lo: number, hi: number, k: string, r: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (comparePair(b.keys[mid]!, b.ids[mid]!, k, r) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

function chunkLowerBound(c: Chunk, k: string, r: number, from = 0): number {
  const keys = c.keys
  let lo = from
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const mk = keys[mid]!
    if (mk < k || (mk === k && c.ids[mid]! < r)) lo = mid + 1
    else hi = mid
  }
  return lo
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
 * Merges changes [lo, hi) of b into chunk c (null: none), adjusting `acc` (the log's size and
 * net). Each change finds its place by binary search from the previous one, and the entries
 * between are copied without comparisons: a few changes into a full chunk cost a few searches
 * and one copy, into arrays made at their largest size once (a cancelled entry leaves them shorter).
 */
function mergeChunk(c: Chunk | null, b: Batch, lo: number, hi: number, acc: { size: number; net: number }): Entries {
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
    const p = c === null ? 0 : chunkLowerBound(c, k, r, j)
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
