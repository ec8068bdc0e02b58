/**
 * Index.build: a new index file from (key, rowId) pairs, bottom-up, in one commit. Sorted input
 * streams with memory bounded by the tree height; unsorted input is sorted first. The file is
 * built under a temporary name and published only when complete, so a failed build leaves nothing.
 */
import { randomBytes } from 'node:crypto'
import { TailrootError, invalid, ioError, naming } from '../errors.ts'
import { FILE_ID_SIZE, FORMAT_VERSION, maxKeyBytes } from '../format/constants.ts'
import { EMPTY_COMMIT } from '../format/commit.ts'
import { encodeHeader } from '../format/header.ts'
import type { FileHeader } from '../format/header.ts'
import { decodeNode, isLeaf } from '../format/node.ts'
import { KeyCodec } from '../keys.ts'
import { CommitWriter } from '../store/commit-writer.ts'
import { IndexFile } from '../store/file.ts'
import { TreeBuilder } from '../tree/build.ts'
import { resolveBuildOptions } from './options.ts'
import type { ResolvedBuildOptions } from './options.ts'

export type Pair<K> = readonly [K, number]


export function buildIndexFile(path: string, entries: Iterable<Pair<unknown>>, options: unknown): ResolvedBuildOptions {
  if (typeof path !== 'string' || path.length === 0) throw invalid('Index.build: path must be a non-empty string')
  let o: ResolvedBuildOptions
  try { o = resolveBuildOptions(options) } catch (err) { throw naming(path, err) }
  if (entries === null || typeof (entries as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
    throw invalid(`${path}: Index.build: entries must be an iterable of [key, rowId] pairs`)
  }
  const vfs = o.open.vfs
  if (vfs.identity(path) !== null) throw invalid(`${path}: Index.build creates a new index, but the file already exists`)
  const header: FileHeader = {
    formatVersion: FORMAT_VERSION, pageSize: o.pageSize, keyEncoding: o.keyEncoding, unique: o.unique,
    fileId: randomBytes(FILE_ID_SIZE), createdAt: Date.now(),
  }
  const codec = new KeyCodec(o.keyEncoding, maxKeyBytes(o.pageSize), path)
  const tmp = `${path}.build-${randomBytes(6).toString('hex')}.tmp`
  try {
    if (!vfs.createExclusive(tmp, encodeHeader(header))) throw invalid(`${tmp}: temporary file exists`)
  } catch (err) { throw ioError(tmp, 'creating', err) }
  let published = false
  let f: IndexFile | null = null
  try {
    f = IndexFile.open(vfs, tmp, true, 0)
    if (Array.isArray(entries)) {
      const enc = encodeAll(entries, codec)
      if (!isSorted(enc)) enc.sort(comparePairs)
      writeFirstCommit(f, header, o, codec, enc, true)
    } else {
      try {
        writeFirstCommit(f, header, o, codec, entries, false)
      } catch (err) {
        if (!(err instanceof Unsorted)) throw err
        // Input was not sorted: take back what was written, add the rest, sort, and start over.
        const all = readBackLeaves(f)
        for (const p of err.rest) all.push(p)
        for (const p of err.iterator) all.push(encodePair(p, codec))
        all.sort(comparePairs)
        f.truncatePages(1)
        writeFirstCommit(f, header, o, codec, all, true)
      }
    }
    if (!vfs.publish(tmp, path)) throw invalid(`${path}: Index.build creates a new index, but the file already exists`)
    published = true
    return o
  } finally {
    f?.release()
    if (!published) {
      try { vfs.remove(tmp) } catch { /* the original error matters more */ }
    }
  }
}

type Encoded = [string, number]

function encodePair(p: unknown, codec: KeyCodec): Encoded {
  if (!Array.isArray(p) || p.length !== 2) throw invalid(`${codec.path}: Index.build: every entry must be a [key, rowId] pair`)
  return [codec.encode(p[0]), codec.rowId(p[1])]
}

function encodeAll(entries: readonly unknown[], codec: KeyCodec): Encoded[] {
  const out: Encoded[] = new Array(entries.length)
  for (let i = 0; i < entries.length; i++) out[i] = encodePair(entries[i], codec)
  return out
}

function comparePairs(a: Encoded, b: Encoded): number {
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
function writeFirstCommit(f: IndexFile, h: FileHeader, o: ResolvedBuildOptions, codec: KeyCodec, pairs: Iterable<unknown>, encoded: boolean): void {
  // Two syncs (COMMIT_DATA_SYNCED): a build is one commit, so the second sync costs nothing that
  // matters, and open then trusts the data instead of checksumming it; a page damaged later gives
  // CORRUPT where it is read instead of silently hiding the whole build.
  const w = new CommitWriter(f, EMPTY_COMMIT, o.durability, false)
  const b = new TreeBuilder(h.pageSize, o.fill, n => w.append(n))
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
        throw new TailrootError('UNIQUE_VIOLATION', `${f.path}: key ${JSON.stringify(String(codec.decode(k)).slice(0, 100))} has more than one rowId (${lastR} and ${r}) in a unique index`)
      }
    }
    b.add(k, r)
    lastK = k
    lastR = r
  }
  const tree = b.finish()
  w.commit({ root: tree.root, height: tree.height, entryCount: tree.count, livePages: w.written, meta: null, logPrevHead: 0, chainBefore: 0 })
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
