/**
 * The write lock: an exclusive flock on the sidecar `<file>.lock` (FORMAT.md §9). flock belongs
 * to the open file description, so two handles in one process exclude each other like two
 * processes do.
 */
import fs from 'node:fs'
import { flockSync } from 'fs-ext'
import { TailrootError, ioError } from '../errors.ts'
import type { Vfs } from './vfs.ts'

const sleeper = new Int32Array(new SharedArrayBuffer(4))

function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms)
}

export class WriteLock {
  private fd: number | null = null
  private held = false

  private readonly vfs: Vfs
  readonly lockPath: string
  private readonly indexPath: string

  constructor(vfs: Vfs, lockPath: string, indexPath: string) {
    this.vfs = vfs
    this.lockPath = lockPath
    this.indexPath = indexPath
  }

  get isHeld(): boolean { return this.held }

  /** Takes the lock, retrying with backoff; throws LOCKED after `timeoutMs`. */
  acquire(timeoutMs: number): void {
    if (this.held) throw new Error('internal error: write lock taken twice')
    if (this.fd === null) {
      try { this.fd = this.vfs.openLockFile(this.lockPath) } catch (err) { throw ioError(this.lockPath, 'opening the lock file', err) }
    }
    const start = Date.now()
    let backoff = 1
    for (;;) {
      try {
        flockSync(this.fd, 'exnb')
        this.held = true
        return
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw ioError(this.lockPath, 'locking', err)
      }
      const waited = Date.now() - start
      if (waited >= timeoutMs) {
        throw new TailrootError('LOCKED', `${this.indexPath}: another writer holds the write lock (${this.lockPath}); gave up after ${waited} ms (lockTimeoutMs ${timeoutMs})`, { path: this.indexPath })
      }
      sleepMs(Math.min(backoff, timeoutMs - waited))
      backoff = Math.min(backoff * 2, 20)
    }
  }

  release(): void {
    if (!this.held || this.fd === null) return
    this.held = false
    try { flockSync(this.fd, 'un') } catch { /* closing the descriptor releases it too */ }
  }

  close(): void {
    this.release()
    if (this.fd !== null) {
      try { fs.closeSync(this.fd) } catch { /* already closed */ }
      this.fd = null
    }
  }
}
