/**
 * The write lock: an exclusive flock on the sidecar `<file>.lock` (FORMAT.md §9). flock belongs
 * to the open file description, so two handles in one process exclude each other as two
 * processes do.
 *
 * Fairness: a writer that commits in a tight loop releases the lock and at once asks for it
 * again, so a waiter that merely polls would lose almost every time. Writers therefore pass a
 * turnstile first: an exclusive flock on the index file itself (the gate), held only from before
 * asking for the lock until the lock is held. A waiter takes the gate while the lock holder
 * works (the holder released it already); when the holder comes back for the next commit, it
 * finds the gate taken and must wait until the waiter has the lock. Contending writers thus
 * alternate. The gate is only about fairness: mutual exclusion is the lock's alone.
 */
import fs from 'node:fs'
import { flockSync } from 'fs-ext'
import { TailrootError, ioError } from '../errors.ts'
import type { Vfs } from './vfs.ts'

const sleeper = new Int32Array(new SharedArrayBuffer(4))

function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms)
}

/** Longest pause between two attempts, in milliseconds. */
const MAX_BACKOFF_MS = 8

function tryFlock(fd: number, path: string): boolean {
  try {
    flockSync(fd, 'exnb')
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false
    throw ioError(path, 'flock', err)
  }
}

function unlock(fd: number | null): void {
  if (fd === null) return
  try { flockSync(fd, 'un') } catch { /* closing the descriptor releases it too */ }
}

function closeFd(fd: number | null): void {
  if (fd === null) return
  try { fs.closeSync(fd) } catch { /* already closed */ }
}

export class WriteLock {
  private readonly vfs: Vfs
  readonly lockPath: string
  private readonly indexPath: string
  private fd: number | null = null
  private gateFd: number | null = null
  private held = false

  constructor(vfs: Vfs, lockPath: string, indexPath: string) {
    this.vfs = vfs
    this.lockPath = lockPath
    this.indexPath = indexPath
  }

  /**
   * Takes the lock, passing the gate first; throws LOCKED once `timeoutMs` have passed. A handle
   * waiting for a lock that another handle of its own thread holds can only time out: every
   * call is synchronous, so the holder cannot run until the waiter gives up.
   */
  acquire(timeoutMs: number): void {
    if (this.held) throw new Error('internal error: write lock taken twice')
    if (this.fd === null) {
      try { this.fd = this.vfs.openLockFile(this.lockPath) } catch (err) { throw ioError(this.lockPath, 'opening the lock file', err) }
    }
    if (this.gateFd === null) {
      try { this.gateFd = fs.openSync(this.indexPath, 'r') } catch { this.gateFd = null }
    }
    const start = Date.now()
    let gate = this.gateFd === null
    let backoff = 0.25
    try {
      for (;;) {
        if (!gate) gate = tryFlock(this.gateFd!, this.indexPath)
        if (gate && tryFlock(this.fd, this.lockPath)) {
          this.held = true
          return
        }
        const waited = Date.now() - start
        if (waited >= timeoutMs) {
          throw new TailrootError('LOCKED', `${this.indexPath}: another writer holds the write lock (${this.lockPath}); gave up after waiting ${waited} ms (lockTimeoutMs ${timeoutMs})`, { path: this.indexPath })
        }
        sleepMs(Math.min(Math.ceil(backoff), timeoutMs - waited))
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    } finally {
      if (gate && this.gateFd !== null) unlock(this.gateFd)
    }
  }

  /** The index file at the path was replaced: take the gate on the new one from now on. */
  resetGate(): void {
    closeFd(this.gateFd)
    this.gateFd = null
  }

  release(): void {
    if (!this.held || this.fd === null) return
    this.held = false
    unlock(this.fd)
  }

  close(): void {
    this.release()
    closeFd(this.fd)
    closeFd(this.gateFd)
    this.fd = null
    this.gateFd = null
  }
}
