/** Distinct keys of a view: a full scan through the read API, O(entries). */
import { encodeTypedKey } from '../format/typed-key.ts'
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
  if (typeof a === 'string' || typeof b === 'string') return a === b
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0
  // Typed keys: equal exactly when their encodings are (FORMAT.md §4.1).
  return encodeTypedKey(a).equals(encodeTypedKey(b))
}
