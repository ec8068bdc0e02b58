/**
 * The narrow file interface: the only code that touches index files. Tests substitute a Vfs that
 * injects short writes, EIO, ENOSPC and crashes at chosen points.
 */
import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { flockSync } from 'fs-ext'

export interface FileIdentity {
  dev: number
  ino: number
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino
}

export interface VfsFile {
  /** Reads up to buf.length bytes at `position`; returns how many were read (short at EOF). */
  read(buf: Buffer, position: number): number
  /** Writes all of buf at `position`, or throws. */
  write(buf: Buffer, position: number): void
  datasync(): void
  /**
   * datasync() without blocking the calling thread (node: fdatasync on libuv's thread pool).
   * Optional: a Vfs without it has datasync() called instead, which blocks.
   */
  datasyncAsync?(): Promise<void>
  size(): number
  identity(): FileIdentity
  /**
   * Optional: true when the path `file` is known, without a stat of the file, to name this open
   * file now; false when that is not known this way (the caller then stats the path).
   */
  namedBy?(file: string): boolean
  truncate(length: number): void
  close(): void
}

/**
 * An open file used only for locking: an exclusive flock, which belongs to this open (the open
 * file description), so two opens in one process exclude each other as two processes do.
 */
export interface VfsLock {
  /** Takes the exclusive lock without waiting; false when another open of the file holds it. */
  tryLock(): boolean
  /** Releases the lock; closing releases it too. */
  unlock(): void
  /** The identity of the open file, to compare with the file the path names now. */
  identity(): FileIdentity
  /** As VfsFile.namedBy. */
  namedBy?(file: string): boolean
  /** Closes the file (releasing the lock). */
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
  /**
   * Opens `file` for locking only. It is opened read-only (flock needs no write access, so a
   * process that may not write the file can still lock it); with `create`, a missing file is
   * created (mode 0o666 less the umask), else a missing file throws ENOENT.
   */
  openLock(file: string, create: boolean): VfsLock
  remove(file: string): void
  /**
   * Renames the complete file `tmp` over `file` (replacing it atomically), with the directory
   * fsynced before and after, so the rename is durable when it returns.
   */
  replace(tmp: string, file: string): void
  /** The names of the entries of a directory. */
  list(dir: string): string[]
}

/**
 * Linux: the link /proc/self/fd/<fd> reads as the path the kernel has for an open file now,
 * followed by " (deleted)" once that name is unlinked, and changes when the file or a directory
 * above it is renamed. When it equals the absolute form of `file`, the path names the open file:
 * every component is the name of a directory on the open file's own chain (a symbolic link
 * would not appear there). That answers "does the path still name this file?" without a stat of
 * it, which matters to writers: on Linux 6.13 and later a stat (or fstat) of a file asks the
 * kernel for fine-grained timestamps at the next write, and that write's fdatasync then commits
 * the inode too (measured here: 4 KiB overwrite + fdatasync ~90 µs, ~130 µs after a stat).
 * Any other answer (no /proc, another path, a symbolic link in `file`) is "not known": the caller
 * stats the path as before. The one case this misses is a file system mounted over a directory
 * of the path after the file was opened.
 */
const PROC_FD = process.platform === 'linux' ? '/proc/self/fd/' : null

function fdNamedBy(fd: number, file: string): boolean {
  if (PROC_FD === null) return false
  try {
    return fs.readlinkSync(PROC_FD + fd) === path.resolve(file)
  } catch {
    return false
  }
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
  datasyncAsync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(this.fd, err => (err ? reject(err) : resolve())))
  }
  size(): number { return fs.fstatSync(this.fd).size }
  identity(): FileIdentity {
    const s = fs.fstatSync(this.fd)
    return { dev: s.dev, ino: s.ino }
  }
  namedBy(file: string): boolean { return fdNamedBy(this.fd, file) }
  truncate(length: number): void { fs.ftruncateSync(this.fd, length) }
  close(): void { fs.closeSync(this.fd) }
}

class NodeLock implements VfsLock {
  private readonly fd: number

  constructor(fd: number) {
    this.fd = fd
  }
  tryLock(): boolean {
    try {
      flockSync(this.fd, 'exnb')
      return true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false
      throw err
    }
  }
  unlock(): void { flockSync(this.fd, 'un') }
  identity(): FileIdentity {
    const s = fs.fstatSync(this.fd)
    return { dev: s.dev, ino: s.ino }
  }
  namedBy(file: string): boolean { return fdNamedBy(this.fd, file) }
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
      try {
        new NodeFile(fd).write(bytes, 0)
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
    } catch (err) {
      // A full disk or a file size limit: leave no temporary file behind.
      fs.rmSync(tmp, { force: true })
      throw err
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
  openLock(file, create) {
    return new NodeLock(fs.openSync(file, fs.constants.O_RDONLY | (create ? fs.constants.O_CREAT : 0), 0o666))
  },
  remove(file) {
    fs.rmSync(file, { force: true })
  },
  replace(tmp, file) {
    const dir = path.dirname(file)
    syncDir(dir)
    fs.renameSync(tmp, file)
    syncDir(dir)
  },
  list(dir) {
    return fs.readdirSync(dir)
  },
}
