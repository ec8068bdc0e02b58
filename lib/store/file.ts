/**
 * An open index file: its header, page reads with every check (CRC, page number, type, level,
 * bounds), the node cache, the tail scan and appends. Reference-counted, so snapshots keep
 * reading a file that their Index has since replaced.
 */
import { OFF_PAGE_NO } from '../format/constants.ts'
import type { Commit } from '../format/commit.ts'
import { decodeHeader, isHeaderProblem } from '../format/header.ts'
import type { FileHeader } from '../format/header.ts'
import { LevelMismatch, checkedLeafHas, checkedLeafIds, leafFilterHas, leafHasPair, leafPairFilter } from '../format/leaf-search.ts'
import { decodeNode } from '../format/node.ts'
import { keyHash, pairHash } from '../format/pair-hash.ts'
import type { LeafNode, TreeNode } from '../format/node.ts'
import { DecodeError, crcMatches } from '../format/page.ts'
import { TailrootError, corrupt, ioError } from '../errors.ts'
import type { ChildRef, MemNode } from '../tree/node-ref.ts'
import { leafNodeHas, leafNodeIds } from '../tree/read.ts'
import type { NodeSource } from '../tree/source.ts'
import { NodeCache } from './cache.ts'
import type { CommitTally } from './history.ts'
import { dataCrc, findNewestCommit } from './tail-scan.ts'
import type { PageReader, RejectedCommit } from './tail-scan.ts'
import type { FileIdentity, Vfs, VfsFile } from './vfs.ts'

/** A reference to an IndexFile held by an owner object (IndexFile.pin). */
export interface FilePin {
  /** Gives the reference back; later calls do nothing. */
  release(): void
}

/** Zeros written or compared per call (FORMAT.md §8, "Preallocation"). */
const ZERO_CHUNK = 1 << 20

/** How far presence checks that found their pair absent may outweigh those that found it present (IndexFile.absentLean). */
const LEAN_LIMIT = 32

let zeros: Buffer | null = null
function zeroChunk(): Buffer {
  zeros ??= Buffer.alloc(ZERO_CHUNK)
  return zeros
}

/** Gives back the references of owners collected without releasing them. */
const unreleased = new FinalizationRegistry<IndexFile>(file => file.release())

export class IndexFile implements NodeSource, PageReader {
  readonly pageSize: number
  readonly cache: NodeCache
  private refs = 1
  reads = 0
  /** The key of this open file (device, inode, fileId), made on first use: see `key`. */
  private fileKey: string | null = null
  /** The buffer node() reads pages into. */
  private scratch: Buffer | null = null
  /**
   * Presence checks of kept leaf bytes lately: +1 for each that found its pair absent, -1 for
   * each that found it present, within ±LEAN_LIMIT. leafHas consults (and makes) the leaves'
   * pair filters only while it is positive: a filter only ever answers "absent" faster, and costs
   * a little on every check of a present pair (deletes, mostly).
   */
  private absentLean = 0
  /** The commits counted up to a commit of this file, so stats() walks only newer ones. */
  commitTally: CommitTally | null = null

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

  /**
   * A reference held by `owner` (a snapshot, an iterator): given back by release(), or, as a
   * safety net, when `owner` is garbage-collected without it, so a forgotten owner does not keep
   * the descriptor open for the life of the process.
   */
  pin(owner: object): FilePin {
    this.retain()
    const token = {}
    unreleased.register(owner, this, token)
    return { release: () => { if (unreleased.unregister(token)) this.release() } }
  }

  release(): void {
    if (--this.refs === 0) {
      this.cache.clear()
      try { this.file.close() } catch { /* nothing left to lose */ }
    }
  }

  get formatVersion(): number { return this.header.formatVersion }

  size(): number {
    try { return this.file.size() } catch (err) { throw ioError(this.path, 'stat', err) }
  }

  /** Whole pages in the file. */
  pageCount(): number {
    return Math.floor(this.size() / this.pageSize)
  }

  readPages(first: number, count: number): Buffer {
    return this.readInto(Buffer.allocUnsafe(count * this.pageSize), first)
  }

  /** Pages from `first` into `buf` (a whole number of pages); the pages read, short at the end of the file. */
  private readInto(buf: Buffer, first: number): Buffer {
    if (this.refs <= 0) throw new TailrootError('CLOSED', `${this.path}: the index is closed (an iterator or view outlived it)`, { path: this.path })
    let n: number
    try { n = this.file.read(buf, first * this.pageSize) } catch (err) { throw ioError(this.path, `reading page ${first}`, err) }
    this.reads += buf.length / this.pageSize
    return n === buf.length ? buf : buf.subarray(0, Math.floor(n / this.pageSize) * this.pageSize)
  }

  /** Reads a page and checks its CRC and page number. */
  readCheckedPage(page: number): Buffer {
    return this.checkPage(page, this.readPages(page, 1))
  }

  private checkPage(page: number, buf: Buffer): Buffer {
    if (buf.length < this.pageSize) throw corrupt(this.path, page, 'lies beyond the end of the file')
    if (!crcMatches(buf)) throw corrupt(this.path, page, 'checksum mismatch')
    if (buf.readUInt32LE(OFF_PAGE_NO) !== page) throw corrupt(this.path, page, `claims to be page ${buf.readUInt32LE(OFF_PAGE_NO)}`)
    return buf
  }

  /**
   * Reads up to buf.length bytes at byte `position` (not counted as page reads); returns how
   * many were read (short at the end of the file).
   */
  readAt(buf: Buffer, position: number): number {
    if (this.refs <= 0) throw new TailrootError('CLOSED', `${this.path}: the index is closed (an iterator or view outlived it)`, { path: this.path })
    try { return this.file.read(buf, position) } catch (err) { throw ioError(this.path, `reading at byte ${position}`, err) }
  }

  /** Whether every byte of pages [from, to) is zero; stops at the first piece that is not. */
  pagesAreZero(from: number, to: number): boolean {
    const zero = zeroChunk()
    const buf = Buffer.allocUnsafe(zero.length)
    for (let pos = from * this.pageSize, end = to * this.pageSize; pos < end; pos += buf.length) {
      const want = Math.min(buf.length, end - pos)
      const n = this.readAt(want === buf.length ? buf : buf.subarray(0, want), pos)
      if (n < want || !buf.subarray(0, want).equals(zero.subarray(0, want))) return false
    }
    return true
  }

  /** Writes zeros over pages [from, to) (preallocation, FORMAT.md §8), in pieces of ZERO_CHUNK. */
  writeZeros(from: number, to: number): void {
    const zero = zeroChunk()
    for (let pos = from * this.pageSize, end = to * this.pageSize; pos < end; pos += zero.length) {
      const n = Math.min(zero.length, end - pos)
      try { this.file.write(n === zero.length ? zero : zero.subarray(0, n), pos) } catch (err) { throw ioError(this.path, `preallocating at byte ${pos}`, err) }
    }
  }

  /** The file as a string (device, inode and fileId), for what a process knows of it (follower.ts). */
  get key(): string {
    return this.fileKey ??= `${this.identity.dev}:${this.identity.ino}:${this.header.fileId.toString('hex')}`
  }

  /** Reads and decodes the node at `page`, which must be at `level`; cached. */
  node(page: number, level: number): TreeNode {
    return this.atLevel(page, level, this.cache.get(page) ?? this.decodePage(page))
  }

  /**
   * node(), for a commit that replaces the page (a fold's old leaves and the internal nodes above
   * them): the cache forgets it instead of keeping it, since caching a node about to become
   * garbage would only push live ones out (and leave more for the garbage collector).
   */
  take(page: number, level: number): TreeNode {
    const e = this.cache.entry(page)
    const n = e !== undefined && e.node !== null ? e.node : this.decodeFrom(page, e?.page ?? this.readScratch(page))
    if (e !== undefined) this.cache.delete(page)
    return this.atLevel(page, level, n)
  }

  /** Decodes and caches the node at `page`: from its bytes when the cache keeps them (setPage), else read. */
  private decodePage(page: number): TreeNode {
    const n = this.decodeFrom(page, this.cache.getPage(page) ?? this.readScratch(page))
    this.cache.set(page, n)
    return n
  }

  /** decodeNode() of the checked bytes `buf` of `page`; CORRUPT when they are not a node. */
  private decodeFrom(page: number, buf: Buffer): TreeNode {
    try {
      return decodeNode(buf)
    } catch (err) {
      if (err instanceof DecodeError) throw corrupt(this.path, page, err.message)
      throw err
    }
  }

  private atLevel(page: number, level: number, n: TreeNode): TreeNode {
    if (n.level !== level) throw this.levelError(page, n.level, level)
    return n
  }

  private levelError(page: number, found: number, expected: number): TailrootError {
    return corrupt(this.path, page, `is a node at level ${found} where level ${expected} was expected`)
  }

  /**
   * The checked page into the one buffer node reads share: decoding and searching copy what they
   * keep (keys as strings, rowIds as numbers), so no read needs a page-sized buffer of its own.
   */
  private readScratch(page: number): Buffer {
    return this.checkPage(page, this.readInto(this.scratch ??= Buffer.allocUnsafe(this.pageSize), page))
  }

  /**
   * NodeSource.leafHas: a cached leaf is searched as it is, decoded or as its page bytes. A leaf
   * not cached is read and searched in its bytes with every check decoding makes (leafHasPair),
   * and the cache keeps those bytes, which later checks search by binary search (checkedLeafHas):
   * presence checks never decode a leaf, and keep a quarter of the memory a decoded one takes.
   * Once the kept bytes are checked again, while most checks lately found their pair absent (as
   * inserts do), a filter of the leaf's pairs (leafPairFilter) is kept with them and answers most
   * checks of absent pairs before the search.
   */
  leafHas(page: number, k: string, r: number, p?: number): boolean {
    const e = this.cache.entry(page)
    if (e === undefined) return this.searchLeaf(page, k, r).found
    if (e.node !== null) return leafNodeHas(this.atLevel(page, 0, e.node) as LeafNode, k, r)
    if (this.absentLean > 0) {
      const f = this.cache.filterFor(e, leafPairFilter)
      if (f !== null && !leafFilterHas(f, p ?? pairHash(keyHash(k), r))) return false
    }
    const found = checkedLeafHas(e.page!, k, r)
    if (found) { if (this.absentLean > -LEAN_LIMIT) this.absentLean-- } else if (this.absentLean < LEAN_LIMIT) this.absentLean++
    return found
  }

  /**
   * NodeSource.leafIds: the rowIds of key `k` in the leaf at `page`, or null when they may go on
   * in the next leaf. As leafHas: a leaf not cached is read, checked whole and kept as its bytes,
   * which are searched (checkedLeafIds); a lookup decodes only the rowIds it returns.
   */
  leafIds(page: number, k: string): number[] | null {
    const e = this.cache.entry(page)
    if (e !== undefined) return e.node === null ? checkedLeafIds(e.page!, k) : leafNodeIds(this.atLevel(page, 0, e.node) as LeafNode, k)
    return checkedLeafIds(this.searchLeaf(page, k, -1).buf, k)
  }

  /**
   * Reads the leaf at `page`, which is not cached, checks it as decoding would while searching
   * it for (k, r) (leafHasPair), and has the cache keep its bytes (when it keeps anything).
   */
  private searchLeaf(page: number, k: string, r: number): { buf: Buffer; found: boolean } {
    const keep = this.cache.enabled
    const buf = keep ? this.checkPage(page, this.readInto(Buffer.allocUnsafeSlow(this.pageSize), page)) : this.readScratch(page)
    let found: boolean
    try {
      found = leafHasPair(buf, k, r)
    } catch (err) {
      if (err instanceof LevelMismatch) throw this.levelError(page, err.level, 0)
      if (err instanceof DecodeError) throw corrupt(this.path, page, err.message)
      throw err
    }
    if (keep) this.cache.setPage(page, buf)
    return { buf, found }
  }

  load(ref: ChildRef, level: number): MemNode {
    return typeof ref === 'number' ? this.node(ref, level) : ref
  }

  /**
   * The newest valid commit above page `floor` (exclusive), or null; whole commit pages found
   * invalid on the way are passed to `onRejected` when given. See tail-scan.ts.
   */
  findNewestCommit(floor: number, onRejected?: (rc: RejectedCommit) => void, end?: number): Commit | null {
    return findNewestCommit(this, this.header.fileId, floor, onRejected, end)
  }

  /** CRC32C over the data pages of commit `c` (-1 when they are not all in the file). */
  dataCrc(c: Commit): number {
    return dataCrc(this, c)
  }

  /** Cuts the file back to `pages` whole pages (a torn tail); only under the write lock. */
  truncatePages(pages: number): void {
    try { this.file.truncate(pages * this.pageSize) } catch (err) { throw ioError(this.path, 'truncating a torn tail', err) }
  }

  sync(): void {
    try { this.file.datasync() } catch (err) { throw ioError(this.path, 'fdatasync', err) }
  }

  /** sync() off the main thread when the Vfs can (VfsFile.datasyncAsync). */
  async syncAsync(): Promise<void> {
    try {
      if (this.file.datasyncAsync !== undefined) await this.file.datasyncAsync()
      else this.file.datasync()
    } catch (err) {
      throw ioError(this.path, 'fdatasync', err)
    }
  }

  write(buf: Buffer, page: number): void {
    try { this.file.write(buf, page * this.pageSize) } catch (err) { throw ioError(this.path, `writing page ${page}`, err) }
  }
}
