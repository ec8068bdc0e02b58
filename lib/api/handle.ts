/**
 * The public Index: opening and creating files, reads with the staleness policy, autocommit
 * writes, transactions, snapshots, refresh and close.
 */
import { randomBytes } from 'node:crypto'
import { TailrootError, invalid, ioError, naming } from '../errors.ts'
import { COMMIT_DATA_SYNCED, DEFAULT_PAGE_SIZE, FILE_ID_SIZE, FORMAT_VERSION, maxKeyBytes } from '../format/constants.ts'
import { EMPTY_COMMIT, encodeCommit } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'
import { encodeHeader } from '../format/header.ts'
import type { KeyEncoding } from '../format/header.ts'
import { KeyCodec } from '../keys.ts'
import type { Key } from '../keys.ts'
import { Appender, IndexFile } from '../store/file.ts'
import { WriteLock } from '../store/lock.ts'
import { writeTree } from '../tree/write.ts'
import { verifyFile } from '../verify.ts'
import type { VerifyResult } from '../verify.ts'
import { buildIndexFile } from './build.ts'
import type { Pair } from './build.ts'
import { Freshness, noteLocalCommit } from './freshness.ts'
import { resolveOpenOptions } from './options.ts'
import type { BuildOptions, OpenOptions, ResolvedOptions } from './options.ts'
import { Snapshot } from './snapshot.ts'
import { Transaction } from './transaction.ts'
import { ReadView } from './view.ts'
import type { ReadState } from './view.ts'

export interface IndexStats {
  path: string
  sequence: number
  entries: number
  height: number
  pageSize: number
  keyEncoding: KeyEncoding
  unique: boolean
  maxKeyBytes: number
  fileBytes: number
  /** Pages reachable from the current commit's root. */
  livePages: number
  /** Page number of the current commit page (0: none yet). */
  commitPage: number
  cachedPages: number
  /** Estimated heap bytes of the cached pages (bounded by the cacheBytes option). */
  cachedBytes: number
  cacheHits: number
  cacheMisses: number
  pageReads: number
}

export class Index<K extends Key = string> extends ReadView<K> {
  readonly path: string
  protected readonly codec: KeyCodec
  private f: IndexFile
  private commit: Commit
  private readonly opts: ResolvedOptions
  private lock: WriteLock | null = null
  private tx: Transaction<K> | null = null
  private closed = false
  private readonly freshness: Freshness
  /** File size at the last scan for new commits. */
  private knownSize: number
  /** lastPageStamp() at the last scan, when the file extended past the commit. */
  private tailStamp = ''

  private constructor(path: string, opts: ResolvedOptions, f: IndexFile) {
    super()
    this.path = path
    this.opts = opts
    this.f = f
    this.codec = new KeyCodec(f.header.keyEncoding, maxKeyBytes(f.pageSize), path)
    this.knownSize = f.size()
    this.commit = f.findNewestCommit(0) ?? EMPTY_COMMIT
    this.freshness = new Freshness(opts.maxStalenessMs)
    this.freshness.looked()
  }

  /**
   * Creates a new index file at `path` from (key, rowId) pairs, bottom-up with full leaves (see
   * the `fill` option), in one commit, and returns it open. Sorted input streams with memory
   * bounded by the tree height; unsorted input is sorted first. Refuses an existing path.
   */
  static build<K extends Key = string>(path: string, entries: Iterable<Pair<K>>, options?: BuildOptions): Index<K> {
    const o = buildIndexFile(path, entries, options)
    return Index.open<K>(path, o.open)
  }

  /** Checks the whole file; reports damage in the result instead of throwing it. */
  static verify(path: string): VerifyResult {
    if (typeof path !== 'string' || path.length === 0) throw invalid('Index.verify: path must be a non-empty string')
    return verifyFile(path)
  }

  /** Opens (and by default creates) the index file at `path`. */
  static open<K extends Key = string>(path: string, options?: OpenOptions): Index<K> {
    if (typeof path !== 'string' || path.length === 0) throw invalid('Index.open: path must be a non-empty string')
    let o: ResolvedOptions
    try { o = resolveOpenOptions(options) } catch (err) { throw naming(path, err) }
    let exists: boolean
    try { exists = o.vfs.identity(path) !== null } catch (err) { throw ioError(path, 'stat', err) }
    if (!exists) {
      if (o.readOnly || !o.create) {
        throw new TailrootError('NOT_FOUND', `${path}: no such index file${o.readOnly ? ' (opened readOnly, so nothing was created)' : ''}`, { path })
      }
      const header = encodeHeader({
        formatVersion: FORMAT_VERSION,
        pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
        keyEncoding: o.keyEncoding ?? 'utf8',
        unique: o.unique ?? false,
        fileId: randomBytes(FILE_ID_SIZE),
        createdAt: Date.now(),
      })
      // Another process may create it first; then we open theirs (and check our options against it).
      try { o.vfs.createExclusive(path, header) } catch (err) { throw ioError(path, 'creating', err) }
    }
    const f = IndexFile.open(o.vfs, path, !o.readOnly, o.cacheBytes)
    try {
      checkStored(path, o, f)
      return new Index<K>(path, o, f)
    } catch (err) {
      f.release()
      throw err
    }
  }

  get unique(): boolean { return this.f.header.unique }
  get keyEncoding(): KeyEncoding { return this.f.header.keyEncoding }
  get pageSize(): number { return this.f.pageSize }
  /** The longest key this index accepts, in encoded bytes. */
  get maxKeyBytes(): number { return this.codec.maxKeyBytes }
  get readOnly(): boolean { return this.opts.readOnly }

  /** The commit this handle reads (0 before the first commit). */
  get sequence(): number {
    this.readState(false)
    return this.commit.sequence
  }

  /** The metadata blob of the current commit, or null. */
  get metadata(): Buffer | null {
    this.readState(false)
    return this.commit.meta ? Buffer.from(this.commit.meta) : null
  }

  private checkOpen(): void {
    if (this.closed) throw new TailrootError('CLOSED', `${this.path}: the index is closed`, { path: this.path })
  }

  protected readState(_ordered = false): ReadState {
    this.checkOpen()
    if (this.tx === null && this.freshness.due()) this.adoptNewest(false)
    return { src: this.f, tree: this.tree(), pending: null }
  }

  private tree(): { root: number; height: number; count: number } {
    return { root: this.commit.root, height: this.commit.height, count: this.commit.entryCount }
  }

  /**
   * Adopts the newest commit in the file, whichever process wrote it; reopens the path when the
   * file was replaced (compaction). Returns whether the view moved.
   */
  refresh(): boolean {
    this.checkOpen()
    if (this.tx !== null) return false
    return this.adoptNewest(true)
  }

  /**
   * Adopts commits appended since the last look. `checkPath` also compares the file at the path
   * with the one open (one more stat); implicit checks before reads skip it, refresh() and
   * writers never do.
   */
  private adoptNewest(checkPath: boolean): boolean {
    this.freshness.looked()
    if (checkPath) {
      let id
      try { id = this.opts.vfs.identity(this.path) } catch (err) { throw ioError(this.path, 'stat', err) }
      if (id !== null && (id.dev !== this.f.identity.dev || id.ino !== this.f.identity.ino)) return this.reopen()
    }
    const size = this.f.size()
    const commitEnd = this.commitEnd() * this.pageSize
    if (size < commitEnd) {
      // Bytes up to a commit never change, so this file is not the one we knew: start over.
      this.f.cache.clear()
      this.knownSize = size
      this.tailStamp = ''
      const before = this.commit
      this.commit = this.f.findNewestCommit(0) ?? EMPTY_COMMIT
      return this.commit !== before
    }
    // A tail after the known commit (torn, or new commits) can be cut and rewritten to the same
    // length, so while there is one, its last page's header is compared too.
    const stamp = size > commitEnd ? this.lastPageStamp(size) : ''
    if (size === this.knownSize && stamp === this.tailStamp) return false
    this.knownSize = size
    this.tailStamp = stamp
    const c = this.f.findNewestCommit(this.commit.page)
    if (c === null || c.sequence <= this.commit.sequence) return false
    this.commit = c
    return true
  }

  /** The page after the current commit: where the next commit's pages go. */
  private commitEnd(): number {
    return this.commit.page === 0 ? 1 : this.commit.page + 1
  }

  /** The common header of the last whole page (type, CRC, page number) as a string. */
  private lastPageStamp(size: number): string {
    const last = Math.floor(size / this.pageSize) - 1
    return last < 1 ? '' : this.f.readPages(last, 1).toString('latin1', 0, 16)
  }

  /** The path names a different file now: switch to it. */
  private reopen(): boolean {
    const f = IndexFile.open(this.opts.vfs, this.path, !this.opts.readOnly, this.opts.cacheBytes)
    const h = f.header
    if (h.keyEncoding !== this.keyEncoding || h.unique !== this.unique || h.pageSize !== this.pageSize) {
      f.release()
      throw new TailrootError('INVALID_ARGUMENT', `${this.path}: the file was replaced by an index with different settings`, { path: this.path })
    }
    const old = this.f
    this.f = f
    this.lock?.resetGate()
    this.knownSize = f.size()
    const before = this.commit
    this.commit = f.findNewestCommit(0) ?? EMPTY_COMMIT
    old.release()
    return this.commit.sequence !== before.sequence || this.commit.page !== before.page
  }

  /** Adds the pair as one durable commit; false (and nothing written) when it was there. */
  insert(key: K, rowId: number): boolean {
    return this.transaction(tx => tx.insert(key, rowId))
  }

  /** Removes the pair as one durable commit; false (and nothing written) when it was absent. */
  delete(key: K, rowId: number): boolean {
    return this.transaction(tx => tx.delete(key, rowId))
  }

  /**
   * Runs `fn` under the write lock; everything it changed becomes one atomic commit when it
   * returns, and nothing is written when it throws. `fn` must be synchronous.
   */
  transaction<T>(fn: (tx: Transaction<K>) => T): T {
    this.checkOpen()
    if (typeof fn !== 'function') throw invalid(`${this.path}: transaction: expected a function`)
    if (this.opts.readOnly) throw new TailrootError('READ_ONLY', `${this.path}: opened readOnly; writes are refused`, { path: this.path })
    if (this.tx !== null) throw invalid(`${this.path}: a transaction is already running on this handle; write through its tx argument`)
    this.lock ??= new WriteLock(this.opts.vfs, `${this.path}.lock`, this.path)
    this.lock.acquire(this.opts.lockTimeoutMs)
    try {
      this.prepareWrite()
      const tx = new Transaction<K>({
        path: this.path, src: this.f, tree: this.tree(), sequence: this.commit.sequence,
        pageSize: this.pageSize, unique: this.unique, codec: this.codec,
      })
      this.tx = tx
      let result: T
      try {
        result = fn(tx)
      } catch (err) {
        tx.abandon()
        throw err
      } finally {
        this.tx = null
      }
      if (isThenable(result)) {
        tx.abandon()
        ;(result as PromiseLike<unknown>).then(undefined, () => {})
        throw invalid(`${this.path}: the transaction callback returned a promise; it must be synchronous (nothing was written)`)
      }
      if (tx.changed) this.commitTransaction(tx)
      else tx.abandon()
      return result
    } finally {
      this.lock.release()
    }
  }

  /** Under the lock: adopt the newest commit and cut any torn tail after it. */
  private prepareWrite(): void {
    this.adoptNewest(true) // leaves knownSize at the size it just measured
    const end = this.commitEnd()
    if (this.knownSize > end * this.pageSize) {
      this.f.truncatePages(end)
      this.knownSize = end * this.pageSize
    }
  }

  private commitTransaction(tx: Transaction<K>): void {
    const { tree, replaced } = tx.finish()
    const full = this.opts.durability === 'full'
    const first = this.commitEnd()
    const app = new Appender(this.f, first)
    let c: Commit
    let commitPageWritten = false
    try {
      const root = tree.height === 0 ? 0 : writeTree(tree.root, n => app.appendNode(n))
      app.flush()
      if (full && app.written > 0) this.f.sync()
      c = {
        page: app.nextPage,
        sequence: this.commit.sequence + 1,
        root,
        height: tree.height,
        flags: full ? COMMIT_DATA_SYNCED : 0,
        entryCount: tree.count,
        prevCommit: this.commit.page,
        firstDataPage: first,
        dataCrc: app.dataCrc >>> 0,
        livePages: this.commit.livePages - replaced + app.written,
        timestamp: Date.now(),
        meta: tx.metadata === undefined ? this.commit.meta : tx.metadata,
      }
      this.f.write(encodeCommit(c, this.f.header.fileId, this.pageSize), c.page)
      // From here on the page is whole in the file (a failed write leaves at most part of it,
      // which no reader takes for a commit).
      commitPageWritten = true
      if (full) this.f.sync()
    } catch (err) {
      // Whatever happens next, this handle must not trust its cached copies of these pages.
      this.f.cache.dropFrom(first)
      this.knownSize = -1
      this.freshness.reset()
      if (!commitPageWritten) {
        // No whole commit page: the pages are an uncommitted tail nobody can have adopted. Cut it.
        try { this.f.truncatePages(first) } catch { /* the next writer cuts it */ }
        throw err
      }
      // The commit page may be whole in the file, and other processes may have adopted it
      // already: it is never cut (bytes up to a commit never change). Its outcome is unknown,
      // as after a crash at this instant; the next look adopts it if it is whole.
      const e = err as TailrootError
      throw new TailrootError('IO', `${e.message} (after the commit page was written: the commit may or may not be durable and visible, as after a crash)`, { path: this.path, cause: err })
    }
    this.commit = c
    this.knownSize = (c.page + 1) * this.pageSize
    noteLocalCommit()
    this.freshness.looked()
  }

  /** A read view pinned at the current commit; close it when done. */
  snapshot(): Snapshot<K> {
    this.readState()
    return new Snapshot<K>(this.f, this.commit, this.codec)
  }

  stats(): IndexStats {
    this.checkOpen()
    return {
      path: this.path,
      sequence: this.commit.sequence,
      entries: this.commit.entryCount,
      height: this.commit.height,
      pageSize: this.pageSize,
      keyEncoding: this.keyEncoding,
      unique: this.unique,
      maxKeyBytes: this.maxKeyBytes,
      fileBytes: this.f.size(),
      livePages: this.commit.livePages,
      commitPage: this.commit.page,
      cachedPages: this.f.cache.size,
      cachedBytes: this.f.cache.bytes,
      cacheHits: this.f.cache.hits,
      cacheMisses: this.f.cache.misses,
      pageReads: this.f.reads,
    }
  }

  /** Closes the handle; open snapshots keep working until they are closed. Idempotent. */
  close(): void {
    if (this.closed) return
    if (this.tx !== null) throw invalid(`${this.path}: close() inside a transaction`)
    this.closed = true
    this.lock?.close()
    this.f.release()
  }
}

function checkStored(path: string, o: ResolvedOptions, f: IndexFile): void {
  const h = f.header
  const clash = (name: string, want: unknown, have: unknown): never => {
    throw invalid(`${path}: option ${name} is ${String(want)} but the file was created with ${String(have)}`)
  }
  if (o.unique !== undefined && o.unique !== h.unique) clash('unique', o.unique, h.unique)
  if (o.keyEncoding !== undefined && o.keyEncoding !== h.keyEncoding) clash('keyEncoding', o.keyEncoding, h.keyEncoding)
  if (o.pageSize !== undefined && o.pageSize !== h.pageSize) clash('pageSize', o.pageSize, h.pageSize)
}

function isThenable(v: unknown): boolean {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function'
}
