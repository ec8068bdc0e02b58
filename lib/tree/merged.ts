/**
 * Reads over a tree and its pending changes (a ChangeLog), as one sorted set: the pairs of the
 * tree, less the log's -1 entries, plus its +1 entries. Pure over a NodeSource. Ranks cost
 * O(height) node loads plus O(log size) in the log; finding the pair at a rank takes a binary
 * search over the log, O(height · log(log size)) loads, all on one path of cached nodes.
 */
import { comparePair } from '../format/node.ts'
import { keyHash, pairHash } from '../format/pair-hash.ts'
import type { ChangeLog } from './change-log.ts'
import { Cursor, countLess, hasPair, idsOf, walk } from './read.ts'
import type { NodeSource, TreeRoot } from './source.ts'

export interface MergedTree {
  src: NodeSource
  tree: TreeRoot
  log: ChangeLog
}

/** Pairs in the merged set. */
export function mergedCount(m: MergedTree): number {
  return m.tree.count + m.log.net
}

/** Pairs of the merged set strictly below (k, r); r may be -1, fractional or Infinity. */
export function mergedCountLess(m: MergedTree, k: string, r: number): number {
  const t = countLess(m.src, m.tree, k, r)
  return m.log.empty ? t : t + m.log.netBelow(k, r)
}

/** Whether the merged set holds (k, r); the pair is hashed once, for the log's filters and the leaf's. */
export function mergedHas(m: MergedTree, k: string, r: number): boolean {
  const p = pairHash(keyHash(k), r)
  const s = m.log.state(k, r, p)
  return s !== 0 ? s > 0 : hasPair(m.src, m.tree, k, r, p)
}

/** All rowIds of key k, ascending. */
export function mergedIdsOf(m: MergedTree, k: string): number[] {
  const ids = idsOf(m.src, m.tree, k)
  const c = m.log.keyChanges(k)
  if (c === null) return ids
  const del = new Set(c.del)
  const out = del.size > 0 ? ids.filter(r => !del.has(r)) : ids
  if (c.ins.length > 0) { for (const r of c.ins) out.push(r); out.sort((a, b) => a - b) }
  return out
}

/** Yields `n` pairs of the merged set from rank `start`, forward or (reverse) backward. Lazy. */
export function* mergedWalk(m: MergedTree, start: number, n: number, reverse: boolean): Generator<[string, number]> {
  if (m.log.empty) { yield* walk(m.src, m.tree, start, n, reverse); return }
  if (n <= 0 || start < 0 || start >= mergedCount(m)) return
  const x = pairAt(m, start)
  if (x === null) return
  const [k, r] = x
  const log = m.log
  const c = new Cursor(m.src, m.tree)
  // The tree and log positions of x: the first pair ≥ x going forward, the last ≤ x going back
  // (r + 0.5 would round to r near 2^53, so "≤ x" is "< x" plus x itself).
  const tLess = countLess(m.src, m.tree, k, r)
  const lLess = log.lowerBound(k, r)
  let onTree = reverse ? c.seek(tLess + (hasPair(m.src, m.tree, k, r) ? 1 : 0) - 1) : c.seek(tLess)
  let li = reverse ? lLess + (lLess < log.size && log.keyAt(lLess) === k && log.idAt(lLess) === r ? 1 : 0) - 1 : lLess
  const dir = reverse ? -1 : 1
  for (let i = 0; i < n; ) {
    const onLog = li >= 0 && li < log.size
    if (!onTree && !onLog) return
    const cmp = !onTree ? 1 : !onLog ? -1 : comparePair(c.key, c.rowId, log.keyAt(li), log.idAt(li)) * dir
    if (cmp < 0) {
      yield [c.key, c.rowId]
      i++
      onTree = reverse ? c.prev() : c.next()
    } else {
      const sign = log.signAt(li)
      if (cmp > 0) {
        // A pair only the log has: an insert (a delete of a pair the tree lacks is skipped).
        if (sign > 0) { yield [log.keyAt(li), log.idAt(li)]; i++ }
      } else if (sign > 0) {
        // Both have it; the log's insert is redundant: yield the pair once.
        yield [c.key, c.rowId]
        i++
        onTree = reverse ? c.prev() : c.next()
      } else {
        onTree = reverse ? c.prev() : c.next()
      }
      li += dir
    }
  }
}

/**
 * The pair of merged rank R. With p_j the j-th log entry, below(j) = mergedCountLess(p_j) grows
 * with j; the pair lies at or after the last entry j* with below(j*) ≤ R and before entry j*+1:
 * it is p_j* itself when that is an insert of rank R, else the tree pair of rank
 * R − netBefore(j* + 1) (the tree pairs below it are R less the log's net below it).
 */
function pairAt(m: MergedTree, R: number): [string, number] | null {
  const log = m.log
  let lo = -1
  let hi = log.size - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    const below = countLess(m.src, m.tree, log.keyAt(mid), log.idAt(mid)) + log.netBefore(mid)
    if (below <= R) lo = mid
    else hi = mid - 1
  }
  if (lo >= 0 && log.signAt(lo) > 0) {
    const below = countLess(m.src, m.tree, log.keyAt(lo), log.idAt(lo)) + log.netBefore(lo)
    if (below === R) return [log.keyAt(lo), log.idAt(lo)]
  }
  const t = R - log.netBefore(lo + 1)
  const c = new Cursor(m.src, m.tree)
  return c.seek(t) ? [c.key, c.rowId] : null
}
