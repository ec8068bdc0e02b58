/** Index.history: the commits still in a file, newest first. */
import { invalid } from '../errors.ts'
import { IndexFile } from '../store/file.ts'
import { commitChain } from '../store/history.ts'
import { nodeVfs } from '../store/vfs.ts'
import type { Vfs } from '../store/vfs.ts'

export interface CommitInfo {
  sequence: number
  /** The commit page's number. */
  page: number
  /** When the commit was written. */
  time: Date
  /** Pairs in the index at that commit. */
  entries: number
}

/**
 * Yields the newest commit and then each previous one, down to the file's first. The file is
 * opened at the first step and closed when the iteration ends (or is ended with return()). A
 * broken link throws CORRUPT naming the page, after the commits above it.
 */
export function fileHistory(path: string, vfs: Vfs = nodeVfs): Generator<CommitInfo> {
  if (typeof path !== 'string' || path.length === 0) throw invalid('Index.history: path must be a non-empty string')
  return walk(path, vfs)
}

function* walk(path: string, vfs: Vfs): Generator<CommitInfo> {
  const f = IndexFile.open(vfs, path, false, 0)
  try {
    const newest = f.findNewestCommit(0)
    if (newest === null) return
    for (const c of commitChain(f, newest)) {
      yield { sequence: c.sequence, page: c.page, time: new Date(c.timestamp), entries: c.entryCount }
    }
  } finally {
    f.release()
  }
}
