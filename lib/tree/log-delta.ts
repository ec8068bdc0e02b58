/**
 * The upper level of a ChangeLog (change-log.ts): its newest entries, few, in flat arrays sorted
 * by (key, rowId), with the keyHash of each key. Pure and persistent: merge() writes new arrays
 * (O(size + changes) copies, no more), so a change costs a share of one flat copy, where the
 * chunked base level would copy a chunk and the list of chunks for it. The ChangeLog keeps this
 * level small: it flushes it into the base once it passes flushAt().
 *
 * A filter of the keys and pairs (KeyFilter) answers state() and keyChanges() for most pairs and
 * keys without entries without a search; it is shared and grown like the base level's.
 */
import type { Batch } from './batch.ts'
import { pairHash } from '../format/pair-hash.ts'
import { KeyFilter } from './key-filter.ts'
import { LogConflict } from './log-conflict.ts'
import { pairGallop, pairSearch } from './pair-search.ts'

/** Entries the merges of every LogDelta wrote so far, for tests of the cost model. Only ever grows. */
export const deltaCopies = { entries: 0 }

const NONE: readonly number[] = []

export class LogDelta {
  /** The entries, sorted by (key, rowId); never changed. */
  private readonly keys: string[]
  private readonly ids: number[]
  /** The keyHash of each entry's key: the filters take them from here, not from the keys. */
  private readonly hashes: number[]
  /** +1 or -1 per entry; null when every entry is +1 (only inserts: the usual case). */
  private readonly signs: Int8Array | null
  /** nets[j]: sum of the signs of entries [0, j), made on first use when some sign is -1. */
  private nets: Int32Array | null = null
  /** Number of entries. */
  readonly size: number
  /** Sum of signs. */
  readonly net: number
  /** The keys and pairs of the entries, and maybe more (null: none, the empty level). */
  readonly filter: KeyFilter | null

  static readonly EMPTY = new LogDelta({ keys: [], ids: [], hashes: [], signs: null, net: 0 }, null)

  private constructor(e: Entries, filter: KeyFilter | null) {
    this.keys = e.keys
    this.ids = e.ids
    this.hashes = e.hashes
    this.signs = e.signs
    this.size = e.keys.length
    this.net = e.net
    this.filter = filter
  }

  /**
   * Applies changes [from, to) of b but those at the positions in `skip` (ascending), each
   * effective against the state this level describes: an opposite change cancels an entry, the
   * same change again is a LogConflict, any other change adds an entry. The changes must be in
   * order (the caller checked); hashes[o - from] is the keyHash of change o. The entries go into
   * this level's filter while it has room, else into a new filter with room for `room` entries.
   */
  merge(b: Batch, from: number, to: number, hashes: readonly number[], skip: readonly number[] = NONE, room = 0): LogDelta {
    const count = to - from - skip.length
    if (count <= 0) return this
    const f = this.filter !== null && this.filter.fits(count) ? this.filter : null
    const e = this.mergeEntries(b, from, to, hashes, skip, f)
    if (e.keys.length === 0) return LogDelta.EMPTY
    return new LogDelta(e, f ?? filterOf(e, room))
  }

  /**
   * The entries merge() would make, as a batch (+1 = insert) and the keyHash of each, for a flush
   * into the base: no filter.
   */
  mergedBatch(b: Batch, from: number, to: number, hashes: readonly number[], skip: readonly number[] = NONE): { batch: Batch; hashes: number[] } {
    const e = this.mergeEntries(b, from, to, hashes, skip, null)
    const n = e.keys.length
    const ins: boolean[] = new Array(n)
    if (e.signs === null) ins.fill(true)
    else for (let j = 0; j < n; j++) ins[j] = e.signs[j]! > 0
    return { batch: { keys: e.keys, ids: e.ids, ins }, hashes: e.hashes }
  }

  /**
   * The entries of merge(), the added ones added to `f` when not null. Each change finds its
   * place by a galloping search from the previous one and the entries between are copied without
   * comparisons: O(size + changes) copies, O(changes × log(size / changes)) comparisons.
   */
  private mergeEntries(b: Batch, from: number, to: number, bh: readonly number[], skip: readonly number[], f: KeyFilter | null): Entries {
    const n = this.size
    const cap = n + to - from - skip.length
    const K = this.keys
    const I = this.ids
    const H = this.hashes
    const S = this.signs
    const keys: string[] = new Array(cap)
    const ids: number[] = new Array(cap)
    const hashes: number[] = new Array(cap)
    // Signs only once an entry is -1.
    let signs: Int8Array | null = S === null ? null : new Int8Array(cap)
    let net = this.net
    let w = 0
    let j = 0
    let s = 0
    for (let o = from; o < to; o++) {
      if (s < skip.length && skip[s] === o) { s++; continue }
      const k = b.keys[o]!
      const r = b.ids[o]!
      const ins = b.ins[o]!
      const p = pairGallop(K, I, j, n, k, r)
      if (p > j) {
        if (signs !== null) for (let x = j, y = w; x < p; x++, y++) signs[y] = S === null ? 1 : S[x]!
        for (let x = j; x < p; x++, w++) { keys[w] = K[x]!; ids[w] = I[x]!; hashes[w] = H[x]! }
      }
      if (p < n && K[p] === k && I[p] === r) {
        // The same pair: an opposite change cancels the entry; the same change again cannot be effective.
        if ((S === null || S[p]! > 0) === ins) throw new LogConflict(k, r, ins ? 'insert of a pair already inserted' : 'delete of a pair already deleted')
        j = p + 1
      } else {
        j = p
        if (!ins && signs === null) { signs = new Int8Array(cap); signs.fill(1, 0, w) }
        const h = bh[o - from]!
        keys[w] = k
        ids[w] = r
        hashes[w] = h
        if (signs !== null) signs[w] = ins ? 1 : -1
        w++
        if (f !== null) f.add(h, pairHash(h, r))
      }
      net += ins ? 1 : -1
    }
    if (j < n) {
      if (signs !== null) for (let x = j, y = w; x < n; x++, y++) signs[y] = S === null ? 1 : S[x]!
      for (let x = j; x < n; x++, w++) { keys[w] = K[x]!; ids[w] = I[x]!; hashes[w] = H[x]! }
    }
    deltaCopies.entries += w
    if (w < cap) {
      // Some changes cancelled entries.
      keys.length = w
      ids.length = w
      hashes.length = w
      if (signs !== null) signs = signs.slice(0, w)
    }
    // Deletes all cancelled: only inserts remain.
    if (net === w) signs = null
    return { keys, ids, hashes, signs, net }
  }

  /** +1 when the pair was inserted, -1 when deleted, 0 when it has no entry; p: its pairHash. */
  state(k: string, r: number, p: number): number {
    if (this.filter === null || !this.filter.mayHave(p)) return 0
    const j = this.lowerBound(k, r)
    return j < this.size && this.keys[j] === k && this.ids[j] === r ? this.signAt(j) : 0
  }

  /** Index of the first entry ≥ (k, r); r may be -1, fractional or Infinity. */
  lowerBound(k: string, r: number): number {
    return pairSearch(this.keys, this.ids, 0, this.size, k, r)
  }

  /** Sum of the signs of the entries strictly below (k, r). */
  netBelow(k: string, r: number): number {
    return this.netBefore(this.lowerBound(k, r))
  }

  /** Sum of the signs of entries [0, j). */
  netBefore(j: number): number {
    const signs = this.signs
    if (signs === null) return j
    if (this.nets === null) {
      const nets = new Int32Array(this.size + 1)
      for (let x = 0; x < this.size; x++) nets[x + 1] = nets[x]! + signs[x]!
      this.nets = nets
    }
    return this.nets[j]!
  }

  keyAt(j: number): string { return this.keys[j]! }
  idAt(j: number): number { return this.ids[j]! }
  signAt(j: number): number { return this.signs === null ? 1 : this.signs[j]! }

  /** The entries of key k: rowIds inserted and deleted, ascending; h: keyHash(k). */
  keyChanges(k: string, h: number): { ins: number[]; del: number[] } | null {
    if (this.filter === null || !this.filter.mayHave(h)) return null
    let j = this.lowerBound(k, -1)
    if (j >= this.size || this.keys[j] !== k) return null
    const ins: number[] = []
    const del: number[] = []
    for (; j < this.size && this.keys[j] === k; j++) {
      if (this.signAt(j) > 0) ins.push(this.ids[j]!)
      else del.push(this.ids[j]!)
    }
    return { ins, del }
  }
}

interface Entries { keys: string[]; ids: number[]; hashes: number[]; signs: Int8Array | null; net: number }

/** A new filter of the entries, with room for `room` entries and at least three times as many as it holds. */
function filterOf(e: Entries, room: number): KeyFilter {
  const f = new KeyFilter(Math.max(e.keys.length, Math.ceil(room / 3)))
  for (let j = 0; j < e.keys.length; j++) f.add(e.hashes[j]!, pairHash(e.hashes[j]!, e.ids[j]!))
  return f
}
