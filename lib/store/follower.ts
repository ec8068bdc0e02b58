/**
 * Following the tail of an index file: the commit a handle reads, adopting newer commits
 * (whichever process wrote them), switching to a new file when the path was replaced, and, for a
 * writer under the lock, cutting the torn tail a crashed writer left. The only code that changes
 * which file and which commit a handle reads.
 */
import { TailrootError, ioError } from '../errors.ts'
import { COMMIT_SUPERSEDED } from '../format/constants.ts'
import { EMPTY_COMMIT } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'
import { IndexFile } from './file.ts'
import { pendingOf } from './log-chain.ts'
import type { PendingState } from './log-chain.ts'
import { sameFile } from './vfs.ts'
import type { FileIdentity, Vfs } from './vfs.ts'

function isSuperseded(c: Commit): boolean {
  return (c.flags & COMMIT_SUPERSEDED) !== 0
}

/** Files switched to in one prepareWrite before giving up (something replaces the file in a loop). */
const MAX_SWITCHES = 16

export interface FollowerOptions {
  vfs: Vfs
  path: string
  writable: boolean
  cacheBytes: number
  /** Called after the handle switched to a new file at the path. */
  onReplaced?: () => void
}

/** The newest commit of a file, and the file's size and last-page stamp as a look would record them. */
interface Found {
  commit: Commit
  size: number
  stamp: string
}

/** The common header of the last whole page (type, CRC, page number) as a string. */
function lastPageStamp(f: IndexFile, size: number): string {
  const last = Math.floor(size / f.pageSize) - 1
  return last < 1 ? '' : f.readPages(last, 1).toString('latin1', 0, 16)
}

/**
 * Finds the newest commit of a newly opened file. The size and the stamp are taken before the
 * scan, so the first look scans again only when the file changed since (a commit written during
 * the scan changes them), not whenever a torn tail follows the commit.
 */
function findNewest(f: IndexFile): Found {
  const size = f.size()
  const stamp = lastPageStamp(f, size)
  const commit = f.findNewestCommit(0) ?? EMPTY_COMMIT
  return { commit, size, stamp: size > (commit.page + 1) * f.pageSize ? stamp : '' }
}

export class TailFollower {
  private f: IndexFile
  private cur: Commit
  /** The pending changes of `cur`, read on first use (null: not yet). */
  private pend: PendingState | null
  /** An earlier commit of the file whose pending changes `pend` can build on. */
  private pendBase: { commit: Commit; state: PendingState } | undefined
  /** File size at the last look; -1 forces the next look to scan. */
  private knownSize: number
  /** lastPageStamp() at the last look, when the file extended past the commit. */
  private tailStamp = ''
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
    this.knownSize = found.size
    this.tailStamp = found.stamp
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

  private pathIdentity(): FileIdentity | null {
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
    const size = this.f.size()
    const commitEnd = this.commitEnd() * this.f.pageSize
    if (size < commitEnd) {
      // Bytes up to a commit never change, so this file is not the one we knew: start over.
      this.f.cache.clear()
      this.f.commitTally = null
      this.knownSize = size
      this.tailStamp = ''
      const before = this.cur
      this.moveTo(this.f.findNewestCommit(0) ?? EMPTY_COMMIT, true)
      return this.cur !== before
    }
    // A tail after the known commit (torn, or new commits) can be cut and rewritten to the same
    // length, so while there is one, its last page's header is compared too.
    const stamp = size > commitEnd ? this.lastPageStamp(size) : ''
    if (size === this.knownSize && stamp === this.tailStamp) return false
    const c = this.f.findNewestCommit(this.cur.page)
    if (c !== null && c.sequence > this.cur.sequence) {
      if (id === null && isSuperseded(c)) {
        // The file was replaced by a compacted copy, which has this content at the sequence
        // before c's: switch to it without adopting c. A failed switch is tried again next look.
        const now = this.pathIdentity()
        if (now !== null && !sameFile(now, this.f.identity)) {
          this.knownSize = -1
          return this.reopen()
        }
      }
      this.moveTo(c, false)
    }
    // Only once the new commit is adopted: a failure above makes the next look try again.
    this.knownSize = size
    this.tailStamp = stamp
    return this.cur === c
  }

  private lastPageStamp(size: number): string {
    return lastPageStamp(this.f, size)
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
    const commit = found.commit
    this.f = f
    this.cur = commit
    this.pend = null
    this.pendBase = undefined
    this.knownSize = found.size
    this.tailStamp = found.stamp
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
  prepareWrite(): void {
    // After a switch the write lock moves to the new file (onReplaced), and only from then on
    // can no other writer commit there: look again, under that lock.
    for (let round = 0; ; round++) {
      const id = this.pathIdentity()
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
    const end = this.commitEnd()
    // look() left knownSize at the size it just measured.
    if (this.knownSize > end * this.f.pageSize) this.f.truncatePages(end)
    this.knownSize = end * this.f.pageSize
    this.tailStamp = ''
  }

  /**
   * Whether every page up to the current commit is known durable (FORMAT.md §8: such a commit
   * may be followed by a one-sync commit). Page 0 is created synced, so an empty file counts.
   */
  durable(): boolean {
    return this.durableCommit === this.cur
  }

  /** After a successful commit by this handle; `synced` when its last fdatasync returned. */
  committed(c: Commit, synced: boolean, pend: PendingState): void {
    this.durableCommit = synced ? c : null
    this.cur = c
    this.pend = pend
    this.pendBase = undefined
    this.knownSize = (c.page + 1) * this.f.pageSize
    this.tailStamp = ''
  }

  /** After a failed commit: the next look scans the tail whatever its size. */
  commitFailed(): void {
    this.knownSize = -1
  }

  close(): void {
    this.f.release()
  }
}
