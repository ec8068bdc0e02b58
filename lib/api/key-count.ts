/** Distinct keys of a view: a full scan through the read API, O(entries). */
import type { Key } from '../keys.ts'
import type { ReadView } from './view.ts'

export function countDistinctKeys(view: ReadView<Key>): number {
  let n = 0
  let last: Key | null = null
  for (const [k] of view.range()) {
    if (last === null || !sameKey(k, last)) n++
    last = k
  }
  return n
}

function sameKey(a: Key, b: Key): boolean {
  return typeof a === 'string' ? a === b : typeof b !== 'string' && a.equals(b)
}
