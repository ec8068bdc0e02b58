/**
 * Index.backup: a copy of a file as it is at its newest commit, taken while writers go on.
 *
 * Nothing up to the end of a written commit ever changes (FORMAT.md §1), so the bytes from the
 * header to the newest commit's commit page, read after that commit page was found, are that
 * commit's file exactly: the copy needs no lock, and no writer waits for it. Bytes after the
 * commit page (zeros preallocated for later commits, a commit being written) are not copied, so
 * the copy ends at its commit page, like a file that Index.build wrote. Works for set files too.
 */
import { randomBytes } from 'node:crypto'
import { TailrootError, invalid, ioError } from '../errors.ts'
import { IndexFile } from '../store/file.ts'
import { nodeVfs } from '../store/vfs.ts'
import type { Vfs, VfsFile } from '../store/vfs.ts'
import type { Progress } from './compact-copy.ts'

export interface BackupOptions {
  /** Called now and then with the bytes copied so far, of the total. */
  onProgress?: (p: Progress) => void
}

export interface BackupResult {
  /** The sequence of the commit the copy holds (0: a file without a commit). */
  sequence: number
  /** Pairs in the copy. */
  entries: number
  /** The copy's size: every page up to and including its commit page. */
  bytes: number
}

/** Bytes copied per read and write: bounds the memory a backup takes. */
const CHUNK_BYTES = 1 << 20

function checkArgs(path: unknown, dest: unknown, options: unknown): BackupOptions {
  if (typeof path !== 'string' || path.length === 0) throw invalid('Index.backup: path must be a non-empty string')
  if (typeof dest !== 'string' || dest.length === 0) throw invalid(`${path}: Index.backup: dest must be a non-empty string`)
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object') throw invalid(`${path}: Index.backup: options must be an object`)
  for (const k of Object.keys(options)) if (k !== 'onProgress') throw invalid(`${path}: Index.backup: unknown option ${JSON.stringify(k)}`)
  const onProgress = (options as BackupOptions).onProgress
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid(`${path}: Index.backup option onProgress must be a function`)
  return options as BackupOptions
}

/**
 * Copies `path` at its newest commit to the new file `dest` (INVALID_ARGUMENT when a file is
 * there already), durably, publishing it only when whole: a failed or killed backup leaves no
 * file at `dest` (a killed one may leave `dest.backup-<12 hex>.tmp`, which may be deleted).
 */
export function backupFile(path: string, dest: string, options?: BackupOptions, vfs: Vfs = nodeVfs): BackupResult {
  const o = checkArgs(path, dest, options)
  if (vfs.identity(dest) !== null) throw invalid(`${dest}: Index.backup writes a new file, but the file already exists`)
  const src = IndexFile.open(vfs, path, false, 0)
  try {
    const newest = src.findNewestCommit(0)
    const P = src.pageSize
    const pages = newest === null ? 1 : newest.page + 1
    const result: BackupResult = { sequence: newest?.sequence ?? 0, entries: newest?.entryCount ?? 0, bytes: pages * P }
    const tmp = `${dest}.backup-${randomBytes(6).toString('hex')}.tmp`
    const first = src.readPages(0, 1)
    if (first.length < P) throw new TailrootError('IO', `${path}: the file ended while the backup read its header`, { path })
    try {
      if (!vfs.createExclusive(tmp, first)) throw invalid(`${tmp}: temporary file exists`)
    } catch (err) { throw ioError(tmp, 'creating', err) }
    let published = false
    try {
      copyPages(src, tmp, pages, vfs, o.onProgress)
      try {
        if (!vfs.publish(tmp, dest)) throw invalid(`${dest}: Index.backup writes a new file, but the file already exists`)
      } catch (err) { throw ioError(dest, 'publishing the backup', err) }
      published = true
    } finally {
      if (!published) {
        try { vfs.remove(tmp) } catch { /* the original error matters more */ }
      }
    }
    return result
  } finally {
    src.release()
  }
}

/** Pages 1 to `pages - 1` of `src` into `tmp` (which holds page 0), then one fdatasync. */
function copyPages(src: IndexFile, tmp: string, pages: number, vfs: Vfs, onProgress: ((p: Progress) => void) | undefined): void {
  const P = src.pageSize
  const chunk = CHUNK_BYTES / P
  let out: VfsFile
  try { out = vfs.open(tmp, true) } catch (err) { throw ioError(tmp, 'opening', err) }
  try {
    for (let p = 1; p < pages; p += chunk) {
      const n = Math.min(chunk, pages - p)
      const buf = src.readPages(p, n)
      // The pages up to a commit that the tail scan found never shrink away: a short read is a
      // file cut under the reader (by hand, or a damaged file system).
      if (buf.length < n * P) throw new TailrootError('IO', `${src.path}: the file ended at byte ${p * P + buf.length} while the backup read up to byte ${pages * P}`, { path: src.path })
      try { out.write(buf, p * P) } catch (err) { throw ioError(tmp, `writing page ${p}`, err) }
      onProgress?.({ done: (p + n) * P, total: pages * P })
    }
    if (pages === 1) onProgress?.({ done: P, total: P })
    try { out.datasync() } catch (err) { throw ioError(tmp, 'fdatasync', err) }
  } finally {
    try { out.close() } catch { /* written and synced, or failing already */ }
  }
}
