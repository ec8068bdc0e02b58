/**
 * The first half of compaction: copying what a pinned snapshot holds into a new file. It reads
 * through the snapshot's logical read API (range), so it copies the content a reader sees,
 * whatever form the commit keeps it in, and it needs no lock: the snapshot never changes.
 */
import { randomBytes } from 'node:crypto'
import { FILE_ID_SIZE, FORMAT_VERSION } from '../format/constants.ts'
import type { Commit } from '../format/commit.ts'
import type { FileHeader } from '../format/header.ts'
import type { Key, KeyCodec } from '../keys.ts'
import type { Vfs } from '../store/vfs.ts'
import { writeNewFile } from './build.ts'
import type { Snapshot } from './snapshot.ts'

/** Progress of a long operation: units done so far of a total known in advance. */
export interface Progress {
  done: number
  total: number
}

/** How often (in pairs copied) progress is reported. */
const PROGRESS_PAIRS = 4096

/**
 * Writes the snapshot's pairs bottom-up in key order into the new file `target` (which must not
 * exist), as one commit with the snapshot's sequence and metadata, and the settings of `like`
 * with a fresh file id, in the current format version. Durable when it returns. Removes `target` when it fails.
 */
export function copySnapshot(snap: Snapshot<Key>, like: FileHeader, codec: KeyCodec, vfs: Vfs, target: string, onProgress?: (p: Progress) => void): Commit {
  // The copy is written in the current format version, whatever the original's (FORMAT.md §9).
  const header: FileHeader = { ...like, formatVersion: FORMAT_VERSION, fileId: randomBytes(FILE_ID_SIZE) }
  const total = snap.count()
  return writeNewFile(vfs, target, header, reporting(snap.range(), total, onProgress), {
    fill: 1, durability: 'full', codec, first: { sequence: snap.sequence, meta: snap.meta },
  })
}

function* reporting<T>(it: Iterable<T>, total: number, onProgress: ((p: Progress) => void) | undefined): Generator<T> {
  let done = 0
  for (const x of it) {
    yield x
    if (onProgress !== undefined && ++done % PROGRESS_PAIRS === 0) onProgress({ done, total })
  }
  onProgress?.({ done: total, total })
}
