/**
 * A Vfs whose asynchronous syncs can be held: while held, each datasyncAsync waits for release()
 * before it syncs, so a test can act while a group commit is in flight (its pages and commit page
 * written, its sync not returned). Counts the syncs (blocking and asynchronous) started.
 */
import type { FileIdentity, Vfs, VfsFile, VfsLock } from '../../lib/index.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'

export class GatedVfs implements Vfs {
  readonly inner: Vfs
  asyncSyncs = 0
  blockingSyncs = 0
  private gate: Promise<void> | null = null
  private open_: (() => void) | null = null
  private watchers: { n: number; resolve: () => void }[] = []

  constructor(inner: Vfs = nodeVfs) {
    this.inner = inner
  }

  /** From now on, asynchronous syncs wait until release(). */
  hold(): void {
    if (this.gate !== null) return
    this.gate = new Promise(resolve => { this.open_ = resolve })
  }

  release(): void {
    this.open_?.()
    this.gate = null
    this.open_ = null
  }

  /** Resolves once `n` asynchronous syncs have started (counted since construction). */
  syncStarted(n: number): Promise<void> {
    if (this.asyncSyncs >= n) return Promise.resolve()
    return new Promise(resolve => this.watchers.push({ n, resolve }))
  }

  /** Called by a file when an asynchronous sync starts; returns the gate to wait for, if any. */
  started(): Promise<void> | null {
    this.asyncSyncs++
    for (const w of this.watchers.filter(w => w.n <= this.asyncSyncs)) {
      this.watchers.splice(this.watchers.indexOf(w), 1)
      w.resolve()
    }
    return this.gate
  }

  open(file: string, writable: boolean): VfsFile { return new GatedFile(this, this.inner.open(file, writable)) }
  identity(file: string): FileIdentity | null { return this.inner.identity(file) }
  createExclusive(file: string, bytes: Buffer): boolean { return this.inner.createExclusive(file, bytes) }
  publish(tmp: string, file: string): boolean { return this.inner.publish(tmp, file) }
  openLock(file: string, create: boolean): VfsLock { return this.inner.openLock(file, create) }
  remove(file: string): void { this.inner.remove(file) }
  replace(tmp: string, file: string): void { this.inner.replace(tmp, file) }
  list(dir: string): string[] { return this.inner.list(dir) }
}

class GatedFile implements VfsFile {
  private readonly vfs: GatedVfs
  private readonly inner: VfsFile

  constructor(vfs: GatedVfs, inner: VfsFile) {
    this.vfs = vfs
    this.inner = inner
  }

  read(buf: Buffer, position: number): number { return this.inner.read(buf, position) }
  write(buf: Buffer, position: number): void { this.inner.write(buf, position) }
  datasync(): void {
    this.vfs.blockingSyncs++
    this.inner.datasync()
  }
  async datasyncAsync(): Promise<void> {
    const gate = this.vfs.started()
    if (gate !== null) await gate
    if (this.inner.datasyncAsync !== undefined) await this.inner.datasyncAsync()
    else this.inner.datasync()
  }
  size(): number { return this.inner.size() }
  identity(): FileIdentity { return this.inner.identity() }
  truncate(length: number): void { this.inner.truncate(length) }
  close(): void { this.inner.close() }
}
