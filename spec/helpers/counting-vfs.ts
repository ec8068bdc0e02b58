/**
 * A Vfs over node:fs that counts the calls of the files it opens (reads, bytes read, sizes,
 * writes, identities) and the stats of paths; namedBy answers as node:fs's does.
 */
import type { FileIdentity, Vfs, VfsFile, VfsLock } from '../../lib/index.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'

export class CountingVfs implements Vfs {
  reads = 0
  readBytes = 0
  sizes = 0
  writes = 0
  /** identity() of an open file or lock (an fstat). */
  fileIdentities = 0
  /** identity(path) calls (a stat of the path), by path. */
  readonly pathStats = new Map<string, number>()
  reset(): void {
    this.reads = 0; this.readBytes = 0; this.sizes = 0; this.writes = 0; this.fileIdentities = 0
    this.pathStats.clear()
  }
  /** Stats of `file` (by path) since the last reset. */
  statsOf(file: string): number { return this.pathStats.get(file) ?? 0 }
  open(file: string, writable: boolean): VfsFile {
    const inner = nodeVfs.open(file, writable)
    const self = this
    return {
      read(buf: Buffer, position: number): number { self.reads++; self.readBytes += buf.length; return inner.read(buf, position) },
      write(buf: Buffer, position: number): void { self.writes++; inner.write(buf, position) },
      datasync(): void { inner.datasync() },
      datasyncAsync(): Promise<void> { return inner.datasyncAsync!() },
      size(): number { self.sizes++; return inner.size() },
      identity(): FileIdentity { self.fileIdentities++; return inner.identity() },
      namedBy(f: string): boolean { return inner.namedBy!(f) },
      truncate(length: number): void { inner.truncate(length) },
      close(): void { inner.close() },
    }
  }
  identity(file: string): FileIdentity | null {
    this.pathStats.set(file, this.statsOf(file) + 1)
    return nodeVfs.identity(file)
  }
  createExclusive(file: string, bytes: Buffer): boolean { return nodeVfs.createExclusive(file, bytes) }
  publish(tmp: string, file: string): boolean { return nodeVfs.publish(tmp, file) }
  openLock(file: string, create: boolean): VfsLock {
    const inner = nodeVfs.openLock(file, create)
    const self = this
    return {
      tryLock: () => inner.tryLock(),
      unlock: () => inner.unlock(),
      identity(): FileIdentity { self.fileIdentities++; return inner.identity() },
      namedBy: (f: string) => inner.namedBy!(f),
      close: () => inner.close(),
    }
  }
  remove(file: string): void { nodeVfs.remove(file) }
  replace(tmp: string, file: string): void { nodeVfs.replace(tmp, file) }
  list(dir: string): string[] { return nodeVfs.list(dir) }
}
