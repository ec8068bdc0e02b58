/**
 * A write transaction: buffers changes in memory, reads its own writes, and hands the resulting
 * tree to its Index when the callback returns.
 */
import { TailrootError, invalid } from '../errors.ts'
import { maxMetaBytes } from '../format/constants.ts'
import type { Key, KeyCodec } from '../keys.ts'
import { applyBatch } from '../tree/apply.ts'
import { countLess, hasPair } from '../tree/read.ts'
import type { NodeSource, TreeRoot } from '../tree/source.ts'
import { Pending } from './pending.ts'
import { ReadView } from './view.ts'
import type { ReadState } from './view.ts'

export interface TransactionBase {
  path: string
  src: NodeSource
  tree: TreeRoot
  sequence: number
  pageSize: number
  unique: boolean
  codec: KeyCodec
}

export class Transaction<K extends Key = string> extends ReadView<K> {
  protected readonly codec: KeyCodec
  private tree: TreeRoot
  private readonly pending = new Pending()
  private replaced = 0
  private active = true
  /** Whether any call changed the index (returned true). */
  changed = false
  /** New commit metadata; undefined keeps the previous commit's. */
  metadata: Buffer | null | undefined = undefined

  private readonly base: TransactionBase

  constructor(base: TransactionBase) {
    super()
    this.base = base
    this.codec = base.codec
    this.tree = base.tree
  }

  /** The commit this transaction started from. */
  get sequence(): number { return this.base.sequence }

  protected readState(ordered: boolean): ReadState {
    this.check()
    if (ordered) this.flush()
    return { src: this.base.src, tree: this.tree, pending: this.pending.empty ? null : this.pending }
  }

  private check(): void {
    if (!this.active) throw new TailrootError('CLOSED', `${this.base.path}: the transaction has ended`, { path: this.base.path })
  }

  /** Applies buffered changes to the in-memory tree (no I/O beyond reading nodes). */
  private flush(): void {
    if (this.pending.empty) return
    const res = applyBatch(this.base.src, this.tree, this.pending.toBatch(), this.base.pageSize)
    this.tree = { root: res.root, height: res.height, count: res.count }
    this.replaced += res.replaced
    this.pending.clear()
  }

  private present(k: string, r: number): boolean {
    const p = this.pending.state(k, r)
    return p !== 0 ? p > 0 : hasPair(this.base.src, this.tree, k, r)
  }

  /** Adds the pair; false when it was already there. UNIQUE_VIOLATION on a unique index. */
  insert(key: K, rowId: number): boolean {
    this.check()
    const k = this.codec.encode(key)
    const r = this.codec.rowId(rowId)
    if (this.present(k, r)) return false
    if (this.base.unique) {
      const n = countLess(this.base.src, this.tree, k, Infinity) - countLess(this.base.src, this.tree, k, -1) + this.pending.keyDelta(k)
      if (n > 0) {
        throw new TailrootError('UNIQUE_VIOLATION', `${this.base.path}: key ${JSON.stringify(String(this.codec.decode(k)).slice(0, 100))} already has a rowId in this unique index (inserting rowId ${r})`, { path: this.base.path })
      }
    }
    this.pending.insert(k, r)
    this.changed = true
    return true
  }

  /** Removes the pair; false when it was absent. */
  delete(key: K, rowId: number): boolean {
    this.check()
    const k = this.codec.encode(key)
    const r = this.codec.rowId(rowId)
    if (!this.present(k, r)) return false
    this.pending.delete(k, r)
    this.changed = true
    return true
  }

  /** Sets the metadata blob the commit will carry (null clears it). */
  setMetadata(meta: Uint8Array | null): void {
    this.check()
    if (meta !== null && !(meta instanceof Uint8Array)) throw invalid(`${this.base.path}: metadata must be a Uint8Array or null`)
    const max = maxMetaBytes(this.base.pageSize)
    if (meta && meta.length > max) throw invalid(`${this.base.path}: metadata is ${meta.length} bytes; the maximum is ${max}`)
    this.metadata = meta && meta.length > 0 ? Buffer.from(meta) : null
    this.changed = true
  }

  /** Ends the transaction and returns its final tree and the clean pages it no longer uses. */
  finish(): { tree: TreeRoot; replaced: number } {
    this.flush()
    this.active = false
    return { tree: this.tree, replaced: this.replaced }
  }

  /** Ends the transaction without a result (rollback or after a failure). */
  abandon(): void {
    this.active = false
    this.pending.clear()
  }
}
