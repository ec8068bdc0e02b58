/**
 * The names of compaction's temporary files (FORMAT.md §9): `<index>.compact-<12 hex>.tmp`, and
 * `<index>.compact-<12 hex>.tmp.<12 hex>.tmp` while Vfs.createExclusive is still creating one.
 * Recognised by name alone, so the next compaction can remove what a killed one left.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { ioError } from '../errors.ts'
import type { Vfs } from './vfs.ts'

const HEX12 = '[0-9a-f]{12}'

/** A fresh temporary name for compacting `indexPath`, in the same directory. */
export function compactTempPath(indexPath: string): string {
  return `${indexPath}.compact-${randomBytes(6).toString('hex')}.tmp`
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Whether `name` (an entry of the index's directory) is a temporary file of a compaction of `indexPath`. */
export function isCompactTemp(indexPath: string, name: string): boolean {
  const re = new RegExp(`^${escapeRegExp(path.basename(indexPath))}\\.compact-${HEX12}\\.tmp(\\.${HEX12}\\.tmp)?$`)
  return re.test(name)
}

/**
 * Removes the temporary files that killed compactions of `indexPath` left; only under the write
 * lock, so that no compaction of it is running. Returns their paths.
 */
export function removeCompactLeftovers(vfs: Vfs, indexPath: string): string[] {
  const dir = path.dirname(indexPath)
  let names: string[]
  try { names = vfs.list(dir) } catch (err) { throw ioError(dir, 'listing the directory', err) }
  const removed: string[] = []
  for (const name of names) {
    if (!isCompactTemp(indexPath, name)) continue
    const p = path.join(dir, name)
    try { vfs.remove(p) } catch (err) { throw ioError(p, 'removing a leftover temporary file', err) }
    removed.push(p)
  }
  return removed
}
