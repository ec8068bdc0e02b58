/**
 * An open index file: its header, page reads with every check (CRC, page number, type, level,
 * bounds), the node cache, the tail scan and appends. Reference-counted, so snapshots keep
 * reading a file that their Index has since replaced.
 */
import { crc32c } from '@node-rs/crc32'
import { PAGE_COMMIT, OFF_TYPE, OFF_PAGE_NO, COMMIT_DATA_SYNCED, MAX_PAGE_NO } from '../format/constants.ts'
import { decodeCommit } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'
import { decodeHeader, isHeaderProblem } from '../format/header.ts'
import type { FileHeader } from '../format/header.ts'
import { decodeNode, encodeNode } from '../format/node.ts'
import type { TreeNode } from '../format/node.ts'
import { DecodeError, crcMatches } from '../format/page.ts'
import { TailrootError, corrupt, ioError } from '../errors.ts'
import type { ChildRef } from '../tree/pack.ts'
import type { NodeSource } from '../tree/source.ts'
import { NodeCache } from './cache.ts'
import type { FileIdentity, Vfs, VfsFile } from './vfs.ts'

/** Pages read at once while scanning backwards for a commit. */
const SCAN_CHUNK_PAGES = 64

export class IndexFile implements NodeSource {
  readonly pageSize: number
  readonly cache: NodeCache
  private refs = 1
  reads = 0

  readonly path: string
  readonly file: VfsFile
  readonly header: FileHeader
  readonly identity: FileIdentity

  private constructor(path: string, file: VfsFile, header: FileHeader, identity: FileIdentity, cacheBytes: number) {
    this.path = path
    this.file = file
    this.header = header
    this.identity = identity
    this.pageSize = header.pageSize
    this.cache = new NodeCache(cacheBytes)
  }

  /** Opens and checks the header; NOT_FOUND, NOT_AN_INDEX, VERSION or CORRUPT otherwise. */
  static open(vfs: Vfs, path: string, writable: boolean, cacheBytes: number): IndexFile {
    let file: VfsFile
    try {
      file = vfs.open(path, writable)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new TailrootError('NOT_FOUND', `${path}: no such index file`, { path })
      throw ioError(path, 'opening', err)
    }
    try {
      const head = Buffer.alloc(65536)
      const n = file.read(head, 0)
      const h = decodeHeader(head.subarray(0, n))
      if (isHeaderProblem(h)) throw new TailrootError(h.code, `${path}: ${h.message}`, { path, ...(h.code === 'CORRUPT' ? { page: 0 } : {}) })
      return new IndexFile(path, file, h, file.identity(), cacheBytes)
    } catch (err) {
      file.close()
      throw ioError(path, 'reading the header', err)
    }
  }

  retain(): this { this.refs++; return this }

  release(): void {
    if (--this.refs === 0) {
      this.cache.clear()
      try { this.file.close() } catch { /* nothing left to lose */ }
    }
  }

  size(): number {
    try { return this.file.size() } catch (err) { throw ioError(this.path, 'stat', err) }
  }

  /** Whole pages in the file. */
  pageCount(): number {
    return Math.floor(this.size() / this.pageSize)
  }

  readPages(first: number, count: number): Buffer {
    if (this.refs <= 0) throw new TailrootError('CLOSED', `${this.path}: the index is closed (an iterator or view outlived it)`, { path: this.path })
    const buf = Buffer.allocUnsafe(count * this.pageSize)
    let n: number
    try { n = this.file.read(buf, first * this.pageSize) } catch (err) { throw ioError(this.path, `reading page ${first}`, err) }
    this.reads += count
    return n === buf.length ? buf : buf.subarray(0, Math.floor(n / this.pageSize) * this.pageSize)
  }

  /** Reads a page and checks its CRC and page number. */
  readCheckedPage(page: number): Buffer {
    const buf = this.readPages(page, 1)
    if (buf.length < this.pageSize) throw corrupt(this.path, page, 'lies beyond the end of the file')
    if (!crcMatches(buf)) throw corrupt(this.path, page, 'checksum mismatch')
    if (buf.readUInt32LE(OFF_PAGE_NO) !== page) throw corrupt(this.path, page, `claims to be page ${buf.readUInt32LE(OFF_PAGE_NO)}`)
    return buf
  }

  /** Reads and decodes the node at `page`, which must be at `level`; cached. */
  node(page: number, level: number): TreeNode {
    let n = this.cache.get(page)
    if (n === undefined) {
      const buf = this.readCheckedPage(page)
      try {
        n = decodeNode(buf)
      } catch (err) {
        if (err instanceof DecodeError) throw corrupt(this.path, page, err.message)
        throw err
      }
      this.cache.set(page, n)
    }
    if (n.level !== level) throw corrupt(this.path, page, `is a node at level ${n.level} where level ${level} was expected`)
    return n
  }

  load(ref: ChildRef, level: number): TreeNode {
    return typeof ref === 'number' ? this.node(ref, level) : ref
  }

  /**
   * Scans backwards from the last whole page for the newest valid commit above page `floor`
   * (exclusive). Returns null when there is none. FORMAT.md §8. Commit pages that are whole but
   * whose data pages fail the data checksum are skipped, and listed in `rejected` when given.
   */
  findNewestCommit(floor: number, endPage = this.pageCount(), rejected?: Commit[]): Commit | null {
    let hi = endPage
    while (hi > floor + 1) {
      const lo = Math.max(floor + 1, hi - SCAN_CHUNK_PAGES)
      const chunk = this.readPages(lo, hi - lo)
      for (let p = lo + Math.floor(chunk.length / this.pageSize) - 1; p >= lo; p--) {
        const off = (p - lo) * this.pageSize
        if (chunk[off + OFF_TYPE] !== PAGE_COMMIT) continue
        const c = decodeCommit(chunk.subarray(off, off + this.pageSize), p, this.header.fileId)
        if (c && (c.flags & COMMIT_DATA_SYNCED || this.dataCrc(c) === c.dataCrc)) return c
        if (c) rejected?.push(c)
      }
      hi = lo
    }
    return null
  }

  /**
   * CRC32C over the data pages a commit appended, as FORMAT.md §8 defines dataCrc; -1 (which no
   * CRC equals) when those pages are not all in the file.
   */
  dataCrc(c: Commit): number {
    let crc = 0
    for (let p = c.firstDataPage; p < c.page; p += SCAN_CHUNK_PAGES) {
      const buf = this.readPages(p, Math.min(SCAN_CHUNK_PAGES, c.page - p))
      crc = crc32c(buf, crc)
      if (buf.length < Math.min(SCAN_CHUNK_PAGES, c.page - p) * this.pageSize) return -1
    }
    return crc >>> 0
  }

  /** Cuts the file back to `pages` whole pages (a torn tail); only under the write lock. */
  truncatePages(pages: number): void {
    try { this.file.truncate(pages * this.pageSize) } catch (err) { throw ioError(this.path, 'truncating a torn tail', err) }
  }

  sync(): void {
    try { this.file.datasync() } catch (err) { throw ioError(this.path, 'fdatasync', err) }
  }

  write(buf: Buffer, page: number): void {
    try { this.file.write(buf, page * this.pageSize) } catch (err) { throw ioError(this.path, `writing page ${page}`, err) }
  }
}

/** Buffers appended pages, computes the data CRC, and writes in large chunks. */
export class Appender {
  private chunks: Buffer[] = []
  private chunkStart: number
  private pending = 0
  dataCrc = 0
  written = 0

  private readonly f: IndexFile
  readonly firstPage: number
  private readonly flushBytes: number

  constructor(f: IndexFile, firstPage: number, flushBytes = 1 << 20) {
    this.f = f
    this.firstPage = firstPage
    this.flushBytes = flushBytes
    this.chunkStart = firstPage
  }

  get nextPage(): number { return this.firstPage + this.written }

  appendNode(node: TreeNode): number {
    const page = this.nextPage
    if (page > MAX_PAGE_NO) throw new TailrootError('IO', `${this.f.path}: the file has reached the maximum of ${MAX_PAGE_NO} pages`, { path: this.f.path })
    const buf = encodeNode(node, page, this.f.pageSize)
    this.chunks.push(buf)
    this.pending += buf.length
    this.written++
    this.dataCrc = crc32c(buf, this.dataCrc)
    this.f.cache.set(page, node)
    if (this.pending >= this.flushBytes) this.flush()
    return page
  }

  flush(): void {
    if (this.chunks.length === 0) return
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.f.write(buf, this.chunkStart)
    this.chunkStart += this.chunks.length
    this.chunks = []
    this.pending = 0
  }
}
