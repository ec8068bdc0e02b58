/**
 * The narrow file interface: the only code that touches index files. Tests substitute a Vfs that
 * injects short writes, EIO, ENOSPC and crashes at chosen points.
 */
import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'

export interface FileIdentity {
  dev: number
  ino: number
}

export interface VfsFile {
  /** Reads up to buf.length bytes at `position`; returns how many were read (short at EOF). */
  read(buf: Buffer, position: number): number
  /** Writes all of buf at `position`, or throws. */
  write(buf: Buffer, position: number): void
  datasync(): void
  size(): number
  identity(): FileIdentity
  truncate(length: number): void
  close(): void
}

export interface Vfs {
  /** Opens an existing file for reading, or for reading and writing. Throws ENOENT when absent. */
  open(file: string, writable: boolean): VfsFile
  /** The identity of the file at `file`, or null when there is none. */
  identity(file: string): FileIdentity | null
  /**
   * Creates `file` with exactly `bytes`, atomically: it appears whole or not at all, and never
   * replaces an existing file. Returns false when `file` already exists.
   */
  createExclusive(file: string, bytes: Buffer): boolean
  /** Publishes a complete temporary file at `file` without replacing one; false when it exists. */
  publish(tmp: string, file: string): boolean
  /** Opens (creating if needed) a file used only for locking; returns its descriptor. */
  openLockFile(file: string): number
  remove(file: string): void
}

class NodeFile implements VfsFile {
  private readonly fd: number

  constructor(fd: number) {
    this.fd = fd
  }
  read(buf: Buffer, position: number): number {
    let done = 0
    while (done < buf.length) {
      const n = fs.readSync(this.fd, buf, done, buf.length - done, position + done)
      if (n === 0) break
      done += n
    }
    return done
  }
  write(buf: Buffer, position: number): void {
    let done = 0
    while (done < buf.length) done += fs.writeSync(this.fd, buf, done, buf.length - done, position + done)
  }
  datasync(): void { fs.fdatasyncSync(this.fd) }
  size(): number { return fs.fstatSync(this.fd).size }
  identity(): FileIdentity {
    const s = fs.fstatSync(this.fd)
    return { dev: s.dev, ino: s.ino }
  }
  truncate(length: number): void { fs.ftruncateSync(this.fd, length) }
  close(): void { fs.closeSync(this.fd) }
}

function syncDir(dir: string): void {
  let fd: number | null = null
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Some file systems refuse fsync on directories; the rename/link itself is still atomic.
  } finally {
    if (fd !== null) fs.closeSync(fd)
  }
}

export const nodeVfs: Vfs = {
  open(file, writable) {
    return new NodeFile(fs.openSync(file, writable ? 'r+' : 'r'))
  },
  identity(file) {
    try {
      const s = fs.statSync(file)
      return { dev: s.dev, ino: s.ino }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
  },
  createExclusive(file, bytes) {
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
    const fd = fs.openSync(tmp, 'wx')
    try {
      const f = new NodeFile(fd)
      f.write(bytes, 0)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    return this.publish(tmp, file)
  },
  publish(tmp, file) {
    try {
      fs.linkSync(tmp, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw err
    } finally {
      fs.rmSync(tmp, { force: true })
    }
    syncDir(path.dirname(file))
    return true
  },
  openLockFile(file) {
    return fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o666)
  },
  remove(file) {
    fs.rmSync(file, { force: true })
  },
}
