/**
 * The one place the demo touches commit metadata: each index records, in the commit that applies
 * a batch of the table's changes, the number of the last change it applied (the `meta` option of
 * transaction). After a crash or a restart, an app reads it back (`idx.meta`) and resumes
 * re-indexing right after it. Stored as a small JSON blob: `{"change":N}`.
 */
import type { Index, Key } from '../../lib/index.ts'

/** The `meta` of the commit that applies the table's changes up to `n`. */
export function changeMeta(n: number): Buffer {
  return Buffer.from(JSON.stringify({ change: n }))
}

/** The last change applied to the index as of the commit it reads (0: none yet). */
export function lastChangeNumber(idx: Pick<Index<Key>, 'meta' | 'path'>): number {
  const meta = idx.meta
  if (meta === null) return 0
  const parsed = JSON.parse(meta.toString('utf8')) as { change?: unknown }
  if (typeof parsed.change !== 'number') throw new Error(`${idx.path}: commit metadata without a change number`)
  return parsed.change
}
