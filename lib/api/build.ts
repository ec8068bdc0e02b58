/**
 * Index.build: a new index file from (key, rowId) pairs, bottom-up, in one commit. Sorted input
 * streams with memory bounded by the tree height; unsorted input is sorted first. The file is
 * built under a temporary name and published only when complete, so a failed build leaves nothing.
 */
import { randomBytes } from 'node:crypto'
import { TailrootError, invalid, ioError, naming } from '../errors.ts'
import { FILE_ID_SIZE, FORMAT_VERSION, maxKeyBytes } from '../format/constants.ts'
import { EMPTY_COMMIT } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'
import { encodeHeader } from '../format/header.ts'
import type { FileHeader } from '../format/header.ts'
import { decodeNode, isLeaf } from '../format/node.ts'
import { KeyCodec } from '../keys.ts'
import { CommitWriter } from '../store/commit-writer.ts'
import { IndexFile } from '../store/file.ts'
import { TreeBuilder } from '../tree/build.ts'
import type { Durability } from '../store/commit-writer.ts'
import type { Vfs } from '../store/vfs.ts'
import { resolveBuildOptions } from './options.ts'
import type { ResolvedBuildOptions } from './options.ts'

export type Pair<K> = readonly [K, number]

/** A pair as stored: the key's bytes (one char per byte) and the rowId. */
export type Encoded = [string, number]

export function buildIndexFile(path: string, entries: Iterable<Pair<unknown>>, options: unknown): ResolvedBuildOptions {
  if (typeof path !== 'string' || path.length === 0) throw invalid('Index.build: path must be a non-empty string')
  let o: ResolvedBuildOptions
  try { o = resolveBuildOptions(options) } catch (err) { throw naming(path, err) }
  if (entries === null || typeof (entries as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
    throw invalid(`${path}: Index.build: entries must be an iterable of [key, rowId] pairs`)
  }
  publishNewFile(o.open.vfs, path, 'Index.build', { keyEncoding: o.keyEncoding, unique: o.unique, set: false }, o, entries, false)
  return o
}

/**
 * Builds a new file at `path` in one commit under a temporary name, and publishes it only when
 * complete (INVALID_ARGUMENT when a file is there already; nothing left behind on failure).
 * `encoded`: the pairs are stored keys (byte strings) with rowIds, sorted, without duplicates.
 */
export function publishNewFile(
  vfs: Vfs, path: string, what: string, kind: Pick<FileHeader, 'keyEncoding' | 'unique' | 'set'>,
  o: Pick<ResolvedBuildOptions, 'pageSize' | 'fill' | 'durability'>, entries: Iterable<unknown>, encoded: boolean,
): void {
  if (vfs.identity(path) !== null) throw invalid(`${path}: ${what} creates a new index, but the file already exists`)
  const header: FileHeader = {
    formatVersion: FORMAT_VERSION, pageSize: o.pageSize, keyEncoding: kind.keyEncoding, unique: kind.unique,
    fileId: randomBytes(FILE_ID_SIZE), createdAt: Date.now(), ...(kind.set === true ? { set: true } : {}),
  }
  const tmp = `${path}.build-${randomBytes(6).toString('hex')}.tmp`
  writeNewFile(vfs, tmp, header, entries, {
    fill: o.fill, durability: o.durability, codec: new KeyCodec(kind.keyEncoding, maxKeyBytes(o.pageSize), path), first: FIRST_COMMIT, encoded,
  })
  let published = false
  try {
    if (!vfs.publish(tmp, path)) throw invalid(`${path}: ${what} creates a new index, but the file already exists`)
    published = true
  } finally {
    if (!published) {
      try { vfs.remove(tmp) } catch { /* the original error matters more */ }
    }
  }
}

/** What a new file's one commit carries besides its tree. */
export interface FirstCommit {
  sequence: number
  meta: Buffer | null
}

const FIRST_COMMIT: FirstCommit = { sequence: 1, meta: null }

/** How writeNewFile writes. */
export interface NewFileSettings {
  /** Fraction of each leaf page to fill. */
  fill: number
  durability: Durability
  /** Encodes and checks the keys; names the index in errors. */
  codec: KeyCodec
  first: FirstCommit
  /** The pairs are already stored keys with rowIds, sorted and without duplicates. */
  encoded?: boolean
}

/**
 * Creates the file `tmp` (which must not exist) with `header`, and writes the pairs into it
 * bottom-up as its one commit (none for no pairs and a first sequence of 0). Sorted input streams
 * with memory bounded by the tree height; unsorted input is sorted in memory. Removes `tmp` when
 * anything fails. Returns the commit written.
 */
export function writeNewFile(vfs: Vfs, tmp: string, header: FileHeader, pairs: Iterable<unknown>, s: NewFileSettings): Commit {
  try {
    if (!vfs.createExclusive(tmp, encodeHeader(header))) throw invalid(`${tmp}: temporary file exists`)
  } catch (err) { throw ioError(tmp, 'creating', err) }
  let done = false
  let f: IndexFile | null = null
  try {
    f = IndexFile.open(vfs, tmp, true, 0)
    const c = writePairs(f, header, s, pairs)
    done = true
    return c
  } finally {
    f?.release()
    if (!done) {
      try { vfs.remove(tmp) } catch { /* the original error matters more */ }
    }
  }
}

/** The pairs as the first commit of `f`, sorted first if they turn out not to be. */
function writePairs(f: IndexFile, h: FileHeader, s: NewFileSettings, entries: Iterable<unknown>): Commit {
  if (s.encoded === true) return writeFirstCommit(f, h, s, entries, true)
  if (Array.isArray(entries)) {
    const enc = encodeAll(entries, s.codec)
    if (!isSorted(enc)) enc.sort(comparePairs)
    return writeFirstCommit(f, h, s, enc, true)
  }
  try {
    return writeFirstCommit(f, h, s, entries, false)
  } catch (err) {
    if (!(err instanceof Unsorted)) throw err
    // Input was not sorted: take back what was written, add the rest, sort, and start over.
    const all = readBackLeaves(f)
    for (const p of err.rest) all.push(p)
    for (const p of err.iterator) all.push(encodePair(p, s.codec))
    all.sort(comparePairs)
    f.truncatePages(1)
    return writeFirstCommit(f, h, s, all, true)
  }
}

export function encodePair(p: unknown, codec: KeyCodec): Encoded {
  if (!Array.isArray(p) || p.length !== 2) throw invalid(`${codec.path}: Index.build: every entry must be a [key, rowId] pair`)
  return [codec.encode(p[0]), codec.rowId(p[1])]
}

function encodeAll(entries: readonly unknown[], codec: KeyCodec): Encoded[] {
  const out: Encoded[] = new Array(entries.length)
  for (let i = 0; i < entries.length; i++) out[i] = encodePair(entries[i], codec)
  return out
}

export function comparePairs(a: Encoded, b: Encoded): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]
}

function isSorted(a: Encoded[]): boolean {
  for (let i = 1; i < a.length; i++) if (comparePairs(a[i - 1]!, a[i]!) > 0) return false
  return true
}

/** Thrown by the streaming pass when the input turns out not to be sorted; carries what is left. */
class Unsorted extends Error {
  rest: Encoded[]
  iterator: Iterator<unknown> & Iterable<unknown>
  constructor(rest: Encoded[], iterator: Iterator<unknown>) {
    super('unsorted input')
    this.rest = rest
    this.iterator = { next: () => iterator.next(), [Symbol.iterator]() { return this } }
  }
}

/** Streams the pairs into a tree and commits it as the file's first commit. */
function writeFirstCommit(f: IndexFile, h: FileHeader, s: NewFileSettings, pairs: Iterable<unknown>, encoded: boolean): Commit {
  // Two syncs (COMMIT_DATA_SYNCED): a build is one commit, so the second sync costs nothing that
  // matters, and open then trusts the data instead of checksumming it; a page damaged later gives
  // CORRUPT where it is read instead of silently hiding the whole build.
  const w = new CommitWriter(f, { ...EMPTY_COMMIT, sequence: s.first.sequence - 1 }, s.durability, false)
  const b = new TreeBuilder(h.pageSize, s.fill, n => w.append(n))
  const codec = s.codec
  let lastK: string | null = null
  let lastR = -1
  const it = pairs[Symbol.iterator]()
  for (let step = it.next(); !step.done; step = it.next()) {
    const [k, r] = encoded ? step.value as Encoded : encodePair(step.value, codec)
    if (lastK !== null) {
      const c = k < lastK ? -1 : k > lastK ? 1 : r - lastR
      if (c === 0) continue
      if (c < 0) { w.flush(); throw new Unsorted(pendingOf(b, k, r), it) }
      if (h.unique && k === lastK) {
        throw new TailrootError('UNIQUE_VIOLATION', `${codec.path}: key ${JSON.stringify(String(codec.decode(k)).slice(0, 100))} has more than one rowId (${lastR} and ${r}) in a unique index`)
      }
    }
    b.add(k, r)
    lastK = k
    lastR = r
  }
  const tree = b.finish()
  if (tree.height === 0 && s.first.sequence === 0) return EMPTY_COMMIT
  return w.commit({ root: tree.root, height: tree.height, entryCount: tree.count, livePages: w.written, meta: s.first.meta, logPrevHead: 0, chainBefore: 0 })
}

/** The builder's unwritten pairs plus the out-of-order one. */
function pendingOf(b: TreeBuilder, k: string, r: number): Encoded[] {
  const out = b.drain()
  out.push([k, r])
  return out
}

/** Every pair in the leaf pages written so far, in file order (leaves are written in key order). */
function readBackLeaves(f: IndexFile): Encoded[] {
  const out: Encoded[] = []
  const n = f.pageCount()
  for (let p = 1; p < n; p++) {
    const leaf = decodeNode(f.readCheckedPage(p))
    if (!isLeaf(leaf)) continue
    for (let g = 0; g < leaf.keys.length; g++) for (const r of leaf.ids[g]!) out.push([leaf.keys[g]!, r])
  }
  return out
}
