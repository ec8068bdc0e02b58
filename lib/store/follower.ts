/**
 * Following the tail of an index file: the commit a handle reads, adopting newer commits
 * (whichever process wrote them) by probing the page after the known commit, switching to a new
 * file when the path was replaced, and, for a writer under the lock, keeping every byte after the
 * newest commit zero (removing the torn tail a crashed writer left; FORMAT.md §8). The only code that changes
 * which file and which commit a handle reads.
 */
import { TailrootError, ioError } from '../errors.ts'
import { COMMIT_SUPERSEDED, PAGE_HEADER_SIZE, PAGE_ZERO } from '../format/constants.ts'
import { EMPTY_COMMIT } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'
import { IndexFile } from './file.ts'
import { writtenEnd } from './tail-scan.ts'
import { pendingOf } from './log-chain.ts'
import type { PendingState } from './log-chain.ts'
import { sameFile } from './vfs.ts'
import type { FileIdentity, Vfs } from './vfs.ts'

function isSuperseded(c: Commit): boolean {
  return (c.flags & COMMIT_SUPERSEDED) !== 0
}

/** Files switched to in one prepareWrite before giving up (something replaces the file in a loop). */
const MAX_SWITCHES = 16

/**
 * The longest tail after the newest commit that a writer reads to check that it is all zeros
 * before writing into it; a longer one (or one that is not all zeros) is cut off instead.
 */
export const VERIFY_TAIL_MAX_BYTES = 128 << 20

/**
 * Per process, for each open index file (device, inode and fileId): the commit (page and
 * sequence) and file size at which a handle of this process last knew every byte after that
 * commit to be zero. Handles of one process share it, so writers that take turns in one process
 * do not read the tail at each turn. It holds for the same reason a handle's own knowledge does
 * (FORMAT.md §8, rule T): a power cut would have ended this process. An entry goes when a handle
 * of its file closes or fails a commit.
 */
const cleanTails = new Map<string, { page: number; sequence: number; size: number }>()

/**
 * What a look saw after the current commit when that tail held no newer commit (a writer at
 * work, or a torn tail a crashed writer left): the bytes around the tail's first page and around
 * the end of its written part. Any later commit changes one of them (FORMAT.md §8, "Following
 * the tail").
 */
interface TornTail {
  /** The probe of the page after the commit (readProbe). */
  probe: Buffer
  /** writtenEnd: the first page of the zero tail after it, or the page count. */
  end: number
  /** The last written page, whole, and the first 16 bytes of the page after it. */
  edge: Buffer
}

export interface FollowerOptions {
  vfs: Vfs
  path: string
  writable: boolean
  cacheBytes: number
  /** Called after the handle switched to a new file at the path. */
  onReplaced?: () => void
}

/**
 * The last PAGE_HEADER_SIZE bytes of commit `c`'s page and the header of the page after it (one
 * read): shorter than PAGE_HEADER_SIZE when the file ends before the commit does.
 */
function readProbe(f: IndexFile, c: Commit): Buffer {
  const buf = Buffer.alloc(2 * PAGE_HEADER_SIZE)
  const n = f.readAt(buf, (c.page + 1) * f.pageSize - PAGE_HEADER_SIZE)
  return buf.subarray(0, n)
}

/** Whether a probe shows the page after the commit zero or absent (a file at least as long as the commit). */
function nothingAfter(probe: Buffer): boolean {
  return probe.length === PAGE_HEADER_SIZE || (probe.length > PAGE_HEADER_SIZE && probe[PAGE_HEADER_SIZE] === PAGE_ZERO)
}

/** Page `end - 1`, whole, and the header of page `end` (as far as the file holds them). */
function readEdge(f: IndexFile, end: number): Buffer {
  const P = f.pageSize
  const buf = Buffer.alloc(P + PAGE_HEADER_SIZE)
  return buf.subarray(0, f.readAt(buf, (end - 1) * P))
}

/** The newest commit of a file, and what a look would record of a tail after it without a newer commit. */
interface Found {
  commit: Commit
  torn: TornTail | null
}

/**
 * Finds the newest commit of a newly opened file (or one to scan anew). The end of the written
 * data and the edge there are taken before the scan, so the first look scans again only when the
 * file changed since (a commit written during the scan changes them, FORMAT.md §8 "Following the
 * tail"), not whenever a torn tail follows the commit.
 */
function findNewest(f: IndexFile): Found {
  const end = writtenEnd(f, 0)
  const edge = readEdge(f, end)
  const commit = f.findNewestCommit(0, undefined, end) ?? EMPTY_COMMIT
  const probe = readProbe(f, commit)
  return { commit, torn: !nothingAfter(probe) && probe.length > PAGE_HEADER_SIZE && end > commit.page + 1 ? { probe, end, edge } : null }
}

export class TailFollower {
  private f: IndexFile
  private cur: Commit
  /** The pending changes of `cur`, read on first use (null: not yet). */
  private pend: PendingState | null
  /** An earlier commit of the file whose pending changes `pend` can build on. */
  private pendBase: { commit: Commit; state: PendingState } | undefined
  /** What the last look saw after the current commit, when it was not zeros (null: zeros, or not known). */
  private torn: TornTail | null = null
  /**
   * For a writer: the file size at which it last knew every byte after `commit`'s end to be zero
   * (it checked under the lock, or preallocated them itself). Only a crashed writer's pages,
   * which start right after the commit, can have made that untrue since (FORMAT.md §8).
   */
  private clean: { commit: Commit; size: number } | null = null
  /** The commit after which the last look found the next page zero or absent (null: it did not). */
  private zeroAfter: Commit | null = null
  /**
   * The newest commit this handle knows to be durable with every page below it: one it made
   * with a sync that returned. Another writer's commit is not known durable (it may have died
   * before its sync returned), nor is a file's first state unless it has no commit at all.
   */
  private durableCommit: Commit | null
  /** How many times the handle switched to a new file at the path. */
  private switches = 0
  private readonly o: FollowerOptions

  private constructor(o: FollowerOptions, f: IndexFile, found: Found) {
    this.o = o
    this.f = f
    this.cur = found.commit
    this.pend = null
    this.durableCommit = found.commit === EMPTY_COMMIT ? found.commit : null
    this.torn = found.torn
  }

  /** Opens the file at the path and finds its newest commit. Releases the file on failure. */
  static open(o: FollowerOptions): TailFollower {
    const f = IndexFile.open(o.vfs, o.path, o.writable, o.cacheBytes)
    try {
      return new TailFollower(o, f, findNewest(f))
    } catch (err) {
      f.release()
      throw err
    }
  }

  get file(): IndexFile { return this.f }
  get commit(): Commit { return this.cur }
  /**
   * The pending changes of the current commit (FORMAT.md §10). Read on first use, so a damaged
   * log page fails the reads that need it with CORRUPT, as a damaged node page does, not open.
   */
  get pending(): PendingState {
    if (this.pend === null) {
      this.pend = pendingOf(this.f, this.cur, this.pendBase)
      this.pendBase = undefined
    }
    return this.pend
  }

  /** Moves to commit `c` of the open file; `fresh` when it may not build on the current one. */
  private moveTo(c: Commit, fresh: boolean): void {
    const base = this.pend !== null ? { commit: this.cur, state: this.pend } : this.pendBase
    this.cur = c
    this.pend = null
    this.pendBase = fresh ? undefined : base
  }

  /** The page after the current commit: where the next commit's pages go. */
  private commitEnd(): number {
    return this.cur.page + 1
  }

  /** The identity of the file the path names now (null: none); without a stat when the open file can tell (vfs.ts, namedBy). */
  private pathIdentity(): FileIdentity | null {
    if (this.f.file.namedBy?.(this.o.path) === true) return this.f.identity
    try { return this.o.vfs.identity(this.o.path) } catch (err) { throw ioError(this.o.path, 'stat', err) }
  }

  /**
   * Adopts commits appended since the last look; returns whether the view moved. `checkPath` also
   * compares the file at the path with the one open (one more stat) and switches to a replacement;
   * implicit looks before reads skip it, refresh() and writers never do. A path that names no file
   * keeps the handle on the file it has (a reader can go on reading it).
   */
  look(checkPath: boolean): boolean {
    return this.adopt(checkPath ? this.pathIdentity() : null)
  }

  /** look() with the path's identity already taken (null: not checked, or no file there). */
  private adopt(id: FileIdentity | null): boolean {
    // A superseded file gets no more commits: its readers follow the path (FORMAT.md §9).
    if (id === null && isSuperseded(this.cur)) id = this.pathIdentity()
    if (id !== null && !sameFile(id, this.f.identity)) return this.reopen()
    this.zeroAfter = null
    // One small read around the end of the current commit (FORMAT.md §8, "Following the tail"):
    // the next commit, whoever writes it, starts on the page after it.
    const probe = readProbe(this.f, this.cur)
    if (probe.length < PAGE_HEADER_SIZE) {
      // Bytes up to a commit never change, so this file is not the one we knew: start over.
      this.f.cache.clear()
      this.f.commitTally = null
      this.clean = null
      this.torn = null
      const found = findNewest(this.f)
      const before = this.cur
      this.moveTo(found.commit, true)
      this.torn = found.torn
      return this.cur !== before
    }
    if (nothingAfter(probe)) {
      // Nothing (or a zero page) after the commit: no commit was written since.
      this.torn = null
      this.zeroAfter = this.cur
      return false
    }
    const t = this.torn
    if (t !== null && t.probe.equals(probe) && t.edge.equals(readEdge(this.f, t.end))) return false
    // Taken before the scan: a commit written while it runs changes what the next look sees.
    // Forwards from the known commit: the cost follows what was written since, not the zeros.
    const end = writtenEnd(this.f, this.cur.page, true)
    const edge = readEdge(this.f, end)
    const c = this.f.findNewestCommit(this.cur.page, undefined, end)
    if (c !== null && c.sequence > this.cur.sequence) {
      this.torn = null
      if (id === null && isSuperseded(c)) {
        // The file was replaced by a compacted copy, which has this content at the sequence
        // before c's: switch to it without adopting c. A failed switch is tried again next look
        // (torn is null, so that look scans again).
        const now = this.pathIdentity()
        if (now !== null && !sameFile(now, this.f.identity)) return this.reopen()
      }
      this.moveTo(c, false)
      return true
    }
    // Only once the scan is done: a failure above makes the next look scan again.
    this.torn = { probe, end, edge }
    return false
  }

  /**
   * The path names a different file now: switch to it. Everything on the new file is done before
   * the switch, so a failure leaves the handle as it was.
   */
  private reopen(): boolean {
    const f = IndexFile.open(this.o.vfs, this.o.path, this.o.writable, this.o.cacheBytes)
    let found: Found
    try {
      const a = this.f.header
      const b = f.header
      if (a.keyEncoding !== b.keyEncoding || a.unique !== b.unique || a.pageSize !== b.pageSize || a.set !== b.set) {
        throw new TailrootError('INVALID_ARGUMENT', `${this.o.path}: the file was replaced by an index with different settings`, { path: this.o.path })
      }
      found = findNewest(f)
    } catch (err) {
      f.release()
      throw err
    }
    const old = this.f
    cleanTails.delete(this.f.key)
    const commit = found.commit
    this.f = f
    this.cur = commit
    this.pend = null
    this.pendBase = undefined
    this.torn = found.torn
    this.clean = null
    this.switches++
    this.durableCommit = commit === EMPTY_COMMIT ? commit : null
    old.release()
    this.o.onReplaced?.()
    return true // another file: whatever its sequence, the view moved
  }

  /**
   * Under the write lock, before a commit: refuses a path that no longer names a file (commits
   * into an unlinked file would be lost), adopts the newest commit and cuts any torn tail after it.
   */
  prepareWrite(locked: FileIdentity | null = null): void {
    // After a switch the write lock moves to the new file (onReplaced), and only from then on
    // can no other writer commit there: look again, under that lock.
    for (let round = 0; ; round++) {
      // `locked`: the file the write lock was just taken on, which the path named after the
      // flock (lock.ts); nothing that keeps to the protocol can replace it while the lock is held.
      const id = round === 0 && locked !== null ? locked : this.pathIdentity()
      if (id === null) {
        throw new TailrootError('NOT_FOUND', `${this.o.path}: the index file was deleted or renamed away while this handle had it open; the write is refused, because it would go into a file that no one opens again`, { path: this.o.path })
      }
      const seen = this.switches
      this.adopt(id)
      if (this.switches === seen) break
      if (round >= MAX_SWITCHES) {
        throw new TailrootError('LOCKED', `${this.o.path}: the file at the path was replaced ${round + 1} times while this writer waited to write; giving up`, { path: this.o.path })
      }
    }
    this.clearTail()
  }

  /**
   * Under the write lock: makes sure every byte after the current commit is zero, so that the
   * commit written next is the only non-zero data past it (FORMAT.md §8, "Preallocation and the
   * tail"). Known when this handle left the tail clean itself at this commit and size, and the
   * page after the commit is still zero (a writer that crashed since would have written there
   * first); else the tail is read, and cut off when it is not all zeros or too long to read.
   */
  private clearTail(): void {
    const P = this.f.pageSize
    const end = this.commitEnd()
    // The page after the commit is zero: the look just made under the lock (prepareWrite) saw
    // it, or, when that look moved to a newer commit, one more probe does. The file size is not
    // compared (no fstat: see vfs.ts on what a stat costs the next fdatasync): FORMAT.md §8, rule T.
    if (this.zeroAfter === this.cur || nothingAfter(readProbe(this.f, this.cur))) {
      const k = this.clean
      if (k !== null && k.commit === this.cur) return
      const shared = cleanTails.get(this.f.key)
      if (shared !== undefined && shared.page === this.cur.page && shared.sequence === this.cur.sequence) {
        this.clean = { commit: this.cur, size: shared.size }
        return
      }
    }
    const size = this.f.size()
    this.clean = null
    let ok = size === end * P
    if (!ok && size > end * P && size % P === 0 && size - end * P <= VERIFY_TAIL_MAX_BYTES) ok = this.f.pagesAreZero(end, size / P)
    if (!ok) this.f.truncatePages(end)
    this.torn = null
    this.knowClean(this.cur, ok ? size : end * P)
  }

  /** Every byte after `c`'s end, up to `size`, is zero: for this handle, and for the process. */
  private knowClean(c: Commit, size: number): void {
    this.clean = { commit: c, size }
    cleanTails.set(this.f.key, { page: c.page, sequence: c.sequence, size })
  }

  /** Pages in the file, all zero after the current commit (valid after prepareWrite). */
  allocatedPages(): number {
    if (this.clean === null || this.clean.commit !== this.cur) throw new Error('internal error: a write without prepareWrite')
    return this.clean.size / this.f.pageSize
  }

  /**
   * Whether every page up to the current commit is known durable (FORMAT.md §8: such a commit
   * may be followed by a one-sync commit). Page 0 is created synced, so an empty file counts.
   */
  durable(): boolean {
    return this.durableCommit === this.cur
  }

  /** After a successful commit by this handle; `synced` when its last fdatasync returned. */
  committed(c: Commit, synced: boolean, pend: PendingState, filePages: number): void {
    this.durableCommit = synced ? c : null
    this.cur = c
    this.pend = pend
    this.pendBase = undefined
    this.torn = null
    this.knowClean(c, filePages * this.f.pageSize)
  }

  /** After a failed commit: the tail after the commit is no longer known to be zeros. */
  commitFailed(): void {
    this.clean = null
    this.torn = null
    cleanTails.delete(this.f.key)
  }

  close(): void {
    cleanTails.delete(this.f.key)
    this.f.release()
  }
}
