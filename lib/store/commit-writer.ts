/**
 * The commit protocol (FORMAT.md §8, "Writing a commit"), the only code that appends to an index
 * file: data pages after the previous commit, preallocated zeros, the syncs, the commit page, and
 * the rollback of a commit that failed before its commit page was whole. Used by Index (every
 * commit, synchronous or asynchronous), by Index.build and compaction's copy (the first commit of
 * a new file, never preallocated) and by compaction's superseded marker.
 */
import { crc32c } from '@node-rs/crc32'
import { COMMIT_DATA_SYNCED, COMMIT_PREV_DURABLE, COMMIT_SUPERSEDED, MAX_PAGE_NO, PREALLOC_MAX_BYTES, PREALLOC_MIN_PAGES } from '../format/constants.ts'
import { decodeCommit, encodeCommit, inlineCapacity } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'
import { encodeLogPage, recordsSize, writeRecords } from '../format/log-records.ts'
import type { Batch } from '../tree/batch.ts'
import { decodeNode, encodeNode, isLeaf } from '../format/node.ts'
import type { TreeNode } from '../format/node.ts'
import { TailrootError } from '../errors.ts'
import type { ChildRef, MemNode } from '../tree/node-ref.ts'
import type { NodeSink } from '../tree/sink.ts'
import type { NodeSource } from '../tree/source.ts'
import type { IndexFile } from './file.ts'
import { noteWritten } from './log-chain.ts'

export { PREALLOC_MAX_BYTES, PREALLOC_MIN_PAGES }

/** 'full': durable when commit() returns; 'none': no syncs (FORMAT.md §8). */
export type Durability = 'full' | 'none'

/** What a commit records besides its pages. */
export interface CommitContent {
  root: number
  height: number
  entryCount: number
  /** Node pages reachable from root. */
  livePages: number
  meta: Buffer | null
  /**
   * The pending chain this commit continues (FORMAT.md §10): the previous commit's logHead and
   * chainRecords, or 0 and 0 when this commit's tree holds every pair (a fold).
   */
  logPrevHead: number
  chainBefore: number
  /** Marks the file replaced at its path by a compacted copy (COMMIT_SUPERSEDED, FORMAT.md §9). */
  superseded?: boolean
}

/** Bytes buffered before appended pages are written out. */
const FLUSH_BYTES = 1 << 20

/**
 * The largest commit (its pages and the commit page) written with one sync: open checks the
 * newest commit's dataCrc when it has COMMIT_PREV_DURABLE, so this bounds that work (FORMAT.md §8).
 */
export const ONE_SYNC_MAX_BYTES = FLUSH_BYTES

/**
 * Where a commit ending at page `end` (exclusive) extends the file to when it needs space: an
 * eighth of the file more, at least PREALLOC_MIN_PAGES and at most PREALLOC_MAX_BYTES, so the
 * number of extensions grows with the logarithm of the size up to 512 MiB, then linearly (one
 * per 64 MiB), and no file carries more than 64 MiB of zeros, or more than an eighth of itself
 * once it has 128 pages.
 */
export function preallocEnd(end: number, pageSize: number): number {
  const chunk = Math.min(Math.floor(PREALLOC_MAX_BYTES / pageSize), Math.max(PREALLOC_MIN_PAGES, Math.ceil(end / 8)))
  return Math.min(end + chunk, MAX_PAGE_NO + 1)
}

/**
 * One commit being written on top of `prev`, under the write lock, after any torn tail past
 * `prev` was removed (so every byte from `prev`'s end to `allocated` pages is zero). Append
 * pages (children before parents), then `commit()` or `commitAsync()`; on any failure the
 * writer has either cut its pages again or, once the commit page may be whole, reports the
 * outcome as in doubt.
 */
export class CommitWriter implements NodeSource, NodeSink {
  readonly firstPage: number
  /** Pages appended so far. */
  written = 0
  private dataCrc = 0
  private chunks: Buffer[] = []
  private chunkStart: number
  private pending = 0
  private done = false
  /** This commit's change records: how many, in how many log pages, or inline in the commit page. */
  private records = 0
  logPages = 0
  private inline: Buffer | null = null
  /** The records appendLog wrote (null: none). */
  private batch: Batch | null = null

  private readonly f: IndexFile
  private readonly prev: Commit
  private readonly durability: Durability
  /** Whether every page up to `prev`'s commit page is known to be durable. */
  private readonly prevDurable: boolean
  /** Pages in the file before this commit; every byte from firstPage on is zero. */
  private readonly allocated: number
  private readonly preallocate: boolean
  /** Pages in the file after commit() returned (the commit, and the zeros preallocated after it). */
  fileEnd = 0

  /**
   * `allocated`: the pages in the file, all zero from `prev`'s end (at least prev.page + 1).
   * `preallocate`: extend the file with zeros when the commit does not fit (FORMAT.md §8).
   */
  constructor(f: IndexFile, prev: Commit, durability: Durability, prevDurable: boolean, allocated = prev.page + 1, preallocate = false) {
    this.f = f
    this.prev = prev
    this.durability = durability
    this.prevDurable = prevDurable
    this.firstPage = prev.page + 1
    this.chunkStart = this.firstPage
    this.allocated = Math.max(allocated, this.firstPage)
    this.preallocate = preallocate
  }

  get nextPage(): number { return this.firstPage + this.written }

  /** Appends one node page; returns its page number. */
  append(node: TreeNode): number {
    const page = this.nextPage
    // A node page must leave room for the commit page after it.
    this.checkRoom(page + 1)
    const buf = encodeNode(node, page, this.f.pageSize)
    // A leaf is cached as its page bytes (a quarter of the memory of the node, which a read that
    // needs it decodes from them; presence checks search them as they are); an internal node,
    // which every descent uses, as the node.
    if (isLeaf(node)) this.f.cache.setPage(page, buf)
    else this.f.cache.set(page, node)
    this.push(buf)
    return page
  }

  /**
   * Records this commit's changes (sorted, effective): inline in the commit page when they fit
   * beside `meta`, else in log pages, which must be the first pages the commit appends.
   */
  appendLog(b: Batch, meta: Buffer | null): void {
    if (this.written > 0 || this.records > 0) throw new Error('internal error: change records after other pages')
    const n = b.keys.length
    if (n === 0) return
    this.records = n
    this.batch = b
    const room = inlineCapacity(this.f.pageSize, this.f.header.formatVersion, meta?.length ?? 0)
    const size = recordsSize(b)
    if (size <= room) {
      const buf = Buffer.alloc(size)
      writeRecords(b, 0, buf, 0, size)
      this.inline = buf
      return
    }
    for (let i = 0; i < n; ) {
      const page = this.nextPage
      this.checkRoom(page + 1)
      const lp = encodeLogPage(b, i, page, this.f.pageSize)
      this.push(lp.page)
      this.logPages++
      i = lp.next
    }
  }

  /** Adds an encoded page to the pending write. */
  private push(buf: Buffer): void {
    this.chunks.push(buf)
    this.pending += buf.length
    this.written++
    this.dataCrc = crc32c(buf, this.dataCrc)
    if (this.pending >= FLUSH_BYTES) this.flush()
  }

  get path(): string { return this.f.path }

  /**
   * The node `ref` names, as IndexFile.load, for the pages of this commit too: those still in
   * the write buffer are decoded from it (a streaming apply may take back a node it wrote). A
   * node of the file is one this commit replaces (tree code loads only the nodes it rebuilds), so
   * the cache forgets it (IndexFile.take).
   */
  load(ref: ChildRef, level: number): MemNode {
    if (typeof ref !== 'number') return ref
    if (ref < this.chunkStart) return this.f.take(ref, level)
    const buf = this.chunks[ref - this.chunkStart]
    if (buf === undefined || ref < this.firstPage + this.logPages) throw new Error(`internal error: page ${ref} is not a node this commit appended`)
    const n = decodeNode(buf)
    if (n.level !== level) throw new Error(`internal error: page ${ref} holds a node at level ${n.level}, not ${level}`)
    return n
  }

  /** Writes the buffered pages out (they are still uncommitted). */
  flush(): void {
    if (this.chunks.length === 0) return
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.f.write(buf, this.chunkStart)
    this.chunkStart += this.chunks.length
    this.chunks = []
    this.pending = 0
  }

  /**
   * Makes the appended pages a commit (FORMAT.md §8, "Writing a commit"). With durability
   * 'full': one write of the pages and the commit page and one fdatasync when every page before
   * this commit is known durable and the commit is small (COMMIT_PREV_DURABLE); otherwise
   * fdatasync before the commit page and after it (COMMIT_DATA_SYNCED), even when nothing was
   * appended, because earlier 'none' commits the tree builds on may not be durable yet. No syncs
   * with 'none'.
   */
  commit(content: CommitContent): Commit {
    const { c, oneSync, full } = this.begin(content)
    const step = { tried: false, written: false }
    try {
      const writes = this.writeCommit(c, oneSync, full, step)
      for (let r = writes.next(); ; r = writes.next()) {
        if (r.done === true) { this.fileEnd = r.value; break }
        this.f.sync()
      }
    } catch (err) {
      this.failed(err, c, step)
    }
    return c
  }

  /**
   * commit() with the fdatasyncs run off the main thread (IndexFile.syncAsync); the writes stay
   * synchronous (they only copy into the page cache), preallocation's zeros included, so they are
   * written before the commit page and synced by the commit's sync as in commit(). The caller
   * holds the write lock until the promise settles, and must not adopt the commit page in the
   * meantime: it is not durable yet.
   */
  async commitAsync(content: CommitContent): Promise<Commit> {
    const { c, oneSync, full } = this.begin(content)
    const step = { tried: false, written: false }
    try {
      const writes = this.writeCommit(c, oneSync, full, step)
      for (let r = writes.next(); ; r = writes.next()) {
        if (r.done === true) { this.fileEnd = r.value; break }
        await this.f.syncAsync()
      }
    } catch (err) {
      this.failed(err, c, step)
    }
    return c
  }

  /**
   * The writes of commit `c`, shared by commit() and commitAsync(): yields where an fdatasync
   * goes (the caller runs it, blocking or not), and returns the file's pages afterwards. `step`
   * records how far it got, for failed().
   */
  private *writeCommit(c: Commit, oneSync: boolean, full: boolean, step: { tried: boolean; written: boolean }): Generator<void, number> {
    const page = this.commitPage(c)
    const fileEnd = this.makeRoom(c.page)
    if (oneSync) {
      // The commit page goes out in the same write as the pages it commits.
      this.chunks.push(page)
      step.tried = true
      this.flush()
    } else {
      this.flush()
      if (full) yield
      step.tried = true
      this.f.write(page, c.page)
    }
    // From here on the page is whole in the file (a failed write may leave it whole too, over
    // preallocated zeros: mayBeWhole below).
    step.written = true
    if (full) yield
    return fileEnd
  }

  /** The commit record and how it is synced (FORMAT.md §8). */
  private begin(content: CommitContent): { c: Commit; oneSync: boolean; full: boolean } {
    if (this.done) throw new Error('internal error: a commit written twice')
    this.done = true
    const full = this.durability === 'full'
    const oneSync = full && this.prevDurable && (this.written + 1) * this.f.pageSize <= ONE_SYNC_MAX_BYTES
    const c: Commit = {
      page: this.nextPage,
      sequence: this.prev.sequence + 1,
      root: content.root,
      height: content.height,
      flags: (oneSync ? COMMIT_PREV_DURABLE : full ? COMMIT_DATA_SYNCED : 0) | (content.superseded === true ? COMMIT_SUPERSEDED : 0),
      entryCount: content.entryCount,
      prevCommit: this.prev.page,
      firstDataPage: this.firstPage,
      dataCrc: this.dataCrc >>> 0,
      livePages: content.livePages,
      timestamp: Date.now(),
      meta: content.meta,
      logHead: this.records > 0 ? this.nextPage : content.logPrevHead,
      logPrev: this.records > 0 ? content.logPrevHead : 0,
      chainRecords: content.chainBefore + this.records,
      logRecords: this.records,
      logPages: this.logPages,
      inline: this.inline,
    }
    if (this.batch !== null) noteWritten(c, this.batch)
    return { c, oneSync, full }
  }

  private commitPage(c: Commit): Buffer {
    this.checkRoom(c.page)
    return encodeCommit(c, this.f.header.fileId, this.f.pageSize, this.f.header.formatVersion)
  }

  /**
   * Before the commit page at `page` is written: the file's pages once the commit is written,
   * after preallocating when the commit does not fit and preallocation is on (FORMAT.md §8). The
   * zeros go from the commit page on, before the commit page, so that a failure still rolls the
   * commit back, and this commit's sync makes them durable. Every byte a crash leaves non-zero
   * past `prev` then still follows `prev` contiguously.
   */
  private makeRoom(page: number): number {
    const end = page + 1
    if (!this.preallocate || end <= this.allocated) return Math.max(this.allocated, end)
    return this.extend(page, end)
  }

  /**
   * Preallocates for a commit whose commit page is `page` (ending at `end`): zeros from that page
   * to preallocEnd(end). Returns the file's pages afterwards. When the file system has no room
   * for the zeros (ENOSPC, EDQUOT, EFBIG), the zeros written are cut off again and the commit
   * goes on without them: a full disk refuses preallocation, not a commit that fits.
   */
  private extend(page: number, end: number): number {
    const target = preallocEnd(end, this.f.pageSize)
    const before = Math.max(this.allocated, this.chunkStart)
    try {
      this.f.writeZeros(Math.max(page, before), target)
      return target
    } catch (err) {
      const code = ((err as { cause?: NodeJS.ErrnoException }).cause ?? (err as NodeJS.ErrnoException)).code
      if (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'EFBIG') throw err
      // Only zeros lie past `before` (the pages of this commit still to be written come later).
      this.f.truncatePages(before)
      return Math.max(this.allocated, end)
    }
  }

  /**
   * A commit failed: cut its pages, or, once its commit page may be whole, report it in doubt.
   * `step.tried`: a write carrying the commit page was started; `step.written`: it returned.
   */
  private failed(err: unknown, c: Commit, step: { tried: boolean; written: boolean }): never {
    this.f.cache.dropFrom(this.firstPage)
    // A failed write may still have stored the commit page whole: a prefix that holds every
    // non-zero byte of the page, over preallocated zeros. Then it is treated as written.
    const written = step.written || (step.tried && this.mayBeWhole(c))
    if (!written) {
      this.cut()
      throw err
    }
    // The commit page may be whole in the file, and other processes may have adopted it
    // already: it is never cut (bytes up to a commit never change). Its outcome is unknown,
    // as after a crash at this instant; the next look adopts it if it is whole.
    const msg = err instanceof Error ? err.message : String(err)
    throw new TailrootError('IO', `${msg} (after the commit page was written: the commit may or may not be durable and visible, as after a crash)`, { path: this.f.path, cause: err })
  }

  /** Whether the commit page of `c` may be whole in the file (true when it cannot be read). */
  private mayBeWhole(c: Commit): boolean {
    try {
      const buf = this.f.readPages(c.page, 1)
      return buf.length === this.f.pageSize && decodeCommit(buf, c.page, this.f.header.fileId, this.f.header.formatVersion) !== null
    } catch {
      return true
    }
  }

  private checkRoom(page: number): void {
    if (page > MAX_PAGE_NO) throw new TailrootError('IO', `${this.f.path}: the file has reached the maximum of ${MAX_PAGE_NO} pages`, { path: this.f.path })
  }

  /** Gives up the commit: its pages are an uncommitted tail nobody can have adopted. Cut it. */
  abort(): void {
    if (this.done) return
    this.done = true
    this.f.cache.dropFrom(this.firstPage)
    this.cut()
  }

  private cut(): void {
    this.chunks = []
    try { this.f.truncatePages(this.firstPage) } catch { /* the next writer cuts it under the lock */ }
  }
}
