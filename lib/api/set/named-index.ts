/**
 * A named index of an IndexSet: the read API of an index over its key range of the set's file,
 * and insert/delete, each one commit of the set (several indexes at once: IndexSet.transaction).
 */
import type { CatalogEntry } from '../../format/catalog.ts'
import type { KeyEncoding } from '../../format/header.ts'
import type { Key, ScopedKeyCodec } from '../../keys.ts'
import type { Index } from '../handle.ts'
import type { AsyncWriteOptions } from '../options.ts'
import { IndexView } from './scoped-view.ts'
import type { SetTransaction } from './transaction.ts'

export class NamedIndex<K extends Key = Key> extends IndexView<K> {
  readonly name: string
  readonly unique: boolean
  readonly keyEncoding: KeyEncoding
  readonly #transaction: <T>(fn: (tx: SetTransaction) => T) => T
  readonly #queue: <T>(fn: (tx: SetTransaction) => T, options: AsyncWriteOptions | undefined, what: string) => Promise<T>

  /** Made by IndexSet.index. */
  constructor(
    raw: Index<Key>, e: CatalogEntry, codec: ScopedKeyCodec, transaction: <T>(fn: (tx: SetTransaction) => T) => T,
    queue: <T>(fn: (tx: SetTransaction) => T, options: AsyncWriteOptions | undefined, what: string) => Promise<T>,
  ) {
    super(raw, codec)
    this.name = e.name
    this.unique = e.unique
    this.keyEncoding = e.keyEncoding
    this.#transaction = transaction
    this.#queue = queue
  }

  /** The longest key this index accepts, in encoded bytes (the file's limit less the 2-byte prefix). */
  get maxKeyBytes(): number { return this.codec.maxKeyBytes }

  /** Adds the pair as one durable commit of the set; false (and nothing written) when it was there. */
  insert(key: K, rowId: number): boolean {
    return this.#transaction(tx => tx.index(this).insert(key, rowId))
  }

  /** Removes the pair as one durable commit of the set; false (and nothing written) when it was absent. */
  delete(key: K, rowId: number): boolean {
    return this.#transaction(tx => tx.index(this).delete(key, rowId))
  }

  /**
   * insert() as an asynchronous write of the set: resolves (true, or false when the pair was
   * there) once the group commit holding it is durable (see Index.insertAsync).
   */
  insertAsync(key: K, rowId: number, options?: AsyncWriteOptions): Promise<boolean> {
    return this.#queue(tx => tx.index(this).insert(key, rowId), options, 'insertAsync')
  }

  /** delete() as an asynchronous write of the set: resolves (true, or false when it was absent) once durable. */
  deleteAsync(key: K, rowId: number, options?: AsyncWriteOptions): Promise<boolean> {
    return this.#queue(tx => tx.index(this).delete(key, rowId), options, 'deleteAsync')
  }
}
