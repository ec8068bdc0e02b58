/**
 * IndexSet: several named indexes in one file (FORMAT.md §12), each with its own settings, counts
 * and ranges, all changed together by one transaction: one lock, one commit, one fdatasync. A
 * thin layer over one Index of the file's raw (prefixed, binary) keys: commits, change records,
 * snapshots, refresh, compaction and verify are that Index's.
 */
import { invalid, naming } from '../../errors.ts'
import type { CatalogEntry } from '../../format/catalog.ts'
import { maxKeyBytes } from '../../format/constants.ts'
import type { TypedKey } from '../../format/typed-key.ts'
import type { Key } from '../../keys.ts'
import type { VerifyProgress, VerifyResult } from '../../verify.ts'
import type { BackupOptions, BackupResult } from '../backup.ts'
import type { CompactOptions, CompactResult } from '../compact.ts'
import { Index, openSetFile, queueTransaction, runTransaction } from '../handle.ts'
import type { IndexStats } from '../handle.ts'
import type { KeyEncoding } from '../../format/header.ts'
import { resolveOpenOptions, transactionOptions } from '../options.ts'
import type { AsyncTransactionOptions, AsyncWriteOptions, OpenOptions, ResolvedOptions, TransactionOptions } from '../options.ts'
import { viewCheckOpen } from '../view.ts'
import { listEntries } from './catalog-view.ts'
import { buildSetFile } from './build.ts'
import type { SetBuildIndex, SetBuildOptions } from './build.ts'
import { SetContext } from './context.ts'
import type { IndexOptions } from './context.ts'
import { NamedIndex } from './named-index.ts'
import { IndexView } from './scoped-view.ts'
import { SetSnapshot } from './snapshot.ts'
import { SetTransaction } from './transaction.ts'

/** The options of IndexSet.open: those of Index.open but unique and keyEncoding, which each named index has. */
export type SetOpenOptions = Omit<OpenOptions, 'unique' | 'keyEncoding'>

/** A named index's settings and size, in IndexSet.stats. */
export interface NamedIndexStats {
  name: string
  keyEncoding: KeyEncoding
  unique: boolean
  entries: number
  maxKeyBytes: number
}

/**
 * IndexSet.stats: the figures of the file (as Index.stats gives them; `entries` counts every pair
 * in the file, the catalog's included) and of each named index.
 */
export interface IndexSetStats extends Omit<IndexStats, 'keyEncoding' | 'unique' | 'maxKeyBytes'> {
  indexes: NamedIndexStats[]
}

export class IndexSet {
  readonly path: string
  readonly #raw: Index<Key>
  readonly #ctx: SetContext
  readonly #handles = new Map<string, NamedIndex<Key>>()

  private constructor(path: string, raw: Index<Key>, create: boolean) {
    this.path = path
    this.#raw = raw
    this.#ctx = new SetContext(path, maxKeyBytes(raw.pageSize), create)
  }

  /**
   * Opens (and by default creates) the set file at `path`. `create` also governs named indexes:
   * with create: false (or readOnly), asking for an index the set does not hold is NOT_FOUND.
   * A single-index file is INVALID_ARGUMENT here, as a set file is for Index.open.
   */
  static open(path: string, options?: SetOpenOptions): IndexSet {
    if (typeof path !== 'string' || path.length === 0) throw invalid('IndexSet.open: path must be a non-empty string')
    let o: ResolvedOptions
    try { o = resolveOpenOptions(options, 'IndexSet.open options') } catch (err) { throw naming(path, err) }
    if (o.unique !== undefined || o.keyEncoding !== undefined) {
      throw invalid(`${path}: IndexSet.open: unique and keyEncoding are settings of each named index: set.index(name, { unique, keyEncoding })`)
    }
    return new IndexSet(path, openSetFile(path, { ...o, set: true }), o.create)
  }

  /**
   * Creates a new set file with the given named indexes, each built bottom-up from its pairs
   * (in any order; duplicate pairs are dropped), in one commit, and returns it open. Index
   * numbers follow the order of `indexes`. UNIQUE_VIOLATION when a unique index gets two rowIds
   * for a key; INVALID_ARGUMENT for a bad name, setting or pair, or when the file exists. A
   * failed build leaves nothing at the path.
   */
  static build(path: string, indexes: Record<string, SetBuildIndex>, options?: SetBuildOptions): IndexSet {
    const o = buildSetFile(path, indexes, options)
    return new IndexSet(path, openSetFile(path, { ...o.open, set: true }), true)
  }

  /** Index.verify: also checks the catalog and that every key belongs to a catalogued index. */
  static verify(path: string, options?: { onProgress?: VerifyProgress }): VerifyResult {
    return Index.verify(path, options)
  }

  /** Index.compact: every named index is rewritten in the one copy. */
  static compact(path: string, options?: CompactOptions): CompactResult {
    return Index.compact(path, options)
  }

  /** Index.backup: the copy holds every named index at the set's newest commit. */
  static backup(path: string, dest: string, options?: BackupOptions): BackupResult {
    return Index.backup(path, dest, options)
  }

  get pageSize(): number { return this.#raw.pageSize }
  get readOnly(): boolean { return this.#raw.readOnly }
  /** The commit this handle reads (0 before the first commit); every index is at it. */
  get sequence(): number { return this.#raw.sequence }
  /** The metadata of the current commit (a copy), or null when none was set (see transaction). */
  get meta(): Buffer | null { return this.#raw.meta }

  /**
   * The named index `name`, created (in a commit of its own) when the set does not hold it, with
   * `options`; for an existing index, options given must match the settings it was created with
   * (INVALID_ARGUMENT). The key type follows keyEncoding as in Index.open.
   */
  index<K extends string = string>(name: string, options?: IndexOptions & { keyEncoding?: 'utf8' }): NamedIndex<K>
  index<K extends Uint8Array = Uint8Array>(name: string, options: IndexOptions & { keyEncoding: 'binary' }): NamedIndex<K>
  index<K extends TypedKey = TypedKey>(name: string, options: IndexOptions & { keyEncoding: 'typed' }): NamedIndex<K>
  index(name: string, options?: IndexOptions): NamedIndex<Key>
  index(name: string, options?: IndexOptions): NamedIndex<Key> {
    viewCheckOpen(this.#raw)
    const ctx = this.#ctx
    ctx.checkName(name)
    const o = ctx.options(options)
    let e = ctx.find(this.#raw, name)
    if (e === null) {
      if (this.#raw.readOnly) throw ctx.notFound(name, 'the set is open readOnly, so nothing was created')
      if (!ctx.create) throw ctx.notFound(name, 'the set was opened with create: false')
      // Under the lock; another process may have created it meanwhile, and then its settings count.
      this.transaction(tx => { tx.index(name, o) })
      e = ctx.find(this.#raw, name)!
    }
    ctx.entries.set(name, e)
    ctx.check(e, o)
    let h = this.#handles.get(name)
    if (h === undefined) {
      h = new NamedIndex<Key>(this.#raw, e, ctx.codec(e), fn => this.transaction(fn), (fn, options, what) => this.queue(fn, options, what, false))
      this.#handles.set(name, h)
    }
    return h
  }

  /** The names of the set's indexes, in UTF-8 byte order. */
  names(): string[] {
    viewCheckOpen(this.#raw)
    return listEntries(this.#raw, this.#ctx.catalog).map(e => e.name)
  }

  /**
   * Runs `fn` under the write lock; everything it changed, in every index, becomes one atomic
   * commit when it returns, and nothing is written when it throws. `fn` must be synchronous.
   * `meta` is the commit's metadata, as for Index.transaction: given, the transaction commits
   * even when it changed nothing.
   */
  transaction<T>(fn: (tx: SetTransaction) => T, options?: TransactionOptions): T {
    viewCheckOpen(this.#raw)
    if (typeof fn !== 'function') throw invalid(`${this.path}: transaction: expected a function`)
    const { meta } = transactionOptions(options, `${this.path}: transaction`, this.#raw.pageSize)
    const created: CatalogEntry[] = []
    const result = runTransaction(this.#raw, c => fn(new SetTransaction(c, this.#ctx, e => created.push(e))), meta)
    for (const e of created) this.#ctx.entries.set(e.name, e)
    return result
  }

  /**
   * transaction() as an asynchronous write of the set (see Index.transactionAsync): `fn` runs
   * when its turn comes, against the newest state including every write queued before it; its
   * changes, in every index, join the next group commit atomically, and the promise resolves with
   * its result once that commit is durable. When `fn` throws, only its own changes (indexes it
   * created included) are dropped and the promise rejects with what it threw.
   */
  transactionAsync<T>(fn: (tx: SetTransaction) => T, options?: AsyncTransactionOptions): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(invalid(`${this.path}: transactionAsync: expected a function`))
    return this.queue(fn, options, 'transactionAsync', true)
  }

  /** Resolves when every asynchronous write of the set queued so far has settled. */
  flush(): Promise<void> { return this.#raw.flush() }

  private async queue<T>(fn: (tx: SetTransaction) => T, options: AsyncWriteOptions | AsyncTransactionOptions | undefined, what: string, meta: boolean): Promise<T> {
    let created: CatalogEntry[] = []
    const result = await queueTransaction(this.#raw, c => {
      created = []
      return fn(new SetTransaction(c, this.#ctx, e => created.push(e)))
    }, options, what, meta)
    for (const e of created) this.#ctx.entries.set(e.name, e)
    return result
  }

  /** Figures of the file and of each named index, at the current commit. O(indexes · height). */
  stats(): IndexSetStats {
    const snap = this.#raw.snapshot() // adopts the newest commit; stats() below reads the same one
    try {
      const indexes = listEntries(snap, this.#ctx.catalog).map(e => {
        const codec = this.#ctx.codec(e)
        return { name: e.name, keyEncoding: e.keyEncoding, unique: e.unique, entries: new IndexView(snap, codec).count(), maxKeyBytes: codec.maxKeyBytes }
      })
      const s: Partial<IndexStats> = { ...this.#raw.stats() }
      delete s.keyEncoding
      delete s.unique
      delete s.maxKeyBytes
      return { ...(s as Omit<IndexStats, 'keyEncoding' | 'unique' | 'maxKeyBytes'>), indexes }
    } finally {
      snap.close()
    }
  }

  /** A read view of every index pinned at the current commit; close it when done. */
  snapshot(): SetSnapshot {
    return new SetSnapshot(this.#raw.snapshot(), this.#ctx)
  }

  /** Adopts the newest commit in the file (see Index.refresh). Returns whether the view moved. */
  refresh(): boolean { return this.#raw.refresh() }

  /** Closes the set and its named indexes; open snapshots keep working until closed. Idempotent. */
  close(): void { this.#raw.close() }

  /** close(), for `using`. */
  [Symbol.dispose](): void { this.close() }
}
