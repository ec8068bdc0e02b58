/**
 * A write transaction: buffers changes in memory, reads its own writes, and hands its changes to
 * its Index when the callback returns. It reads in three layers: its own changes not merged yet
 * (a map, cheap to add to), the pending-change log (the commit's, with the transaction's changes
 * merged in when a read needs order), and the tree, which a transaction never rewrites.
 *
 * Two objects: the TransactionControl, which only the handle holds, owns the state and the
 * lifecycle (finish, abandon, whether anything changed); the Transaction the callback gets
 * reaches it through a #private field, so a caller can neither end the transaction (and commit
 * half of it) nor read its internals.
 */
import { TailrootError, invalid } from '../errors.ts'
import type { Key, KeyCodec } from '../keys.ts'
import type { Batch } from '../tree/batch.ts'
import type { ChangeLog } from '../tree/change-log.ts'
import { mergedCountLess, mergedHas } from '../tree/merged.ts'
import type { MergedTree } from '../tree/merged.ts'
import type { NodeSource, TreeRoot } from '../tree/source.ts'
import { Pending } from './pending.ts'
import type { KeyBounds, RangeOptions } from './range-options.ts'
import { ReadView } from './view.ts'
import type { ReadState } from './view.ts'

export interface TransactionBase {
  path: string
  src: NodeSource
  tree: TreeRoot
  /** The commit's pending changes. */
  log: ChangeLog
  sequence: number
  unique: boolean
  codec: KeyCodec
}

/** The state of a transaction at a savepoint (TransactionControl.savepoint). */
export interface Savepoint {
  readonly log: ChangeLog
  readonly flushes: number
  readonly changed: boolean
  readonly meta: Buffer | null | undefined
}

/**
 * The changes since the last savepoint, to undo them: the first `n` entries of three arrays,
 * reused from savepoint to savepoint.
 */
interface Journal { keys: string[]; ids: number[]; ins: boolean[]; n: number }

/** What a finished transaction hands to the commit. */
export interface TransactionResult {
  /** Its net changes against the state it started from: sorted, each effective there. */
  records: Batch
  /** The starting log with `records` merged in. */
  log: ChangeLog
}

export class TransactionControl<K extends Key = string> extends ReadView<K> {
  /** The object the callback gets. */
  readonly tx: Transaction<K>
  protected readonly codec: KeyCodec
  readonly #base: TransactionBase
  /** The starting log with the changes of `#merged` in. */
  #log: ChangeLog
  /** Changes not in `#log` yet. */
  #pending = new Pending()
  /**
   * Every change, against the starting state; null while nothing was merged into `#log` yet, when
   * `#pending` holds every change (the usual case: the changes are sorted once, at finish()).
   */
  #all: Pending | null = null
  #active = true
  #changed = false
  #meta: Buffer | null | undefined = undefined
  /** The changes since the last savepoint (null: no savepoint taken). */
  #journal: Journal | null = null
  #mergedView: MergedTree | null = null
  /** How many times `#pending` was merged into `#log`. */
  #flushes = 0

  constructor(base: TransactionBase) {
    super()
    this.#base = base
    this.codec = base.codec
    this.#log = base.log
    this.tx = new Transaction<K>(this)
  }

  /** Whether any call changed the index (returned true), or meta was given: whether to commit. */
  get changed(): boolean { return this.#changed }

  /** The metadata the commit stores (the `meta` option); undefined keeps the previous commit's. */
  get meta(): Buffer | null | undefined { return this.#meta }

  get sequence(): number {
    this.checkOpen()
    return this.#base.sequence
  }

  protected readState(ordered: boolean): ReadState {
    this.checkOpen()
    if (ordered) this.#flush()
    return { src: this.#base.src, tree: this.#base.tree, log: this.#log, pending: this.#pending.empty ? null : this.#pending }
  }

  protected checkOpen(): void {
    if (!this.#active) throw new TailrootError('CLOSED', `${this.#base.path}: the transaction has ended`, { path: this.#base.path })
  }

  /** Merges the unmerged changes into the log (in memory). */
  #flush(): void {
    if (this.#pending.empty) return
    this.#log = this.#log.merge(this.#pending.toBatch())
    if (this.#all === null) {
      // From now on `#pending` holds only the changes after this merge.
      this.#all = this.#pending
      this.#pending = new Pending()
    } else {
      this.#pending.clear()
    }
    this.#flushes++
  }

  /** The tree and `#log`, as merged reads take them (one object while `#log` stays the same). */
  #merged(): MergedTree {
    const m = this.#mergedView
    if (m !== null && m.log === this.#log) return m
    return this.#mergedView = { src: this.#base.src, tree: this.#base.tree, log: this.#log }
  }

  #present(k: string, r: number): boolean {
    const p = this.#pending.state(k, r)
    return p !== 0 ? p > 0 : mergedHas(this.#merged(), k, r)
  }

  insert(key: K, rowId: number): boolean {
    this.checkOpen()
    return this.insertBytes(this.codec.encode(key), this.codec.rowId(rowId), this.#base.unique, this.codec)
  }

  delete(key: K, rowId: number): boolean {
    this.checkOpen()
    return this.deleteBytes(this.codec.encode(key), this.codec.rowId(rowId))
  }

  /**
   * Adds the encoded pair; with `unique`, UNIQUE_VIOLATION when its key has another rowId.
   * `codec` decodes the key for that error, which names `index`. (A named index of a set passes its own settings.)
   */
  insertBytes(k: string, r: number, unique: boolean, codec: KeyCodec, index = 'this unique index'): boolean {
    this.checkOpen()
    const b = this.#base
    if (this.#present(k, r)) return false
    if (unique) {
      const m = this.#merged()
      const n = mergedCountLess(m, k, Infinity) - mergedCountLess(m, k, -1) + this.#pending.keyDelta(k)
      if (n > 0) {
        throw new TailrootError('UNIQUE_VIOLATION', `${b.path}: key ${JSON.stringify(String(codec.decode(k)).slice(0, 100))} already has a rowId in ${index} (inserting rowId ${r})`, { path: b.path })
      }
    }
    this.#pending.insert(k, r)
    this.#all?.insert(k, r)
    this.#note(k, r, true)
    this.#changed = true
    return true
  }

  /** Records a change in the journal, when a savepoint was taken. */
  #note(k: string, r: number, ins: boolean): void {
    const j = this.#journal
    if (j === null) return
    const n = j.n++
    if (n < j.keys.length) { j.keys[n] = k; j.ids[n] = r; j.ins[n] = ins } else { j.keys.push(k); j.ids.push(r); j.ins.push(ins) }
  }

  /** Removes the encoded pair; false when it was absent. */
  deleteBytes(k: string, r: number): boolean {
    this.checkOpen()
    if (!this.#present(k, r)) return false
    this.#pending.delete(k, r)
    this.#all?.delete(k, r)
    this.#note(k, r, false)
    this.#changed = true
    return true
  }

  /**
   * Sets the metadata the commit stores (checked by transactionOptions: null or non-empty bytes
   * within the limit). A transaction given metadata commits even when nothing else changed.
   */
  setMeta(meta: Buffer | null): void {
    this.checkOpen()
    this.#meta = meta
    this.#changed = true
  }

  /**
   * Marks the current state; rollback() returns to the last savepoint taken. Used to run several
   * callbacks in one transaction, each dropping only its own changes when it throws.
   */
  savepoint(): Savepoint {
    this.checkOpen()
    const j = this.#journal
    if (j === null) this.#journal = { keys: [], ids: [], ins: [], n: 0 }
    else j.n = 0
    return { log: this.#log, flushes: this.#flushes, changed: this.#changed, meta: this.#meta }
  }

  /** Undoes every change since `sp`, which must be the last savepoint taken. */
  rollback(sp: Savepoint): void {
    this.checkOpen()
    const j = this.#journal
    if (j === null) throw new Error('internal error: rollback without a savepoint')
    // Each change recorded a pair absent (insert) or present (delete); its inverse is effective.
    const flushed = this.#flushes !== sp.flushes
    const all = this.#all
    for (let i = j.n - 1; i >= 0; i--) {
      const k = j.keys[i]!
      const r = j.ids[i]!
      if (j.ins[i]) { all?.delete(k, r); if (!flushed) this.#pending.delete(k, r) }
      else { all?.insert(k, r); if (!flushed) this.#pending.insert(k, r) }
    }
    if (flushed) {
      // Part of the undone changes went into the log (so `all` is set): rebuild it from the changes that remain.
      this.#log = all!.empty ? this.#base.log : this.#base.log.merge(all!.toBatch())
      this.#pending.clear()
    }
    j.n = 0
    this.#changed = sp.changed
    this.#meta = sp.meta
  }

  /** Ends the transaction and returns its changes (with `meta`, what the commit needs). */
  finish(): TransactionResult {
    const r = this.finishLater()
    return { records: r.records, log: r.log() }
  }

  /**
   * finish(), where `log()` makes the log (the first call merges the records into it, later
   * calls return the same): a group commit merges while its sync runs.
   */
  finishLater(): { records: Batch; log: () => ChangeLog } {
    this.checkOpen()
    this.#active = false
    if (this.#all === null) {
      // Nothing merged yet: the changes are the records, sorted once.
      const records = this.#pending.toBatch()
      const base = this.#log
      let log: ChangeLog | null = null
      return { records, log: () => log ??= base.merge(records) }
    }
    this.#flush()
    const log = this.#log
    return { records: this.#all.toBatch(), log: () => log }
  }

  /** Ends the transaction without a result (rollback, or after a failure). Idempotent. */
  abandon(): void {
    this.#active = false
    this.#pending.clear()
    this.#all?.clear()
  }
}

/**
 * The transaction a callback of Index.transaction gets: reads that see its own writes, insert
 * and delete (the commit's metadata is the `meta` option of transaction()). It ends when the
 * callback returns or throws; every call after that throws CLOSED.
 */
export class Transaction<K extends Key = string> {
  readonly #c: TransactionControl<K>

  /** Made by Index.transaction only. */
  constructor(control: TransactionControl<K>) {
    if (!(control instanceof TransactionControl)) throw invalid('a Transaction is made by Index.transaction(), not by its constructor')
    this.#c = control
  }

  /** The commit this transaction started from. */
  get sequence(): number { return this.#c.sequence }

  get(key: K): number[] { return this.#c.get(key) }
  has(key: K, rowId?: number): boolean { return this.#c.has(key, rowId) }
  count(key?: K): number { return this.#c.count(key) }
  countRange(bounds?: KeyBounds<K>): number { return this.#c.countRange(bounds) }
  range(options?: RangeOptions<K>): IterableIterator<[K, number]> { return this.#c.range(options) }

  /** Adds the pair; false when it was already there. UNIQUE_VIOLATION on a unique index. */
  insert(key: K, rowId: number): boolean { return this.#c.insert(key, rowId) }
  /** Removes the pair; false when it was absent. */
  delete(key: K, rowId: number): boolean { return this.#c.delete(key, rowId) }
}

/** Whether a callback's result is a promise (or any thenable): transaction callbacks must be synchronous. */
export function isThenable(v: unknown): boolean {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function'
}
