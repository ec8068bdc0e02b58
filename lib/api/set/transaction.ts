/**
 * A transaction over a set of named indexes: every index it writes changes in one commit of the
 * set's file (FORMAT.md §12). tx.index(name) gives one named index of it, which reads its own
 * writes and those of the whole transaction.
 */
import type { CatalogEntry } from '../../format/catalog.ts'
import type { TypedKey } from '../../format/typed-key.ts'
import type { Key, ScopedKeyCodec } from '../../keys.ts'
import type { TransactionControl } from '../transaction.ts'
import type { SetContext } from './context.ts'
import type { IndexOptions } from './context.ts'
import type { NamedIndex } from './named-index.ts'
import { IndexView } from './scoped-view.ts'
import { viewCheckOpen } from '../view.ts'

/** One named index in a set transaction: reads (with the transaction's writes), insert, delete. */
export class TransactionIndex<K extends Key = Key> extends IndexView<K> {
  readonly name: string
  readonly unique: boolean
  readonly #c: TransactionControl<Key>
  readonly #codec: ScopedKeyCodec

  /** Made by SetTransaction.index. */
  constructor(c: TransactionControl<Key>, e: CatalogEntry, codec: ScopedKeyCodec) {
    super(c, codec)
    this.#c = c
    this.#codec = codec
    this.name = e.name
    this.unique = e.unique
  }

  /** Adds the pair; false when it was already there. UNIQUE_VIOLATION on a unique index. */
  insert(key: K, rowId: number): boolean {
    this.checkOpen()
    return this.#c.insertBytes(this.#codec.encode(key), this.#codec.rowId(rowId), this.unique, this.#codec, `unique index ${JSON.stringify(this.name)}`)
  }

  /** Removes the pair; false when it was absent. */
  delete(key: K, rowId: number): boolean {
    this.checkOpen()
    return this.#c.deleteBytes(this.#codec.encode(key), this.#codec.rowId(rowId))
  }
}

export class SetTransaction {
  readonly #c: TransactionControl<Key>
  readonly #ctx: SetContext
  readonly #open = new Map<string, TransactionIndex<Key>>()
  /** Told of each index this transaction creates, to record it once the transaction commits. */
  readonly #created: (e: CatalogEntry) => void

  /** Made by IndexSet.transaction. */
  constructor(c: TransactionControl<Key>, ctx: SetContext, created: (e: CatalogEntry) => void) {
    this.#c = c
    this.#ctx = ctx
    this.#created = created
  }

  /** The commit this transaction started from. */
  get sequence(): number { return this.#c.sequence }

  /**
   * A named index of the set, by handle or by name. An index the set does not hold yet is
   * created in this transaction (unless the set was opened with create: false), with `options`;
   * for an existing one, options given must match its settings.
   */
  index<K extends Key>(handle: NamedIndex<K>): TransactionIndex<K>
  index<K extends string = string>(name: string, options?: IndexOptions & { keyEncoding?: 'utf8' }): TransactionIndex<K>
  index<K extends Uint8Array = Uint8Array>(name: string, options: IndexOptions & { keyEncoding: 'binary' }): TransactionIndex<K>
  index<K extends TypedKey = TypedKey>(name: string, options: IndexOptions & { keyEncoding: 'typed' }): TransactionIndex<K>
  index(name: string, options?: IndexOptions): TransactionIndex<Key>
  index(which: string | NamedIndex<Key>, options?: IndexOptions): TransactionIndex<Key> {
    const e = typeof which === 'string' ? this.#entry(which, options) : this.#entry(which.name, { unique: which.unique, keyEncoding: which.keyEncoding })
    let ti = this.#open.get(e.name)
    if (ti === undefined) this.#open.set(e.name, ti = new TransactionIndex<Key>(this.#c, e, this.#ctx.codec(e)))
    return ti
  }

  /** The catalog entry of `name`, created in this transaction when the set has none. */
  #entry(name: string, options?: unknown): CatalogEntry {
    viewCheckOpen(this.#c)
    const ctx = this.#ctx
    ctx.checkName(name)
    const o = ctx.options(options)
    const found = ctx.find(this.#c, name)
    if (found !== null) return ctx.check(found, o)
    if (!ctx.create) throw ctx.notFound(name, 'the set was opened with create: false')
    const e = ctx.createIn(this.#c, name, o)
    this.#created(e)
    return e
  }
}
