/**
 * The pending changes of an index: pairs inserted into or deleted from the state its tree holds,
 * not yet folded into the tree (FORMAT.md §10). Pure and persistent: merge() returns a new log
 * and never changes the old one, so a snapshot or a savepoint keeps the log it started with.
 *
 * Each pair appears at most once, with sign +1 (in the index, absent from the tree) or -1 (in
 * the tree, deleted from the index). Entries are sorted by (key, rowId).
 *
 * Two levels hold the entries, each pair in at most one of them:
 * - the base (LogChunks, log-chunks.ts): chunks of at most 48 entries, shared between the logs
 *   merged from one another; a merge copies each chunk it changes and the list of chunks;
 * - the delta (LogDelta, log-delta.ts): the newest entries, few, in flat arrays that each merge
 *   writes anew.
 * A change to a pair of the base goes to the base (it can only cancel that entry); every other
 * change goes to the delta (it cancels a delta entry or adds one). When a merge would leave the
 * delta with more than flushAt(changes, base size) entries, the delta goes into the base with the
 * changes (a flush) and the log starts an empty delta.
 *
 * Cost, for merges of B changes to pairs without entries into a log whose base holds N entries
 * and whose delta D ≤ T = flushAt(B, N): a merge copies D + B delta entries, and every T / B
 * merges a flush copies the chunks the delta touches (up to min(T, N / 40) chunks of ~40
 * entries) and the list of N / 40 chunks. Amortised, a change copies about T / (2B) +
 * min(40, N / T) entries, and the list copies are shared by T changes, where a merge straight into
 * the chunks would copy a chunk (~40) per change and the list per merge. The comparisons (each
 * change's place in the delta, then in its chunk at the flush) are about as many as before: most
 * of the time of a merge into a large log goes to them, keys that are seldom in the processor's
 * cache. A change to a base pair costs what it costs in LogChunks.
 *
 * Each level has a Bloom filter of its keys and pairs (KeyFilter, key-filter.ts): state() and
 * keyChanges() answer for most pairs and keys without entries without a search, and a merge
 * searches the base only for the changes whose pair its filter may have. A merge hashes each key
 * once; the delta keeps the hashes, for its filter and for the base's at the flush.
 *
 * Positional reads (keyAt, idAt, signAt, netBefore) take a position in the union of the levels:
 * position n is the j-th delta entry or the (n - j)-th base entry, j found by a binary search over
 * the delta (O(log D × log N)); the log remembers the last position it resolved (lowerBound()
 * sets it too), so a walk from one position to the next or previous costs O(1).
 */
import { comparePair } from '../format/node.ts'
import type { Batch } from './batch.ts'
import { keyHash, pairHash } from '../format/pair-hash.ts'
import { chunkCopies, LogChunks } from './log-chunks.ts'
import { LogConflict } from './log-conflict.ts'
import { deltaCopies, LogDelta } from './log-delta.ts'

export { LogConflict } from './log-conflict.ts'

/**
 * Delta entries past which a merge of `changes` changes into a log whose base holds `base`
 * entries flushes the delta into the base: √(2 × changes × base), within [MIN_DELTA, MAX_DELTA].
 * A larger delta costs more per merge (each merge copies the delta: about T / (2 × changes) per
 * change) and less per flush (a flush copies the chunks the delta touches and the list of chunks,
 * up to about base / T per change); the square root balances the two. MIN_DELTA keeps tiny logs
 * from flushing at every merge; MAX_DELTA bounds the flat copy of one merge, and keeps the delta's
 * arrays below the size V8 allocates as large objects (128 KiB).
 */
const MIN_DELTA = 32
const MAX_DELTA = 16000

export function flushAt(changes: number, base: number): number {
  return Math.min(MAX_DELTA, Math.max(MIN_DELTA, Math.round(Math.sqrt(2 * changes * base))))
}

/**
 * What the merges of every log copied so far: entries written into new chunks and delta arrays,
 * and chunk references written into new chunk lists (tests check the cost model with it).
 */
export function logCopies(): { entries: number; refs: number } {
  return { entries: chunkCopies.entries + deltaCopies.entries, refs: chunkCopies.refs }
}

export class ChangeLog {
  private readonly base: LogChunks
  private readonly delta: LogDelta
  /** Number of entries. */
  readonly size: number
  /** Sum of signs: the index holds tree.count + net pairs. */
  readonly net: number
  /**
   * The last position resolved (-1: none): the number of delta entries before it (atDelta), and
   * whether it is a delta entry (else the base entry atN - atDelta).
   */
  private atN = -1
  private atDelta = 0
  private atIsDelta = false

  static readonly EMPTY = new ChangeLog(LogChunks.EMPTY, LogDelta.EMPTY)

  private constructor(base: LogChunks, delta: LogDelta) {
    this.base = base
    this.delta = delta
    this.size = base.size + delta.size
    this.net = base.net + delta.net
  }

  get empty(): boolean { return this.size === 0 }

  /** The entries of each level (tests check the structure with it). */
  get levels(): { base: number; delta: number } {
    return { base: this.base.size, delta: this.delta.size }
  }

  /**
   * Applies sorted changes, each effective against the state this log describes (an insert of a
   * pair absent from it, a delete of a pair present in it). An insert cancels a -1 entry, a
   * delete cancels a +1 entry. Throws LogConflict when a change cannot be effective (an insert
   * over a +1 entry, a delete over a -1 entry) or the changes are out of order: the caller
   * decides what that means. This log stays as it was either way.
   *
   * A first pass checks the order, hashes the keys and finds the changes to base pairs; those go
   * into the base, the others into the delta, which is flushed when it passes flushAt().
   */
  merge(b: Batch, from = 0, to = b.keys.length): ChangeLog {
    if (from >= to) return this
    // The order, the key hashes (for the filters), and which changes are to base pairs: those the
    // base's filter may have, found by a search.
    const base = this.base
    const filter = base.filter
    const hashes: number[] = new Array(to - from)
    let toBase: number[] | null = null
    for (let o = from; o < to; o++) {
      const k = b.keys[o]!
      const r = b.ids[o]!
      if (o > from && comparePair(b.keys[o - 1]!, b.ids[o - 1]!, k, r) >= 0) throw new LogConflict(k, r, 'changes out of order')
      const h = hashes[o - from] = keyHash(k)
      if (filter === null || !filter.mayHave(pairHash(h, r))) continue
      const s = base.find(k, r)
      if (s === 0) continue
      const ins = b.ins[o]!
      if ((s > 0) === ins) throw new LogConflict(k, r, ins ? 'insert of a pair already inserted' : 'delete of a pair already deleted')
      ;(toBase ??= []).push(o)
    }
    const T = flushAt(to - from, base.size)
    let nextBase = base
    if (toBase !== null) {
      const cancels: Batch = { keys: [], ids: [], ins: [] }
      for (const o of toBase) { cancels.keys.push(b.keys[o]!); cancels.ids.push(b.ids[o]!); cancels.ins.push(b.ins[o]!) }
      nextBase = base.merge(cancels, 0, toBase.length, null)
    } else if (this.delta.size === 0 && to - from > T) {
      // Too many changes for a delta, and no delta to merge them with: straight into the base.
      return new ChangeLog(base.merge(b, from, to, hashes), LogDelta.EMPTY)
    }
    const skip = toBase ?? undefined
    if (this.delta.size + (to - from) - (toBase?.length ?? 0) <= T) return new ChangeLog(nextBase, this.delta.merge(b, from, to, hashes, skip, T))
    // The delta would pass T: it goes into the base with the changes (none of its pairs is there,
    // nothing cancels), and the log starts a new delta.
    const flush = this.delta.mergedBatch(b, from, to, hashes, skip)
    return new ChangeLog(nextBase.merge(flush.batch, 0, flush.batch.keys.length, flush.hashes), LogDelta.EMPTY)
  }

  /**
   * +1 when the pair was inserted, -1 when deleted, 0 when it has no pending change. p: its
   * pairHash, when the caller has it.
   */
  state(k: string, r: number, p = pairHash(keyHash(k), r)): number {
    const s = this.delta.state(k, r, p)
    return s !== 0 ? s : this.base.state(k, r, p)
  }

  /** Sum of the signs of the entries strictly below (k, r); r may be -1, fractional or Infinity. */
  netBelow(k: string, r: number): number {
    return this.base.netBelow(k, r) + this.delta.netBelow(k, r)
  }

  /** Index of the first entry ≥ (k, r). */
  lowerBound(k: string, r: number): number {
    const j = this.delta.lowerBound(k, r)
    const n = j + this.base.lowerBound(k, r)
    // Entry n, the one a walk from here reads first, has j delta entries before it.
    if (n < this.size) this.note(n, j)
    return n
  }

  /** Sum of the signs of entries [0, n). */
  netBefore(n: number): number {
    if (n >= this.size) return this.net
    this.resolve(n)
    return this.delta.netBefore(this.atDelta) + this.base.netBefore(n - this.atDelta)
  }

  keyAt(n: number): string {
    this.resolve(n)
    return this.atIsDelta ? this.delta.keyAt(this.atDelta) : this.base.keyAt(n - this.atDelta)
  }

  idAt(n: number): number {
    this.resolve(n)
    return this.atIsDelta ? this.delta.idAt(this.atDelta) : this.base.idAt(n - this.atDelta)
  }

  signAt(n: number): number {
    this.resolve(n)
    return this.atIsDelta ? this.delta.signAt(this.atDelta) : this.base.signAt(n - this.atDelta)
  }

  /** The pending changes of key k: rowIds inserted and deleted, ascending. */
  keyChanges(k: string): { ins: number[]; del: number[] } | null {
    const h = keyHash(k)
    const d = this.delta.keyChanges(k, h)
    const b = this.base.keyChanges(k, h)
    if (d === null || b === null) return d ?? b
    return { ins: mergeIds(b.ins, d.ins), del: mergeIds(b.del, d.del) }
  }

  /** Every entry in order, as a batch (+1 = insert). */
  toBatch(): Batch {
    const b = this.base.toBatch()
    const d = this.delta
    if (d.size === 0) return b
    const n = b.keys.length + d.size
    const keys: string[] = new Array(n)
    const ids: number[] = new Array(n)
    const ins: boolean[] = new Array(n)
    let i = 0
    let j = 0
    for (let w = 0; w < n; w++) {
      if (j < d.size && (i === b.keys.length || comparePair(d.keyAt(j), d.idAt(j), b.keys[i]!, b.ids[i]!) < 0)) {
        keys[w] = d.keyAt(j); ids[w] = d.idAt(j); ins[w] = d.signAt(j) > 0; j++
      } else {
        keys[w] = b.keys[i]!; ids[w] = b.ids[i]!; ins[w] = b.ins[i]!; i++
      }
    }
    return { keys, ids, ins }
  }

  /**
   * Sets atN = n (0 ≤ n < size), atDelta and atIsDelta. The next or previous position of the
   * last one follows from it by one comparison; any other by a binary search (select).
   */
  private resolve(n: number): void {
    const last = this.atN
    if (n === last) return
    const d = this.delta
    const base = this.base
    if (d.size === 0 || base.size === 0) { this.atN = n; this.atDelta = d.size === 0 ? 0 : n; this.atIsDelta = d.size !== 0; return }
    if (last >= 0 && n === last - 1) {
      // Entry n is the larger of the last delta entry and the last base entry before `last`.
      const j = this.atDelta
      const i = last - j - 1
      this.atN = n
      if (j > 0 && (i < 0 || comparePair(d.keyAt(j - 1), d.idAt(j - 1), base.keyAt(i), base.idAt(i)) > 0)) { this.atDelta = j - 1; this.atIsDelta = true }
      else this.atIsDelta = false
      return
    }
    this.note(n, last >= 0 && n === last + 1 ? this.atDelta + (this.atIsDelta ? 1 : 0) : this.select(n))
  }

  /** Remembers position n (< size), with j delta entries before it. */
  private note(n: number, j: number): void {
    const d = this.delta
    const i = n - j
    this.atN = n
    this.atDelta = j
    this.atIsDelta = j < d.size && (i >= this.base.size || comparePair(d.keyAt(j), d.idAt(j), this.base.keyAt(i), this.base.idAt(i)) < 0)
  }

  /**
   * How many of the first n entries are delta entries: the number of delta entries j whose
   * position, j + (base entries below it), is below n. Positions grow with j: a binary search.
   */
  private select(n: number): number {
    const d = this.delta
    let lo = Math.max(0, n - this.base.size)
    let hi = Math.min(n, d.size)
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (mid + this.base.lowerBound(d.keyAt(mid), d.idAt(mid)) < n) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** Two ascending lists of distinct rowIds, merged. */
function mergeIds(a: number[], b: number[]): number[] {
  if (b.length === 0) return a
  if (a.length === 0) return b
  const out: number[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) out.push(j === b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!)
  return out
}
