/**
 * The public Index: opening and creating files, reads with the staleness policy, autocommit
 * writes, transactions, asynchronous writes (queued and group-committed by write-queue.ts),
 * snapshots, refresh and close.
 */
import { randomBytes } from 'node:crypto'
import { TailrootError, invalid, ioError, naming } from '../errors.ts'
import { DEFAULT_PAGE_SIZE, FILE_ID_SIZE, FIRST_LOG_VERSION, FORMAT_VERSION, MAX_PENDING_BYTES, maxKeyBytes } from '../format/constants.ts'
import type { Commit } from '../format/commit.ts'
import { encodeHeader } from '../format/header.ts'
import type { KeyEncoding } from '../format/header.ts'
import { KeyCodec } from '../keys.ts'
import type { Key } from '../keys.ts'
import type { TypedKey } from '../format/typed-key.ts'
import { recordsSize } from '../format/log-records.ts'
import { CommitWriter } from '../store/commit-writer.ts'
import type { CommitContent } from '../store/commit-writer.ts'
import type { IndexFile } from '../store/file.ts'
import { TailFollower } from '../store/follower.ts'
import { NO_PENDING, carriedRecords, chainLivePages, inChain } from '../store/log-chain.ts'
import type { PendingState } from '../store/log-chain.ts'
import { applyBatchTo } from '../tree/apply.ts'
import { countCommits } from '../store/history.ts'
import { batchNet } from '../tree/batch.ts'
import type { Batch } from '../tree/batch.ts'
import type { ChangeLog } from '../tree/change-log.ts'
import { LockMovedError, WriteLock } from '../store/lock.ts'
import { spaceFigures } from '../store/space.ts'
import { verifyFile } from '../verify.ts'
import type { VerifyProgress, VerifyResult } from '../verify.ts'
import { nodeVfs } from '../store/vfs.ts'
import { compactIndex } from './compact.ts'
import type { CompactOptions, CompactResult } from './compact.ts'
import { fileHistory } from './history.ts'
import { backupFile } from './backup.ts'
import type { BackupOptions, BackupResult } from './backup.ts'
import type { CommitInfo } from './history.ts'
import { buildIndexFile } from './build.ts'
import type { Pair } from './build.ts'
import { Freshness, noteLocalCommit } from './freshness.ts'
import { asyncOptions, resolveOpenOptions, transactionOptions } from './options.ts'
import type { AsyncTransactionOptions, AsyncWriteOptions, BuildOptions, OpenOptions, ResolvedOptions, TransactionOptions } from './options.ts'
import { Snapshot } from './snapshot.ts'
import { TransactionControl, isThenable } from './transaction.ts'
import type { Transaction, TransactionBase } from './transaction.ts'
import { WriteQueue } from './write-queue.ts'
import type { GroupHost } from './write-queue.ts'
import { ReadView } from './view.ts'
import type { ReadState } from './view.ts'

/** Times a group's lock wait starts again because the file at the path was replaced meanwhile. */
const MAX_LOCK_MOVES = 16

export interface IndexStats {
  path: string
  sequence: number
  entries: number
  /** Height of the tree, which holds every pair but the pending changes (0: empty tree). */
  height: number
  /** Change records not yet folded into the tree (FORMAT.md §10). */
  pendingChanges: number
  pageSize: number
  keyEncoding: KeyEncoding
  unique: boolean
  maxKeyBytes: number
  /** The size of the file: pagesTotal pages, then tailBytes. */
  fileBytes: number
  /**
   * Bytes after the current commit page: zeros preallocated for the next commits (FORMAT.md §8),
   * or a torn tail that the next writer removes. Neither live nor garbage: the next commits take
   * up the zeros, so compaction has nothing to reclaim there.
   */
  tailBytes: number
  /** The same as pagesLive. */
  livePages: number
  /** Pages reachable from the current commit's root, plus the pending changes' pages (all but the commit page). */
  pagesLive: number
  /** Pages up to and including the current commit page, live or not (not the tail after it). */
  pagesTotal: number
  /** The header page, the live pages and the commit page: about what a compacted file takes. */
  liveBytes: number
  /**
   * The share of the pagesTotal pages that is not live (0 to 1): what Index.compact reclaims.
   * Preallocated zeros (tailBytes) do not count: a freshly preallocated file has none.
   */
  garbageRatio: number
  /** Commits in the file, along the previous-commit links from the current one. */
  commits: number
  /** When the current commit was written (null: no commit yet). */
  lastCommitTime: Date | null
  /** Page number of the current commit page (0: none yet). */
  commitPage: number
  cachedPages: number
  /** Estimated bytes of the cached pages, decoded or kept as bytes (bounded by the cacheBytes option). */
  cachedBytes: number
  cacheHits: number
  cacheMisses: number
  pageReads: number
}

/** Entry points for IndexSet (lib/api/set/), set by Index's static block; not public. */
let setHooks: {
  open: (path: string, o: ResolvedOptions) => Index<Key>
  run: <T>(idx: Index<Key>, fn: (c: TransactionControl<Key>) => T, meta: Buffer | null | undefined) => T
  enqueue: <T>(idx: Index<Key>, fn: (c: TransactionControl<Key>) => T, options: AsyncTransactionOptions | undefined, what: string, meta: boolean) => Promise<T>
} | null = null

/** Opens (or creates) the set file at `path` (o.set is true) as a raw index of binary keys. */
export function openSetFile(path: string, o: ResolvedOptions): Index<Key> { return setHooks!.open(path, o) }

/**
 * Index.transaction, handing `fn` the transaction's control (for a set's scoped writes); `meta`
 * is checked already (transactionOptions).
 */
export function runTransaction<T>(idx: Index<Key>, fn: (c: TransactionControl<Key>) => T, meta: Buffer | null | undefined): T { return setHooks!.run(idx, fn, meta) }

/**
 * Index.transactionAsync, handing `fn` the transaction's control (for a set's scoped writes);
 * `what` names the call in errors, `meta` says whether the meta option is allowed.
 */
export function queueTransaction<T>(idx: Index<Key>, fn: (c: TransactionControl<Key>) => T, options: AsyncTransactionOptions | undefined, what: string, meta: boolean): Promise<T> {
  return setHooks!.enqueue(idx, fn, options, what, meta)
}

export class Index<K extends Key = string> extends ReadView<K> {
  static {
    setHooks = {
      open: (path, o) => Index.openResolved(path, o),
      run: (idx, fn, meta) => idx.run(fn, meta),
      enqueue: (idx, fn, options, what, meta) => idx.enqueue((_tx, c) => fn(c), options, what, meta),
    }
  }

  readonly path: string
  protected readonly codec: KeyCodec
  private readonly follower: TailFollower
  private readonly opts: ResolvedOptions
  private lock: WriteLock | null = null
  private tx: Transaction<K> | null = null
  private closed = false
  private readonly freshness: Freshness
  /** The asynchronous writes (made on first use). */
  private writes: WriteQueue<K> | null = null
  /**
   * While an asynchronous group commit waits for its sync: reads do not look for newer commits
   * (the only one is that commit, not durable yet), so they see the state before the group.
   */
  private syncing = false

  private constructor(path: string, opts: ResolvedOptions, follower: TailFollower) {
    super()
    this.path = path
    this.opts = opts
    this.follower = follower
    this.codec = new KeyCodec(follower.file.header.keyEncoding, maxKeyBytes(follower.file.pageSize), path)
    this.freshness = new Freshness(opts.maxStalenessMs)
    this.freshness.looked()
  }

  /** The file this handle reads (it changes when the path is replaced). */
  private get f(): IndexFile { return this.follower.file }
  /** The commit this handle reads. */
  private get commit(): Commit { return this.follower.commit }

  /**
   * Creates a new index file at `path` from (key, rowId) pairs, bottom-up with full leaves (see
   * the `fill` option), in one commit, and returns it open. Sorted input streams with memory
   * bounded by the tree height; unsorted input is sorted first. Refuses an existing path.
   */
  static build<K extends string = string>(path: string, entries: Iterable<Pair<NoInfer<K>>>, options?: BuildOptions & { keyEncoding?: 'utf8' }): Index<K>
  static build<K extends Uint8Array = Uint8Array>(path: string, entries: Iterable<Pair<NoInfer<K>>>, options: BuildOptions & { keyEncoding: 'binary' }): Index<K>
  static build<K extends TypedKey = TypedKey>(path: string, entries: Iterable<Pair<NoInfer<K>>>, options: BuildOptions & { keyEncoding: 'typed' }): Index<K>
  /** An encoding known only at run time (not a literal, which the overloads above check): keys of any kind. */
  static build<E extends KeyEncoding = never>(path: string, entries: Iterable<Pair<KeyEncoding extends E ? Key : never>>, options: BuildOptions & { keyEncoding?: E }): Index<Key>
  static build(path: string, entries: Iterable<Pair<Key>>, options?: BuildOptions): Index<Key> {
    const o = buildIndexFile(path, entries, options)
    return Index.openResolved(path, o.open)
  }

  /**
   * Checks the whole file; reports damage in the result instead of throwing it. `onProgress`
   * is called now and then with the pages checked so far.
   */
  static verify(path: string, options?: { onProgress?: VerifyProgress }): VerifyResult {
    if (typeof path !== 'string' || path.length === 0) throw invalid('Index.verify: path must be a non-empty string')
    const onProgress = options?.onProgress
    if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid(`${path}: Index.verify option onProgress must be a function`)
    return verifyFile(path, nodeVfs, onProgress)
  }

  /**
   * Rewrites the newest commit's content into a new file in key order and renames it over
   * `path`, keeping the sequence, entries, settings and metadata (FORMAT.md §9). Holds the write
   * lock throughout: writers wait, readers never do, and open handles follow to the new file.
   * A file the copy would not make smaller is left as it is.
   */
  static compact(path: string, options?: CompactOptions): CompactResult {
    return compactIndex(path, options)
  }

  /** The commits still in the file, newest first (opened at the first step, closed at the end). */
  static history(path: string): Generator<CommitInfo> {
    return fileHistory(path)
  }

  /**
   * Copies the file at its newest commit to the new file `dest`, durably, while writers go on
   * (it takes no lock, and nobody waits for it). The copy is always whole: it ends at its
   * commit page, so a live copy never needs taking again.
   */
  static backup(path: string, dest: string, options?: BackupOptions): BackupResult {
    return backupFile(path, dest, options)
  }

  /**
   * Opens (and by default creates) the index file at `path`. The key type follows the
   * `keyEncoding` option: string keys without it or with 'utf8', Uint8Array keys with 'binary',
   * TypedKey with 'typed' (each may be narrowed, as in `Index.open<[string, number]>(p, {
   * keyEncoding: 'typed' })`). An options object whose encoding is not a literal gives Key.
   */
  static open<K extends string = string>(path: string, options?: OpenOptions & { keyEncoding?: 'utf8' }): Index<K>
  static open<K extends Uint8Array = Uint8Array>(path: string, options: OpenOptions & { keyEncoding: 'binary' }): Index<K>
  static open<K extends TypedKey = TypedKey>(path: string, options: OpenOptions & { keyEncoding: 'typed' }): Index<K>
  static open(path: string, options?: OpenOptions): Index<Key>
  static open(path: string, options?: OpenOptions): Index<Key> {
    if (typeof path !== 'string' || path.length === 0) throw invalid('Index.open: path must be a non-empty string')
    let o: ResolvedOptions
    try { o = resolveOpenOptions(options) } catch (err) { throw naming(path, err) }
    return Index.openResolved(path, o)
  }

  private static openResolved(path: string, o: ResolvedOptions): Index<Key> {
    let exists: boolean
    try { exists = o.vfs.identity(path) !== null } catch (err) { throw ioError(path, 'stat', err) }
    if (!exists) {
      if (o.readOnly || !o.create) {
        throw new TailrootError('NOT_FOUND', `${path}: no such index file${o.readOnly ? ' (opened readOnly, so nothing was created)' : ''}`, { path })
      }
      const header = encodeHeader({
        formatVersion: FORMAT_VERSION,
        pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
        keyEncoding: o.set ? 'binary' : o.keyEncoding ?? 'utf8',
        unique: o.set ? false : o.unique ?? false,
        set: o.set,
        fileId: randomBytes(FILE_ID_SIZE),
        createdAt: Date.now(),
      })
      // Another process may create it first; then we open theirs (and check our options against it).
      try { o.vfs.createExclusive(path, header) } catch (err) { throw ioError(path, 'creating', err) }
    }
    let idx: Index<Key> | null = null
    const follower = TailFollower.open({
      vfs: o.vfs, path, writable: !o.readOnly, cacheBytes: o.cacheBytes, onReplaced: () => idx?.lock?.resetGate(),
    })
    try {
      checkStored(path, o, follower.file)
      idx = new Index<Key>(path, o, follower)
      return idx
    } catch (err) {
      follower.close()
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
    this.lookIfDue()
    return this.commit.sequence
  }

  /**
   * The metadata of the current commit (a copy), or null when no commit set any: the `meta` of
   * the last transaction given one, carried forward by the commits after it.
   */
  get meta(): Buffer | null {
    this.lookIfDue()
    return this.commit.meta ? Buffer.from(this.commit.meta) : null
  }

  protected checkOpen(): void {
    if (this.closed) throw new TailrootError('CLOSED', `${this.path}: the index is closed`, { path: this.path })
  }

  /** Checks the handle is open and adopts newer commits when the staleness policy says so. */
  private lookIfDue(): void {
    this.checkOpen()
    if (this.tx === null && !this.syncing && this.freshness.due()) this.adoptNewest(false)
  }

  protected readState(_ordered = false): ReadState {
    this.lookIfDue()
    return { src: this.f, tree: this.tree(), log: this.follower.pending.log, pending: null, file: this.f }
  }

  /** The current commit's tree (its count without the pending changes). */
  private tree(): { root: number; height: number; count: number } {
    return treeOf(this.commit, this.follower.pending)
  }

  /**
   * Adopts the newest commit in the file, whichever process wrote it; reopens the path when the
   * file was replaced (compaction). Returns whether the view moved.
   */
  refresh(): boolean {
    this.checkOpen()
    if (this.tx !== null || this.syncing) return false
    return this.adoptNewest(true)
  }

  /** Adopts commits appended since the last look (see TailFollower.look). */
  private adoptNewest(checkPath: boolean): boolean {
    this.freshness.looked()
    return this.follower.look(checkPath)
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
   * returns, and nothing is written when it throws. `fn` must be synchronous. With `meta` (bytes,
   * or null to clear), the commit stores it as its metadata and happens even when `fn` changed
   * nothing; without, a commit carries the previous commit's metadata forward.
   */
  transaction<T>(fn: (tx: Transaction<K>) => T, options?: TransactionOptions): T {
    this.checkOpen()
    if (typeof fn !== 'function') throw invalid(`${this.path}: transaction: expected a function`)
    const { meta } = transactionOptions(options, `${this.path}: transaction`, this.pageSize)
    return this.run(c => fn(c.tx), meta)
  }

  /** transaction(), handing `fn` the control (whose tx is what a caller gets); `meta` is checked. */
  private run<T>(fn: (c: TransactionControl<K>) => T, meta?: Buffer | null): T {
    this.checkOpen()
    if (this.opts.readOnly) throw new TailrootError('READ_ONLY', `${this.path}: opened readOnly; writes are refused`, { path: this.path })
    if (this.tx !== null) throw invalid(`${this.path}: a transaction is already running on this handle; write through its tx argument`)
    if (this.writes?.busy) throw invalid(`${this.path}: asynchronous writes are queued or committing on this handle; a synchronous write would overtake them (await flush() first)`)
    const lock = this.writeLock()
    lock.acquire(this.opts.lockTimeoutMs)
    try {
      this.prepareWrite()
      // The callback gets tx.tx, which cannot end the transaction; only this handle holds the control.
      const tx = new TransactionControl<K>(this.txBase())
      if (meta !== undefined) tx.setMeta(meta)
      this.tx = tx.tx
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
      if (tx.changed) {
        const { records, log } = tx.finish()
        this.writeCommit(records, () => log, tx.meta)
      } else {
        tx.abandon()
      }
      return result
    } finally {
      lock.release()
    }
  }

  private writeLock(): WriteLock {
    return this.lock ??= new WriteLock(this.opts.vfs, `${this.path}.lock`, this.path)
  }

  /**
   * Adds the pair; resolves (true, or false when it was there) once the commit holding it is
   * durable. Calls queue in call order and share group commits (see write-queue.ts).
   */
  insertAsync(key: K, rowId: number, options?: AsyncWriteOptions): Promise<boolean> {
    return this.enqueue(tx => tx.insert(key, rowId), options, 'insertAsync', false)
  }

  /** Removes the pair; resolves (true, or false when it was absent) once that is durable. */
  deleteAsync(key: K, rowId: number, options?: AsyncWriteOptions): Promise<boolean> {
    return this.enqueue(tx => tx.delete(key, rowId), options, 'deleteAsync', false)
  }

  /**
   * Runs the synchronous `fn` when its turn comes, against the newest state including every
   * write queued before it; its changes become part of the next group commit, atomically, and
   * the promise resolves with its result once that commit is durable. When `fn` throws, only its
   * own changes are dropped and the promise rejects with what it threw. `meta` is that of
   * transaction(): calls of one group apply theirs in call order, so the group's commit stores
   * the last one given (by a call that did not throw).
   */
  transactionAsync<T>(fn: (tx: Transaction<K>) => T, options?: AsyncTransactionOptions): Promise<T> {
    return this.enqueue(fn, options, 'transactionAsync', true)
  }

  /** Resolves when every asynchronous write queued so far has settled (written, or rejected). */
  flush(): Promise<void> {
    return this.writes === null ? Promise.resolve() : this.writes.flush()
  }

  private enqueue<T>(fn: (tx: Transaction<K>, c: TransactionControl<K>) => T, options: AsyncTransactionOptions | undefined, what: string, meta: boolean): Promise<T> {
    try {
      this.checkOpen()
      if (this.opts.readOnly) throw new TailrootError('READ_ONLY', `${this.path}: opened readOnly; writes are refused`, { path: this.path })
      if (typeof fn !== 'function') throw invalid(`${this.path}: ${what}: expected a function`)
      const o = asyncOptions(options, `${this.path}: ${what}`, meta, this.pageSize)
      this.writes ??= new WriteQueue<K>(this.groupHost())
      return this.writes.enqueue(fn, o)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** What the write queue needs of this handle. */
  private groupHost(): GroupHost<K> {
    return {
      path: this.path,
      lock: signal => this.lockForGroup(signal),
      unlock: () => this.lock?.release(),
      // lockForGroup made the look under the lock; nothing can commit while the group holds it.
      begin: () => this.txBase(),
      run: <T>(c: TransactionControl<K>, fn: (tx: Transaction<K>, c: TransactionControl<K>) => T): T => {
        this.tx = c.tx
        try { return fn(c.tx, c) } finally { this.tx = null }
      },
      commit: (records, log, meta) => this.writeCommitAsync(records, log, meta),
    }
  }

  /**
   * The write lock for a group commit, on timers, with the look under it: when that look finds
   * the file at the path replaced and the new file's lock busy, the wait starts again on timers
   * instead of blocking the thread (LockMovedError), up to MAX_LOCK_MOVES times.
   */
  private async lockForGroup(signal: AbortSignal): Promise<void> {
    const lock = this.writeLock()
    for (let moves = 0; ; moves++) {
      await lock.acquireAsync(this.opts.lockTimeoutMs, signal)
      try {
        lock.withoutBlocking(() => this.prepareWrite())
        return
      } catch (err) {
        lock.release()
        if (!(err instanceof LockMovedError) || moves >= MAX_LOCK_MOVES) throw err
      }
    }
  }

  /** The state a transaction starts from: the current commit. */
  private txBase(): TransactionBase {
    return {
      path: this.path, src: this.f, tree: this.tree(), log: this.follower.pending.log, sequence: this.commit.sequence,
      unique: this.unique, codec: this.codec,
    }
  }

  /** Under the lock: adopt the newest commit and cut any torn tail after it. */
  private prepareWrite(): void {
    this.freshness.looked()
    this.follower.prepareWrite(this.lock?.lockedFile() ?? null)
  }

  /**
   * Writes changes (`records`, net against the current commit; `log`, the pending log with them
   * merged in) as one commit: as change records while the pending chain stays within
   * maxPendingChanges (FORMAT.md §10), else folded, with every pending change, into a new tree.
   */
  private writeCommit(records: Batch, log: () => ChangeLog, meta: Buffer | null | undefined): void {
    const w = this.commitWriter()
    try {
      const p = this.planCommit(w, records, log, meta)
      const c = w.commit(p.content)
      this.committedLocal(c, p.next(c), w.fileEnd)
    } catch (err) {
      this.commitFailed(w)
      throw err
    }
  }

  /**
   * writeCommit() with the syncs off the main thread; reads keep the state before it meanwhile.
   * The thread merges the changes into the pending log (`log()`) while the sync runs.
   */
  private async writeCommitAsync(records: Batch, log: () => ChangeLog, meta: Buffer | null | undefined): Promise<void> {
    const w = this.commitWriter()
    try {
      const p = this.planCommit(w, records, log, meta)
      let c: Commit
      let merged = true
      this.syncing = true
      try {
        const committing = w.commitAsync(p.content)
        // The merge cannot fail (each record is effective against the log it came from); were
        // it to, the commit stands, and the next look reads it from the file instead.
        try { log() } catch { merged = false }
        c = await committing
      } finally {
        this.syncing = false
      }
      if (!merged) { this.commitFailed(w); return }
      this.committedLocal(c, p.next(c), w.fileEnd)
    } catch (err) {
      this.commitFailed(w)
      throw err
    }
  }

  /**
   * The writer of the next commit, after prepareWrite (under the lock): it knows the pages after
   * the current commit to be zeros, and preallocates when the option says so (FORMAT.md §8).
   */
  private commitWriter(): CommitWriter {
    return new CommitWriter(this.f, this.commit, this.opts.durability, this.follower.durable(), this.follower.allocatedPages(), this.opts.preallocate)
  }

  /** Appends the commit's pages; returns its content and the pending state after it. */
  private planCommit(w: CommitWriter, records: Batch, log: () => ChangeLog, newMeta: Buffer | null | undefined): { content: CommitContent; next: (c: Commit) => PendingState } {
    const prev = this.commit
    const pend = this.follower.pending
    // No new metadata: carry the previous commit's forward.
    const meta = newMeta === undefined ? prev.meta : newMeta
    const logging = this.f.formatVersion >= FIRST_LOG_VERSION && prev.chainRecords + records.keys.length <= this.opts.maxPendingChanges &&
      (pend.pages + 1) * this.pageSize + recordsSize(records) <= MAX_PENDING_BYTES
    if (logging) {
      // Carrying prev's records forward, the new commit links where prev did and prev leaves the
      // chain; else prev's commit page joins the live pages when it carries records of the chain.
      const carried = carriedRecords(this.f, prev, pend, records, meta?.length ?? 0)
      const left = carried === null ? 0 : 1
      w.appendLog(carried ?? records, meta)
      return {
        content: {
          // The records' net change: what merging them adds to the pending log's net.
          root: prev.root, height: prev.height, entryCount: prev.entryCount + batchNet(records),
          livePages: prev.livePages + w.logPages + (left === 0 && inChain(prev) ? 1 : 0), meta,
          logPrevHead: left === 0 ? prev.logHead : prev.logPrev, chainBefore: prev.chainRecords - left * prev.logRecords,
        },
        next: c => c.logRecords > 0 ? { log: log(), pages: pend.pages - left + w.logPages + 1, head: c } : { log: log(), pages: pend.pages, head: pend.head },
      }
    }
    const tree = treeOf(prev, pend)
    // The writer is where the new tree's nodes go as they are final, and where a merge reads
    // back one it wrote; such a page is this commit's garbage (res.garbage), not live.
    const all = log()
    const res = all.empty ? { ...tree, replaced: 0, garbage: 0 } : applyBatchTo(w, tree, all.toBatch(), this.pageSize, w)
    return {
      content: {
        root: res.root, height: res.height, entryCount: res.count,
        livePages: prev.livePages - chainLivePages(prev, pend) - res.replaced - res.garbage + w.written, meta,
        logPrevHead: 0, chainBefore: 0,
      },
      next: () => NO_PENDING,
    }
  }

  /** After this handle's commit `c`; `filePages`: the file's pages after it, zeros past `c`. */
  private committedLocal(c: Commit, next: PendingState, filePages: number): void {
    this.follower.committed(c, this.opts.durability === 'full', next, filePages)
    noteLocalCommit()
    this.freshness.looked()
  }

  private commitFailed(w: CommitWriter): void {
    w.abort()
    // Whatever happens next, the next read must look at the file again.
    this.follower.commitFailed()
    this.freshness.reset()
  }

  /** A read view pinned at the current commit; close it when done. */
  snapshot(): Snapshot<K> {
    this.readState()
    return new Snapshot<K>(this.f, this.commit, this.follower.pending, this.codec)
  }

  /**
   * Figures about the commit this handle reads and its file. O(1), except `commits`, which
   * reads the commit pages added since the last stats() of this file (all of them the first time).
   */
  stats(): IndexStats {
    this.checkOpen()
    const f = this.f
    const space = spaceFigures(f.size(), f.pageSize, this.commit)
    f.commitTally = countCommits(f, this.commit, f.commitTally)
    return {
      path: this.path,
      sequence: this.commit.sequence,
      entries: this.commit.entryCount,
      height: this.commit.height,
      pendingChanges: this.commit.chainRecords,
      pageSize: this.pageSize,
      keyEncoding: this.keyEncoding,
      unique: this.unique,
      maxKeyBytes: this.maxKeyBytes,
      ...space,
      livePages: this.commit.livePages,
      commits: f.commitTally.commits,
      commitPage: this.commit.page,
      cachedPages: this.f.cache.size,
      cachedBytes: this.f.cache.bytes,
      cacheHits: this.f.cache.hits,
      cacheMisses: this.f.cache.misses,
      pageReads: this.f.reads,
    }
  }

  /**
   * Closes the handle; open snapshots keep working until they are closed. Idempotent.
   * Asynchronous writes not in a commit yet (queued, or waiting for the lock) are rejected with
   * CLOSED; a group commit already under way completes (its promises settle as usual) and the
   * file is released after it. To wait for every queued write instead: `await idx.flush()` first.
   */
  close(): void {
    if (this.closed) return
    if (this.tx !== null) throw invalid(`${this.path}: close() inside a transaction`)
    this.closed = true
    const writes = this.writes
    if (writes === null || !writes.busy) return this.release()
    writes.close()
    void writes.idle().then(() => this.release())
  }

  private release(): void {
    this.lock?.close()
    this.follower.close()
  }

  /** close(), for `using`. */
  [Symbol.dispose](): void {
    this.close()
  }
}

/** The tree of commit `c`: its count is the commit's entries less the net of its pending changes. */
export function treeOf(c: Commit, p: PendingState): { root: number; height: number; count: number } {
  return { root: c.root, height: c.height, count: c.entryCount - p.log.net }
}

function checkStored(path: string, o: ResolvedOptions, f: IndexFile): void {
  const h = f.header
  if (h.set === true && !o.set) throw invalid(`${path}: the file holds a set of named indexes (FORMAT.md §12); open it with IndexSet.open`)
  if (o.set && h.set !== true) throw invalid(`${path}: the file is a single index, not a set of named indexes; open it with Index.open`)
  const clash = (name: string, want: unknown, have: unknown): never => {
    throw invalid(`${path}: option ${name} is ${String(want)} but the file was created with ${String(have)}`)
  }
  if (o.unique !== undefined && o.unique !== h.unique) clash('unique', o.unique, h.unique)
  if (o.keyEncoding !== undefined && o.keyEncoding !== h.keyEncoding) clash('keyEncoding', o.keyEncoding, h.keyEncoding)
  if (o.pageSize !== undefined && o.pageSize !== h.pageSize) clash('pageSize', o.pageSize, h.pageSize)
}
