/**
 * An in-memory Vfs: index files as Buffers, so fuzz cases open damaged copies of a file without
 * touching the disk. Read-only unless constructed writable; then files can be written, grown,
 * truncated and locked (locks in memory too, one holder per file, as flock).
 */
import type { FileIdentity, Vfs, VfsFile, VfsLock } from '../../lib/index.ts'

function refused(what: string): Error {
  return Object.assign(new Error(`memory vfs: ${what} refused (read-only)`), { code: 'EROFS' })
}

interface Entry { bytes: Buffer; length: number; id: FileIdentity }

class MemFile implements VfsFile {
  private readonly e: Entry
  private readonly writable: boolean
  private closed = false

  constructor(e: Entry, writable: boolean) {
    this.e = e
    this.writable = writable
  }

  private check(): void {
    if (this.closed) throw Object.assign(new Error('EBADF: file closed'), { code: 'EBADF' })
  }
  read(buf: Buffer, position: number): number {
    this.check()
    if (position >= this.e.length) return 0
    return this.e.bytes.copy(buf, 0, position, Math.min(this.e.length, position + buf.length))
  }
  write(buf: Buffer, position: number): void {
    this.check()
    if (!this.writable) throw refused('write')
    const end = position + buf.length
    if (end > this.e.bytes.length) {
      const grown = Buffer.alloc(Math.max(end, this.e.bytes.length * 2))
      this.e.bytes.copy(grown, 0, 0, this.e.length)
      this.e.bytes = grown
    }
    if (position > this.e.length) this.e.bytes.fill(0, this.e.length, position)
    buf.copy(this.e.bytes, position)
    this.e.length = Math.max(this.e.length, end)
  }
  datasync(): void { this.check(); if (!this.writable) throw refused('datasync') }
  async datasyncAsync(): Promise<void> { this.datasync() }
  size(): number { this.check(); return this.e.length }
  identity(): FileIdentity { return this.e.id }
  truncate(length: number): void {
    this.check()
    if (!this.writable) throw refused('truncate')
    if (length > this.e.length) this.e.bytes = Buffer.concat([this.e.bytes.subarray(0, this.e.length), Buffer.alloc(length - this.e.length)])
    this.e.length = length
  }
  close(): void { this.closed = true }
}

/** An open for locking: holds the lock of its file (entry) or not; replacing the file makes a new entry. */
class MemLock implements VfsLock {
  private readonly e: Entry
  private readonly holders: WeakMap<Entry, MemLock>
  private closed = false

  constructor(e: Entry, holders: WeakMap<Entry, MemLock>) {
    this.e = e
    this.holders = holders
  }

  private check(): void {
    if (this.closed) throw Object.assign(new Error('EBADF: lock file closed'), { code: 'EBADF' })
  }
  tryLock(): boolean {
    this.check()
    const h = this.holders.get(this.e)
    if (h !== undefined && h !== this) return false
    this.holders.set(this.e, this)
    return true
  }
  unlock(): void {
    this.check()
    if (this.holders.get(this.e) === this) this.holders.delete(this.e)
  }
  identity(): FileIdentity { this.check(); return this.e.id }
  close(): void {
    if (this.closed) return
    if (this.holders.get(this.e) === this) this.holders.delete(this.e)
    this.closed = true
  }
}

export class MemVfs implements Vfs {
  private readonly files = new Map<string, Entry>()
  private nextIno = 1
  private readonly writable: boolean
  /** Which open holds each file's lock. */
  private readonly holders = new WeakMap<Entry, MemLock>()

  /** `writable` may also be a string (the lock file name older callers pass): writable. */
  constructor(writable: boolean | string | null = false) {
    this.writable = writable !== false && writable !== null
  }

  /** Adds (or replaces, as a new inode) a file holding a copy of `bytes`. */
  set(file: string, bytes: Buffer): void {
    this.files.set(file, { bytes: Buffer.from(bytes), length: bytes.length, id: { dev: 1, ino: this.nextIno++ } })
  }

  /** The current contents of a file. */
  get(file: string): Buffer {
    const e = this.files.get(file)
    if (!e) throw new Error(`memory vfs: no file ${file}`)
    return Buffer.from(e.bytes.subarray(0, e.length))
  }

  open(file: string, writable: boolean): VfsFile {
    if (writable && !this.writable) throw refused('opening for writing')
    const e = this.files.get(file)
    if (!e) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' })
    return new MemFile(e, writable)
  }
  identity(file: string): FileIdentity | null { return this.files.get(file)?.id ?? null }
  createExclusive(): boolean { throw refused('create') }
  publish(): boolean { throw refused('publish') }
  openLock(file: string, create: boolean): VfsLock {
    if (!this.writable) throw refused('lock')
    let e = this.files.get(file)
    if (!e) {
      if (!create) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' })
      this.set(file, Buffer.alloc(0))
      e = this.files.get(file)!
    }
    return new MemLock(e, this.holders)
  }
  remove(): void { throw refused('remove') }
  replace(): void { throw refused('rename') }
  list(): string[] { throw refused('readdir') }
}
