/**
 * What a set's handle, transactions and snapshots share: the file's path and key limit, the
 * catalog entries seen so far (an entry never changes once committed: names are never reused
 * for other settings, FORMAT.md §12), named-index options and their check against the catalog.
 */
import { TailrootError, invalid } from '../../errors.ts'
import { catalogKey, catalogRowId, indexNameProblem, indexPrefix } from '../../format/catalog.ts'
import type { CatalogEntry } from '../../format/catalog.ts'
import { MAX_SET_INDEXES } from '../../format/constants.ts'
import type { KeyEncoding } from '../../format/header.ts'
import { ScopedKeyCodec } from '../../keys.ts'
import type { Key } from '../../keys.ts'
import type { TransactionControl } from '../transaction.ts'
import type { ReadView } from '../view.ts'
import { catalogCodec, listEntries, lookupEntry } from './catalog-view.ts'

/** A named index's settings: fixed when it is created, and checked against it afterwards. */
export interface IndexOptions {
  /** At most one rowId per key (default false). */
  unique?: boolean
  /** 'utf8' (string keys, default), 'binary' (Uint8Array keys) or 'typed' (TypedKey keys). */
  keyEncoding?: KeyEncoding
}

const INDEX_KEYS = new Set(['unique', 'keyEncoding'])

export class SetContext {
  readonly path: string
  readonly fileMaxKeyBytes: number
  /** Whether a named index asked for and absent is created (false: NOT_FOUND). */
  readonly create: boolean
  readonly catalog: ScopedKeyCodec
  /** Committed catalog entries by name. */
  readonly entries = new Map<string, CatalogEntry>()
  readonly #codecs = new Map<number, ScopedKeyCodec>()

  constructor(path: string, fileMaxKeyBytes: number, create: boolean) {
    this.path = path
    this.fileMaxKeyBytes = fileMaxKeyBytes
    this.create = create
    this.catalog = catalogCodec(fileMaxKeyBytes, path)
  }

  /** The codec of a named index's keys. */
  codec(e: CatalogEntry): ScopedKeyCodec {
    let c = this.#codecs.get(e.number)
    if (c === undefined) this.#codecs.set(e.number, c = new ScopedKeyCodec(indexPrefix(e.number), e.keyEncoding, this.fileMaxKeyBytes, this.path))
    return c
  }

  /** Validates a name; INVALID_ARGUMENT naming the file. */
  checkName(name: unknown): string {
    const p = indexNameProblem(name)
    if (p !== null) throw invalid(`${this.path}: ${p}`)
    return name as string
  }

  options(o: unknown): IndexOptions {
    if (o === undefined) return {}
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw invalid(`${this.path}: index options must be an object`)
    const r = o as Record<string, unknown>
    for (const k of Object.keys(r)) if (!INDEX_KEYS.has(k)) throw invalid(`${this.path}: unknown index option '${k}' (pageSize, durability and the like are options of IndexSet.open)`)
    if (r.unique !== undefined && typeof r.unique !== 'boolean') throw invalid(`${this.path}: index option unique must be a boolean`)
    const enc = r.keyEncoding
    if (enc !== undefined && enc !== 'utf8' && enc !== 'binary' && enc !== 'typed') throw invalid(`${this.path}: index option keyEncoding must be 'utf8', 'binary' or 'typed', got ${String(enc)}`)
    return r as IndexOptions
  }

  /** INVALID_ARGUMENT when options given for an existing index differ from its settings. */
  check(e: CatalogEntry, o: IndexOptions): CatalogEntry {
    const clash = (name: string, want: unknown, have: unknown): never => {
      throw invalid(`${this.path}: index ${JSON.stringify(e.name)}: option ${name} is ${String(want)} but the index was created with ${String(have)}`)
    }
    if (o.unique !== undefined && o.unique !== e.unique) clash('unique', o.unique, e.unique)
    if (o.keyEncoding !== undefined && o.keyEncoding !== e.keyEncoding) clash('keyEncoding', o.keyEncoding, e.keyEncoding)
    return e
  }

  /** The entry of `name` as `view` reads it (the cache first); null when it has none. */
  find(view: ReadView<Key>, name: string): CatalogEntry | null {
    const known = this.entries.get(name)
    if (known !== undefined) return known
    return lookupEntry(view, this.catalog, name)
  }

  notFound(name: string, why: string): TailrootError {
    return new TailrootError('NOT_FOUND', `${this.path}: no index named ${JSON.stringify(name)} in this set (${why})`, { path: this.path })
  }

  /**
   * Adds the catalog entry of a new index to a transaction, numbered one above the highest
   * number the catalog holds. The caller records it once the transaction has committed.
   */
  createIn(c: TransactionControl<Key>, name: string, o: IndexOptions): CatalogEntry {
    let top = 0
    for (const e of listEntries(c, this.catalog)) top = Math.max(top, e.number)
    if (top >= MAX_SET_INDEXES) throw invalid(`${this.path}: a set holds at most ${MAX_SET_INDEXES} indexes`)
    const e: CatalogEntry = { name, number: top + 1, keyEncoding: o.keyEncoding ?? 'utf8', unique: o.unique ?? false }
    c.insertBytes(catalogKey(name), catalogRowId(e), false, this.catalog)
    return e
  }
}
