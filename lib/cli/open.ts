/**
 * Opening the file a command only reads: an index file whatever its key encoding (keys of any
 * kind), or one named index of a set file (FORMAT.md §12), chosen with --index.
 */
import { TailrootError } from '../errors.ts'
import { Index } from '../api/handle.ts'
import type { OpenOptions } from '../api/options.ts'
import type { RangeOptions } from '../api/range-options.ts'
import { IndexSet } from '../api/set/index-set.ts'
import type { IndexOptions } from '../api/set/context.ts'
import type { KeyEncoding } from '../format/header.ts'
import type { Key } from '../keys.ts'
import { IndexFile } from '../store/file.ts'
import { nodeVfs } from '../store/vfs.ts'
import { UsageError } from './exit-codes.ts'

const READ_ONLY: OpenOptions = { readOnly: true }
/** No options, typed so that the index's keys are of any kind. */
const ANY_SETTINGS: IndexOptions = {}

export function openReadOnly(path: string): Index<Key> {
  return Index.open(path, READ_ONLY)
}

/** Whether the file at `path` is a set file (its header has FLAG_SET); false when it has no readable header. */
export function isSetFile(path: string): boolean {
  let f: IndexFile
  try { f = IndexFile.open(nodeVfs, path, false, 0) } catch { return false }
  try { return f.header.set === true } finally { f.release() }
}

/** What dump and get read: an index, or a named index of a set. */
export interface ReadTarget {
  keyEncoding: KeyEncoding
  get(key: Key): number[]
  range(options: RangeOptions<Key>): IterableIterator<[Key, number]>
  close(): void
}

export const INDEX_OPTION = { index: { type: 'string' } } as const

/** The index file at `path`, or with `index`, that named index of the set file at `path`. */
export function openTarget(path: string, index: string | undefined): ReadTarget {
  if (index === undefined) {
    try {
      return openReadOnly(path)
    } catch (err) {
      if (err instanceof TailrootError && err.code === 'INVALID_ARGUMENT' && isSetFile(path)) {
        throw new UsageError(`${path} holds a set of named indexes: name one with --index NAME (tailroot stats ${path} lists them)`)
      }
      throw err
    }
  }
  const set = IndexSet.open(path, READ_ONLY)
  try {
    const idx = set.index(index, ANY_SETTINGS)
    return { keyEncoding: idx.keyEncoding, get: k => idx.get(k), range: o => idx.range(o), close: () => set.close() }
  } catch (err) {
    set.close()
    throw err
  }
}
