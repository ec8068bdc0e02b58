/**
 * The write lock (FORMAT.md §9): an exclusive flock on the index file itself, held from before a
 * writer adopts the newest commit until its commit is done. flock belongs to the open file
 * description, so two handles in one process exclude each other as two processes do.
 *
 * Why the index file and not the sidecar `<file>.lock`: anyone can delete, replace or rename the
 * sidecar (a "stale lock" cleanup, a restore, rsync) while a writer holds it, and a writer that
 * comes later then locks a new sidecar while the first is still committing. Checking after flock
 * that the path still names the locked file only catches changes made before the check. The
 * index file cannot be replaced that way without losing data anyway, and a writer checks it the
 * same way: after every flock the locked file must be the one the path names, else it locks the
 * file the path names now.
 *
 * Fairness: a writer that commits in a tight loop releases the lock and at once asks for it
 * again, so a waiter that merely polls would lose almost every time. Writers therefore pass a
 * turnstile first: an exclusive flock on the sidecar, held only from before asking for the lock
 * until the lock is held. A waiter takes the turnstile while the lock holder works (the holder
 * released it already); when the holder comes back for the next commit, it finds the turnstile
 * taken and must wait until the waiter has the lock. Contending writers thus alternate. A
 * replaced sidecar can only cost a turn, never exclusion. Only when the index path names no file
 * (the handle then refuses to write) does a writer keep the turnstile too, so that even then no
 * two writers get past acquire() together.
 *
 * Waiting: acquire() sleeps the thread between attempts (Atomics.wait); acquireAsync(), used by
 * asynchronous group commits, makes the same attempts with timers between them, so the event
 * loop runs while it waits, and an AbortSignal can end the wait.
 */
import { TailrootError, ioError } from '../errors.ts'
import { sameFile } from './vfs.ts'
import type { FileIdentity, Vfs, VfsLock } from './vfs.ts'

const sleeper = new Int32Array(new SharedArrayBuffer(4))

function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms)
}

/** Waits `ms` milliseconds on a timer; rejects with the signal's reason when it aborts first. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    const timer = setTimeout(done, Math.max(0, ms))
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Longest pause between two attempts, in milliseconds. */
const MAX_BACKOFF_MS = 8

/**
 * How many times one attempt reopens a path that keeps naming another file before it counts as
 * a failed attempt (and waits): bounds the work when something replaces the file in a loop.
 */
const MAX_REOPENS_PER_ATTEMPT = 16

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

/** The outcome of one attempt: locked the file the path names, another open holds it, or the path names no file. */
type Attempt = 'locked' | 'busy' | 'missing'

/**
 * An exclusive flock on whatever file a path names: after every flock (and every refusal) the
 * open is compared with a fresh stat of the path, and reopened when the path names another file.
 */
class PathLock {
  private readonly vfs: Vfs
  readonly path: string
  /** The sidecar is created when missing; the index file never is. */
  private readonly create: boolean
  /** The open file and its identity (a descriptor's identity never changes). */
  private open: { lock: VfsLock; id: FileIdentity } | null = null
  private locked = false
  /** The last attempt locked the open file and found the path naming it. */
  private lockedOnPath = false

  constructor(vfs: Vfs, path: string, create: boolean) {
    this.vfs = vfs
    this.path = path
    this.create = create
  }

  get held(): boolean { return this.locked }

  /** While held: the file locked, when the attempt that locked it found the path naming it. */
  get lockedPathFile(): FileIdentity | null {
    return this.locked && this.lockedOnPath && this.open !== null ? this.open.id : null
  }

  private pathIdentity(): FileIdentity | null {
    try { return this.vfs.identity(this.path) } catch (err) { throw ioError(this.path, 'stat', err) }
  }

  /**
   * One attempt. 'missing' (index file only) leaves an open file, which the path no longer
   * names, locked if it could be: another handle of that file may still be writing it.
   */
  attempt(): Attempt {
    const a = this.attemptOnce()
    this.lockedOnPath = a === 'locked'
    return a
  }

  private attemptOnce(): Attempt {
    for (let reopens = 0; ; reopens++) {
      if (this.open === null) {
        let lock: VfsLock | null = null
        try {
          lock = this.vfs.openLock(this.path, this.create)
          this.open = { lock, id: lock.identity() }
        } catch (err) {
          if (lock !== null) try { lock.close() } catch { /* already closed */ }
          if (!this.create && errorCode(err) === 'ENOENT') return 'missing'
          throw ioError(this.path, 'opening for locking', err)
        }
      }
      const open = this.open
      let got: boolean
      try { got = open.lock.tryLock() } catch (err) { throw ioError(this.path, 'flock', err) }
      if (got) this.locked = true
      // The index file without a stat when the open can tell (vfs.ts, namedBy: a stat would slow
      // the commit's fdatasync); the sidecar, never written, with the cheaper stat.
      if (!this.create && open.lock.namedBy?.(this.path) === true) return got ? 'locked' : 'busy'
      const now = this.pathIdentity()
      if (now !== null && sameFile(now, open.id)) return got ? 'locked' : 'busy'
      if (now === null && !this.create) return got ? 'missing' : 'busy'
      // The path names another file (or, for the sidecar, none): that one is the lock now.
      this.drop()
      if (reopens >= MAX_REOPENS_PER_ATTEMPT) return 'busy'
    }
  }

  /** Whether the lock is held on the file the path names now. */
  heldOnPathFile(): boolean {
    if (!this.locked || this.open === null) return false
    if (this.open.lock.namedBy?.(this.path) === true) return true
    const now = this.pathIdentity()
    return now !== null && sameFile(now, this.open.id)
  }

  release(): void {
    if (!this.locked || this.open === null) return
    this.locked = false
    try {
      this.open.lock.unlock()
    } catch {
      // Closing the file releases the lock too.
      this.drop()
    }
  }

  /** Releases the lock and closes the file; the next attempt opens the path anew. */
  drop(): void {
    const open = this.open
    this.open = null
    this.locked = false
    if (open !== null) try { open.lock.close() } catch { /* already closed */ }
  }
}

/**
 * The file at the index path was replaced while a writer held the lock on the old one, and
 * another writer holds the new file's lock: the writer holds no lock now (see withoutBlocking).
 */
export class LockMovedError extends TailrootError {
  constructor(indexPath: string) {
    super('LOCKED', `${indexPath}: the file at the path was replaced while this writer held the write lock, and another writer holds the new file's lock`, { path: indexPath })
  }
}

export class WriteLock {
  readonly lockPath: string
  private readonly indexPath: string
  /** The sidecar, for fairness (and for exclusion only while the index path names no file). */
  private readonly turnstile: PathLock
  /** The index file: mutual exclusion. */
  private readonly lock: PathLock
  private held = false
  /** The timeout of the last acquire(), for taking the lock again on a replaced file. */
  private timeoutMs = 0
  /** Inside withoutBlocking(): resetGate() makes one attempt instead of waiting. */
  private nonBlocking = false

  constructor(vfs: Vfs, lockPath: string, indexPath: string) {
    this.lockPath = lockPath
    this.indexPath = indexPath
    this.turnstile = new PathLock(vfs, lockPath, true)
    this.lock = new PathLock(vfs, indexPath, false)
  }

  /**
   * Takes the lock, passing the turnstile first; throws LOCKED once `timeoutMs` have passed. A
   * handle waiting for a lock that another handle of its own thread holds can only time out:
   * every call is synchronous, so the holder cannot run until the waiter gives up.
   */
  acquire(timeoutMs: number): void {
    this.start(timeoutMs)
    const start = Date.now()
    let backoff = 0.25
    try {
      for (;;) {
        if (this.attempt()) return
        const waited = this.checkWait(start, timeoutMs)
        sleepMs(Math.min(Math.ceil(backoff), timeoutMs - waited))
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    } finally {
      this.unlessHeld()
    }
  }

  /**
   * acquire() without blocking the thread: the same attempts (and turnstile), with timers
   * between them. Rejects with LOCKED after `timeoutMs`, or with the reason of `signal` once it
   * aborts. A handle must not use the lock for anything else until the promise settles.
   */
  async acquireAsync(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.start(timeoutMs)
    const start = Date.now()
    let backoff = 1
    try {
      for (;;) {
        signal?.throwIfAborted()
        if (this.attempt()) return
        const waited = this.checkWait(start, timeoutMs)
        await delay(Math.min(backoff, timeoutMs - waited), signal)
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    } finally {
      this.unlessHeld()
    }
  }

  private start(timeoutMs: number): void {
    if (this.held) throw new Error('internal error: write lock taken twice')
    this.timeoutMs = timeoutMs
  }

  /** One attempt: the turnstile, then the lock. True when the lock is held now. */
  private attempt(): boolean {
    if (this.turnstile.held || this.turnstile.attempt() === 'locked') {
      const got = this.lock.attempt()
      if (got !== 'busy') {
        this.held = true
        if (got === 'locked') this.turnstile.release()
        return true
      }
    }
    return false
  }

  /** The milliseconds waited since `start`; LOCKED once they reach the timeout. */
  private checkWait(start: number, timeoutMs: number): number {
    const waited = Date.now() - start
    if (waited >= timeoutMs) {
      throw new TailrootError('LOCKED', `${this.indexPath}: another writer holds the write lock; gave up after waiting ${waited} ms (lockTimeoutMs ${timeoutMs})`, { path: this.indexPath })
    }
    return waited
  }

  /** After a wait that did not end with the lock: give back whatever it held. */
  private unlessHeld(): void {
    if (!this.held) {
      this.turnstile.release()
      this.lock.release()
    }
  }

  /**
   * The handle switched to a new file at the index path. Not holding the lock: the next acquire
   * locks the new file. Holding it: the handle is about to write the new file, so the lock moves
   * to it first (waiting for its holder, if any, up to the last timeout; LOCKED after that).
   */
  resetGate(): void {
    if (!this.held) {
      this.lock.drop()
      return
    }
    if (this.lock.heldOnPathFile()) return
    this.release()
    this.lock.drop()
    if (!this.nonBlocking) {
      this.acquire(this.timeoutMs)
      return
    }
    this.start(this.timeoutMs)
    try {
      if (this.attempt()) return
    } finally {
      this.unlessHeld()
    }
    throw new LockMovedError(this.indexPath)
  }

  /**
   * Runs `fn` (a look under the lock) so that a resetGate() it causes never waits: when the
   * replaced file's lock is busy, resetGate() leaves the lock released and throws
   * LockMovedError, and the asynchronous caller waits for it again on timers.
   */
  withoutBlocking<T>(fn: () => T): T {
    this.nonBlocking = true
    try {
      return fn()
    } finally {
      this.nonBlocking = false
    }
  }

  /**
   * While the lock is held: the file it is held on, which the path named when the lock was
   * taken (checked after the flock). null when no file is locked (the path named none).
   */
  lockedFile(): FileIdentity | null {
    return this.held ? this.lock.lockedPathFile : null
  }

  release(): void {
    if (!this.held) return
    this.held = false
    this.lock.release()
    this.turnstile.release()
  }

  close(): void {
    this.release()
    this.lock.drop()
    this.turnstile.drop()
  }
}
