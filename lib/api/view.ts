/**
 * The read calls every view shares (Index, Transaction, Snapshot). A view supplies the tree it
 * reads and, in a transaction, the changes not yet applied to that tree.
 */
import type { Key, KeyCodec } from '../keys.ts'
import type { FilePin, IndexFile } from '../store/file.ts'
import type { ChangeLog } from '../tree/change-log.ts'
import { mergedCount, mergedCountLess, mergedHas, mergedIdsOf, mergedWalk } from '../tree/merged.ts'
import type { MergedTree } from '../tree/merged.ts'
import type { NodeSource, TreeRoot } from '../tree/source.ts'
import type { Pending } from './pending.ts'
import { normaliseRange } from './range-options.ts'
import type { KeyBounds, NormalRange, RangeOptions } from './range-options.ts'

export interface ReadState extends MergedTree {
  src: NodeSource
  /** The tree of the commit read; `count` is the tree's own, without the pending changes. */
  tree: TreeRoot
  /** The pending changes not folded into the tree (FORMAT.md §10). */
  log: ChangeLog
  /** A transaction's changes not merged into `log` yet, or null; empty when `ordered` was asked. */
  pending: Pending | null
  /**
   * The file `src` reads, when the view may switch files (an Index whose path was replaced):
   * an iterator keeps it open until it ends, so it goes on reading the commit it started on.
   */
  file?: IndexFile
}

/** The state and open check of any view, for views that read through another (lib/api/set/). */
let viewInternals: {
  state: (v: ReadView<Key>, ordered: boolean) => ReadState
  checkOpen: (v: ReadView<Key>) => void
} | null = null

export function viewState(v: ReadView<Key>, ordered: boolean): ReadState { return viewInternals!.state(v, ordered) }
export function viewCheckOpen(v: ReadView<Key>): void { viewInternals!.checkOpen(v) }

export abstract class ReadView<K extends Key = Key> {
  static {
    viewInternals = { state: (v, ordered) => v.readState(ordered), checkOpen: v => v.checkOpen() }
  }

  protected abstract readonly codec: KeyCodec

  /**
   * The state to read. `ordered` asks for a state whose tree includes every change, for reads
   * that need ranks (range, countRange).
   */
  protected abstract readState(ordered: boolean): ReadState

  /** Throws CLOSED when the view (index, snapshot, transaction) is closed or has ended. Cheap. */
  protected abstract checkOpen(): void

  /** The commit sequence this view reads. */
  abstract get sequence(): number

  /** The key's rowIds, ascending; [] when it has none. O(height + rowIds / entries per leaf). */
  get(key: K): number[] {
    const k = this.codec.encode(key)
    const s = this.readState(false)
    const ids = mergedIdsOf(s, k)
    const c = s.pending?.changes(k)
    if (!c) return ids
    const out = c.del ? ids.filter(r => !c.del!.has(r)) : ids
    if (c.ins) { for (const r of c.ins) out.push(r); out.sort((a, b) => a - b) }
    return out
  }

  /** Whether the pair (or, without rowId, any pair of the key) is present. O(height). */
  has(key: K, rowId?: number): boolean {
    if (rowId === undefined) {
      this.codec.encode(key) // count(undefined) would count the whole index
      return this.count(key) > 0
    }
    const k = this.codec.encode(key)
    const r = this.codec.rowId(rowId)
    const s = this.readState(false)
    const p = s.pending?.state(k, r) ?? 0
    if (p !== 0) return p > 0
    return mergedHas(s, k, r)
  }

  /** The entries of `key`, or of the whole index (O(1)). Otherwise O(height). */
  count(key?: K): number {
    if (key === undefined) {
      // A named index of a set file counts its key range, O(height).
      if (this.codec.scope !== null) return this.countRange()
      const s = this.readState(false)
      return mergedCount(s) + (s.pending?.delta ?? 0)
    }
    const k = this.codec.encode(key)
    const s = this.readState(false)
    return mergedCountLess(s, k, Infinity) - mergedCountLess(s, k, -1) + (s.pending?.keyDelta(k) ?? 0)
  }

  /** The number of pairs within the key bounds, in O(height) page reads. */
  countRange(bounds: KeyBounds<K> = {}): number {
    const q = normaliseRange(bounds, this.codec, true)
    const s = this.readState(true)
    const [lo, hi] = ranks(s, q)
    return Math.max(0, hi - lo)
  }

  /**
   * Pairs within the bounds, in (key, rowId) order or reversed; `after` resumes after a pair,
   * `offset` skips in O(height) page reads, `limit` caps the count. Lazy: pages are read as the
   * iterator advances. The iterator reads the commit current when range() was called, and
   * throws CLOSED on its next step once its view is closed.
   */
  range(options: RangeOptions<K> = {}): IterableIterator<[K, number]> {
    const q = normaliseRange(options, this.codec, false)
    const s = this.readState(true)
    const [lo, hi] = ranks(s, q)
    const n = Math.min(q.limit, hi - lo - q.offset)
    const start = q.reverse ? hi - 1 - q.offset : lo + q.offset
    const it = decodeKeys(mergedWalk(s, start, n, q.reverse), this.codec, () => this.checkOpen(), s.file)
    return it as IterableIterator<[K, number]>
  }
}

function ranks(s: ReadState, q: NormalRange): [number, number] {
  const lo = q.lower ? mergedCountLess(s, q.lower.key, q.lower.rowId) : 0
  const hi = q.upper ? mergedCountLess(s, q.upper.key, q.upper.rowId) : mergedCount(s)
  return [lo, hi]
}

/**
 * `checkOpen` runs before every step: a leaf already decoded would otherwise go on yielding after
 * its view closed. It also keeps the view reachable while the iterator is, so a snapshot the
 * caller dropped is not collected (and its file released) under a live iterator.
 */
function decodeKeys(it: Iterator<[string, number]>, codec: KeyCodec, checkOpen: () => void, file: IndexFile | undefined): Generator<[Key, number]> {
  if (file === undefined) return decodeSteps(it, codec, checkOpen, null)
  // Pinned until the iterator ends (finally), or, if it is dropped unfinished, until collected.
  const hold: { pin: FilePin | null } = { pin: null }
  const gen = decodeSteps(it, codec, checkOpen, hold)
  hold.pin = file.pin(gen)
  return gen
}

function* decodeSteps(it: Iterator<[string, number]>, codec: KeyCodec, checkOpen: () => void, hold: { pin: FilePin | null } | null): Generator<[Key, number]> {
  // utf8 keys are decoded once per run of a key; binary and typed keys, which the caller may
  // change, get a fresh value per pair.
  const binary = codec.encoding !== 'utf8'
  let last: string | null = null
  let decoded: Key = ''
  try {
    for (;;) {
      checkOpen()
      const step = it.next()
      if (step.done === true) return
      const [k, r] = step.value
      if (binary) { yield [codec.decode(k), r]; continue }
      if (k !== last) { last = k; decoded = codec.decode(k) }
      yield [decoded, r]
    }
  } finally {
    hold?.pin?.release()
  }
}
