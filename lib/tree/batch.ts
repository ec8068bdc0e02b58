/** A sorted batch of changes, as a commit applies it: flat, ordered by (key, rowId), each pair once. */
import { pairSearch } from './pair-search.ts'

export interface Batch {
  keys: string[]
  ids: number[]
  /** true = insert the pair (absent before), false = delete it (present before). */
  ins: boolean[]
}

/** First index in [lo, hi) whose pair is ≥ (k, r). */
export function batchLowerBound(b: Batch, lo: number, hi: number, k: string, r: number): number {
  return pairSearch(b.keys, b.ids, lo, hi, k, r)
}

/** Inserts less deletes: the change in the number of pairs. */
export function batchNet(b: Batch): number {
  let n = 0
  for (const i of b.ins) n += i ? 1 : -1
  return n
}
