/** Opening an index file the command only reads: whatever its key encoding, keys of any kind. */
import { Index } from '../api/handle.ts'
import type { OpenOptions } from '../api/options.ts'
import type { Key } from '../keys.ts'

const READ_ONLY: OpenOptions = { readOnly: true }

export function openReadOnly(path: string): Index<Key> {
  return Index.open(path, READ_ONLY)
}
