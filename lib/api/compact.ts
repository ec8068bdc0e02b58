/**
 * Index.compact: rewrites the newest commit's content into a new file and renames it over the
 * index (FORMAT.md §9, "Replacing the file: compaction"). Two steps, kept apart so that the copy
 * could later run without the lock while writers go on: copySnapshot (compact-copy.ts) copies a
 * pinned snapshot into a temporary file; switchFiles, under the lock, puts that file in place and
 * marks the old one superseded, so that readers that never call refresh() follow.
 */
import { performance } from 'node:perf_hooks'
import { TailrootError, invalid, naming } from '../errors.ts'
import { maxKeyBytes } from '../format/constants.ts'
import { KeyCodec } from '../keys.ts'
import { inChain } from '../store/log-chain.ts'
import { CommitWriter } from '../store/commit-writer.ts'
import { TailFollower } from '../store/follower.ts'
import { WriteLock } from '../store/lock.ts'
import { compactTempPath, removeCompactLeftovers } from '../store/temp-names.ts'
import type { Vfs } from '../store/vfs.ts'
import { copySnapshot } from './compact-copy.ts'
import type { Progress } from './compact-copy.ts'
import { noteLocalCommit } from './freshness.ts'
import { resolveOpenOptions } from './options.ts'
import { Snapshot } from './snapshot.ts'

export interface CompactOptions {
  /** Called now and then while pairs are copied: pairs done of the total. */
  onProgress?: (p: Progress) => void
  /** How long to wait for the write lock before LOCKED (default 10000). */
  lockTimeoutMs?: number
  /** File-system layer (for fault-injection tests). */
  vfs?: Vfs
}

export interface CompactResult {
  /** The size of the file before. */
  bytesBefore: number
  /** The size of the index file afterwards (bytesBefore when it was kept). */
  bytesAfter: number
  /** Node pages in the compacted tree. */
  pages: number
  entries: number
  /** The sequence of the newest commit, which the compacted file keeps. */
  sequence: number
  /** False when the copy would not have been smaller, and the file was left as it was. */
  replaced: boolean
  /** Milliseconds the compaction took, waiting for the lock included. */
  ms: number
}

/** Decoded pages compaction's reads may cache: it reads each page about once. */
const COPY_CACHE_BYTES = 4 * 1024 * 1024

export function compactIndex(path: string, options?: CompactOptions): CompactResult {
  const start = performance.now()
  if (typeof path !== 'string' || path.length === 0) throw invalid('Index.compact: path must be a non-empty string')
  const o = resolveCompactOptions(path, options)
  const lock = new WriteLock(o.vfs, `${path}.lock`, path)
  let follower: TailFollower | null = null
  try {
    follower = TailFollower.open({ vfs: o.vfs, path, writable: true, cacheBytes: COPY_CACHE_BYTES, onReplaced: () => lock.resetGate() })
    lock.acquire(o.lockTimeoutMs)
    follower.prepareWrite(lock.lockedFile())
    removeCompactLeftovers(o.vfs, path)
    const old = follower.file
    const c = follower.commit
    const bytesBefore = old.size()
    const kept = { bytesBefore, bytesAfter: bytesBefore, pages: c.livePages, entries: c.entryCount, sequence: c.sequence, replaced: false }
    // A file without commits holds nothing to compact.
    if (c.sequence === 0) return { ...kept, ms: performance.now() - start }
    const h = old.header
    const codec = new KeyCodec(h.keyEncoding, maxKeyBytes(h.pageSize), path)
    const tmp = compactTempPath(path)
    const snap = new Snapshot(old, c, follower.pending, codec)
    let copy
    try {
      copy = copySnapshot(snap, h, codec, o.vfs, tmp, o.onProgress)
    } finally {
      snap.close()
    }
    let placed = false
    try {
      // The copy ends with its one commit page: it is not preallocated (the first commit after
      // it may be, FORMAT.md §8).
      const bytesAfter = (copy.page + 1) * h.pageSize
      // An already compact file stays as it is: a copy must not make it grow. Preallocated zeros
      // after the commit are not garbage (the next commits take them up), so only the pages up to
      // the commit are compared: a compact file with zeros after it is not rewritten either.
      if (bytesAfter >= (c.page + 1) * h.pageSize) return { ...kept, ms: performance.now() - start }
      switchFiles(o.vfs, path, tmp, follower, () => { placed = true })
      return { bytesBefore, bytesAfter, pages: copy.livePages, entries: copy.entryCount, sequence: copy.sequence, replaced: true, ms: performance.now() - start }
    } finally {
      if (!placed) {
        try { o.vfs.remove(tmp) } catch { /* the original error matters more */ }
      }
    }
  } finally {
    lock.close()
    follower?.close()
  }
}

/**
 * The second half, under the write lock of the old file: lock the new file, rename it over the
 * path (durably), then append the superseded commit to the old file. `placed` is called once the
 * new file is at the path. The lock on the new file is held until the marker is written, so no
 * writer commits in the new file before readers of the old one can find it.
 */
function switchFiles(vfs: Vfs, path: string, tmp: string, old: TailFollower, placed: () => void): void {
  const newLock = vfs.openLock(tmp, false)
  try {
    if (!newLock.tryLock()) throw new TailrootError('LOCKED', `${tmp}: the new file of this compaction is locked by someone else`, { path: tmp })
    vfs.replace(tmp, path)
    placed()
    try {
      markSuperseded(old)
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err)
      throw new TailrootError('IO', `${path}: compacted, but marking the old file superseded failed, so readers that never call refresh() stay on it: ${msg}`, { path, cause: err })
    }
    noteLocalCommit()
  } finally {
    try { newLock.close() } catch { /* closing releases the lock */ }
  }
}

/** Appends a commit with the old file's content and COMMIT_SUPERSEDED, durably. */
function markSuperseded(follower: TailFollower): void {
  const c = follower.commit
  // Not preallocated: no commit follows this one in the old file.
  const w = new CommitWriter(follower.file, c, 'full', follower.durable(), follower.allocatedPages(), false)
  try {
    // The pending chain (FORMAT.md §10) continues unchanged: the content is the same.
    w.commit({ root: c.root, height: c.height, entryCount: c.entryCount, livePages: c.livePages + (inChain(c) ? 1 : 0), meta: c.meta, logPrevHead: c.logHead, chainBefore: c.chainRecords, superseded: true })
  } catch (err) {
    w.abort()
    throw err
  }
}

interface ResolvedCompactOptions {
  onProgress: ((p: Progress) => void) | undefined
  lockTimeoutMs: number
  vfs: Vfs
}

function resolveCompactOptions(path: string, options: unknown): ResolvedCompactOptions {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw invalid(`${path}: Index.compact options must be an object`)
  }
  const { onProgress, ...rest } = (options ?? {}) as Record<string, unknown>
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid(`${path}: Index.compact option onProgress must be a function`)
  for (const k of Object.keys(rest)) if (k !== 'lockTimeoutMs' && k !== 'vfs') throw invalid(`${path}: Index.compact: unknown option '${k}'`)
  let r
  try { r = resolveOpenOptions(rest) } catch (err) { throw naming(path, err) }
  return { onProgress: onProgress as ((p: Progress) => void) | undefined, lockTimeoutMs: r.lockTimeoutMs, vfs: r.vfs }
}
