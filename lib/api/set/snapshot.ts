/** A read view of every named index of a set, pinned at one commit, for as long as it lives. */
import type { TypedKey } from '../../format/typed-key.ts'
import type { Key } from '../../keys.ts'
import type { Snapshot } from '../snapshot.ts'
import type { IndexOptions, SetContext } from './context.ts'
import { listEntries, lookupEntry } from './catalog-view.ts'
import { viewCheckOpen } from '../view.ts'
import type { CatalogEntry } from '../../format/catalog.ts'
import type { NamedIndex } from './named-index.ts'
import { IndexView } from './scoped-view.ts'

export class SetSnapshot {
  readonly #raw: Snapshot<Key>
  readonly #ctx: SetContext
  readonly #views = new Map<string, { e: CatalogEntry; view: IndexView<Key> }>()

  /** Made by IndexSet.snapshot. */
  constructor(raw: Snapshot<Key>, ctx: SetContext) {
    this.#raw = raw
    this.#ctx = ctx
  }

  get sequence(): number { return this.#raw.sequence }

  /** The metadata of the pinned commit (a copy), or null when none was set. */
  get meta(): Buffer | null { return this.#raw.meta }

  /** The names of the indexes at this commit, in UTF-8 byte order. */
  names(): string[] {
    return listEntries(this.#raw, this.#ctx.catalog).map(e => e.name)
  }

  /** A named index as of this commit; NOT_FOUND when it did not exist then. */
  index<K extends Key>(handle: NamedIndex<K>): IndexView<K>
  index<K extends string = string>(name: string, options?: IndexOptions & { keyEncoding?: 'utf8' }): IndexView<K>
  index<K extends Uint8Array = Uint8Array>(name: string, options: IndexOptions & { keyEncoding: 'binary' }): IndexView<K>
  index<K extends TypedKey = TypedKey>(name: string, options: IndexOptions & { keyEncoding: 'typed' }): IndexView<K>
  index(name: string, options?: IndexOptions): IndexView<Key>
  index(which: string | NamedIndex<Key>, options?: IndexOptions): IndexView<Key> {
    viewCheckOpen(this.#raw)
    const ctx = this.#ctx
    const name = ctx.checkName(typeof which === 'string' ? which : which.name)
    const o = ctx.options(typeof which === 'string' ? options : { unique: which.unique, keyEncoding: which.keyEncoding })
    let v = this.#views.get(name)
    if (v === undefined) {
      // Read at this commit, not from the set's cache: an index created after it is not here.
      const e = lookupEntry(this.#raw, ctx.catalog, name)
      if (e === null) throw ctx.notFound(name, `at commit ${this.#raw.sequence}`)
      this.#views.set(name, v = { e, view: new IndexView<Key>(this.#raw, ctx.codec(e)) })
    }
    ctx.check(v.e, o)
    return v.view
  }

  /** Releases the snapshot. Idempotent. */
  close(): void { this.#raw.close() }

  /** close(), for `using`. */
  [Symbol.dispose](): void { this.close() }
}
