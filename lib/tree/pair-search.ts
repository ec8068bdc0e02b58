/**
 * Searches over pairs held side by side in two arrays, keys K and rowIds I, sorted by
 * (key, rowId): the batches, log chunks and log deltas of the tree code. Pure.
 */

/** The first position in [lo, hi) whose pair is ≥ (k, r), or hi: a binary search. r may be -1, fractional or Infinity. */
export function pairSearch(K: readonly string[], I: readonly number[], lo: number, hi: number, k: string, r: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const mk = K[mid]!
    if (mk < k || (mk === k && I[mid]! < r)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * pairSearch from lo, galloping: steps of 1, 2, 4… from lo find a range that holds the answer,
 * a binary search finds it there, so a search just after the previous answer costs O(log
 * distance) comparisons (merges of sorted runs search this way).
 */
export function pairGallop(K: readonly string[], I: readonly number[], lo: number, hi: number, k: string, r: number): number {
  let end = lo
  let step = 1
  while (end < hi) {
    const ek = K[end]!
    if (!(ek < k || (ek === k && I[end]! < r))) break
    lo = end + 1
    end += step
    step *= 2
  }
  return pairSearch(K, I, lo, end > hi ? hi : end, k, r)
}
