/**
 * Reading a tree: ranks, membership, and cursors that walk entries in order. Pure over a
 * NodeSource. Every operation here reads O(height) nodes, plus one per leaf a walk crosses.
 */
import { TailrootError, corrupt } from '../errors.ts'
import { comparePair, internalPrefix, isLeaf, leafStarts } from '../format/node.ts'
import type { InternalNode, LeafNode } from '../format/node.ts'
import type { ChildRef, MemNode } from './node-ref.ts'
import type { NodeSource, TreeRoot } from './source.ts'

/** Index of the child of `n` that holds pair (k, r): the number of separators ≤ (k, r). */
export function childFor(n: InternalNode<unknown>, k: string, r: number): number {
  const keys = n.sepKeys
  const ids = n.sepIds
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const sk = keys[mid]!
    // (sk, id) ≤ (k, r), comparing the keys once when they differ (the usual case).
    if (sk < k || (sk === k && ids[mid]! <= r)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Index of the first group of `leaf` whose key is ≥ k. */
export function groupFor(leaf: LeafNode, k: string): number {
  let lo = 0
  let hi = leaf.keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (leaf.keys[mid]! < k) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Number of ids in a sorted list that are < r. */
export function idsBelow(ids: number[], r: number): number {
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ids[mid]! < r) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Number of pairs strictly less than (k, r). r may be fractional, -1 or Infinity, to express
 * "before every rowId of k" or "after every rowId of k".
 */
export function countLess(src: NodeSource, t: TreeRoot, k: string, r: number): number {
  if (t.height === 0) return 0
  let node = src.load(t.root, t.height - 1)
  let rank = 0
  while (!isLeaf(node)) {
    const i = childFor(node, k, r)
    rank += internalPrefix(node)[i]!
    node = src.load(node.children[i]!, node.level - 1)
  }
  const g = groupFor(node, k)
  rank += g < node.keys.length ? leafStarts(node)[g]! : node.count
  if (g < node.keys.length && node.keys[g] === k) rank += idsBelow(node.ids[g]!, r)
  return rank
}

/** Whether the tree holds (k, r); p: the pair's pairHash, when the caller has it (NodeSource.leafHas). */
export function hasPair(src: NodeSource, t: TreeRoot, k: string, r: number, p?: number): boolean {
  if (t.height === 0) return false
  const ref = leafFor(src, t, k, r)
  if (typeof ref === 'number' && src.leafHas !== undefined) return src.leafHas(ref, k, r, p)
  return leafNodeHas(src.load(ref, 0) as LeafNode, k, r)
}

/** The leaf (not loaded) that holds pair (k, r) if any: one descent of a tree of height ≥ 1. */
function leafFor(src: NodeSource, t: TreeRoot, k: string, r: number): ChildRef {
  let ref: ChildRef = t.root
  for (let level = t.height - 1; level > 0; level--) {
    const node = src.load(ref, level) as InternalNode<ChildRef>
    ref = node.children[childFor(node, k, r)]!
  }
  return ref
}

/** Whether the decoded leaf holds (k, r). */
export function leafNodeHas(leaf: LeafNode, k: string, r: number): boolean {
  const g = groupFor(leaf, k)
  if (g >= leaf.keys.length || leaf.keys[g] !== k) return false
  const ids = leaf.ids[g]!
  const i = idsBelow(ids, r)
  return i < ids.length && ids[i] === r
}

/**
 * The rowIds of key k in a decoded leaf (a copy; [] when the leaf shows there are none), or null
 * when they may continue in the next leaf (k is its last key, or above all of them).
 */
export function leafNodeIds(leaf: LeafNode, k: string): number[] | null {
  const g = groupFor(leaf, k)
  const last = leaf.keys.length - 1
  if (g > last) return null
  if (leaf.keys[g] !== k) return []
  return g === last ? null : leaf.ids[g]!.slice()
}

/**
 * All rowIds of key k, ascending: one descent, then along the leaves the key spans. A key within
 * one leaf of the file is answered by the source from the leaf as it keeps it (leafIds).
 */
export function idsOf(src: NodeSource, t: TreeRoot, k: string): number[] {
  if (t.height === 0) return []
  if (src.leafIds !== undefined) {
    const ref = leafFor(src, t, k, -1)
    if (typeof ref === 'number') {
      const ids = src.leafIds(ref, k)
      if (ids !== null) return ids
    }
  }
  const c = new Cursor(src, t)
  if (!c.seekPair(k, -1) || c.key !== k) return []
  const out = c.groupIds()
  while (c.nextGroup() && c.key === k) for (const r of c.groupIds()) out.push(r)
  return out
}

interface Frame {
  node: InternalNode<ChildRef>
  idx: number
}

/**
 * A position in the tree, between O(height) node loads per leaf it moves into. Walks forward or
 * backward one entry at a time.
 *
 * A crafted file can make internal nodes share a child (a DAG whose counts agree), and a walk
 * would then visit the same leaves again and again, exponentially in the height. So a cursor
 * entering a leaf requires its near end to lie strictly beyond the pair at the far end of the leaf
 * it left: the pairs it yields are strictly monotonic, no leaf is entered twice, and a walk
 * costs at most O(height) loads per distinct leaf of the file, whatever the counts claim.
 */
export class Cursor {
  private stack: Frame[] = []
  private leaf: LeafNode | null = null
  /** The page of `leaf`, or null for a node not written yet; for errors. */
  private leafPage: number | null = null
  private g = 0
  private j = 0

  private readonly src: NodeSource
  private readonly t: TreeRoot

  constructor(src: NodeSource, t: TreeRoot) {
    this.src = src
    this.t = t
  }

  /** Positions on the entry of rank `rank` (0-based); false when there is none. */
  seek(rank: number): boolean {
    this.stack = []
    this.leaf = null
    if (this.t.height === 0 || rank < 0 || rank >= this.t.count) return false
    let node = this.load(this.t.root, this.t.height - 1)
    while (!isLeaf(node)) {
      const prefix = internalPrefix(node)
      let lo = 0
      let hi = prefix.length - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1
        if (prefix[mid]! <= rank) lo = mid
        else hi = mid - 1
      }
      rank -= prefix[lo]!
      this.stack.push({ node, idx: lo })
      node = this.load(node.children[lo]!, node.level - 1)
    }
    if (rank >= node.count) return false
    const starts = leafStarts(node)
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (starts[mid]! <= rank) lo = mid
      else hi = mid - 1
    }
    this.leaf = node
    this.g = lo
    this.j = rank - starts[lo]!
    return true
  }

  /** Positions on the first pair ≥ (k, r); false when there is none. One descent. */
  seekPair(k: string, r: number): boolean {
    this.stack = []
    this.leaf = null
    if (this.t.height === 0) return false
    let node = this.load(this.t.root, this.t.height - 1)
    while (!isLeaf(node)) {
      const i = childFor(node, k, r)
      this.stack.push({ node, idx: i })
      node = this.load(node.children[i]!, node.level - 1)
    }
    this.leaf = node
    const g = groupFor(node, k)
    if (g < node.keys.length && node.keys[g] === k) {
      const j = idsBelow(node.ids[g]!, r)
      if (j < node.ids[g]!.length) { this.g = g; this.j = j; return true }
      this.g = g
      this.j = node.ids[g]!.length - 1
      return this.next()
    }
    if (g < node.keys.length) { this.g = g; this.j = 0; return true }
    this.g = node.keys.length - 1
    this.j = node.ids[this.g]!.length - 1
    return this.next()
  }

  /** Loads a node, remembering the page of the leaf the descent ends on. */
  private load(ref: ChildRef, level: number): MemNode {
    const node = this.src.load(ref, level)
    if (isLeaf(node)) this.leafPage = typeof ref === 'number' ? ref : null
    return node
  }

  get key(): string { return this.leaf!.keys[this.g]! }
  get rowId(): number { return this.leaf!.ids[this.g]![this.j]! }

  /** The remaining rowIds of the current key in the current leaf (a copy). */
  groupIds(): number[] {
    const ids = this.leaf!.ids[this.g]!
    return this.j === 0 ? ids.slice() : ids.slice(this.j)
  }

  /** Moves to the first entry of the next group (possibly in the next leaf). */
  nextGroup(): boolean {
    const leaf = this.leaf
    if (!leaf) return false
    this.j = 0
    if (++this.g < leaf.keys.length) return true
    return this.enterLeaf(1)
  }

  next(): boolean {
    const leaf = this.leaf
    if (!leaf) return false
    if (++this.j < leaf.ids[this.g]!.length) return true
    this.j = 0
    if (++this.g < leaf.keys.length) return true
    return this.enterLeaf(1)
  }

  prev(): boolean {
    const leaf = this.leaf
    if (!leaf) return false
    if (--this.j >= 0) return true
    if (--this.g >= 0) { this.j = leaf.ids[this.g]!.length - 1; return true }
    return this.enterLeaf(-1)
  }

  /** Moves to the neighbouring leaf in direction `dir`, positioned at its near end. */
  private enterLeaf(dir: 1 | -1): boolean {
    const stack = this.stack
    const from = this.leaf!
    const edgeG = dir === 1 ? from.keys.length - 1 : 0
    const edgeIds = from.ids[edgeG]!
    const edgeKey = from.keys[edgeG]!
    const edgeId = dir === 1 ? edgeIds[edgeIds.length - 1]! : edgeIds[0]!
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const next = top.idx + dir
      if (next >= 0 && next < top.node.children.length) {
        top.idx = next
        let node = this.load(top.node.children[next]!, top.node.level - 1)
        while (!isLeaf(node)) {
          const idx = dir === 1 ? 0 : node.children.length - 1
          stack.push({ node, idx })
          node = this.load(node.children[idx]!, node.level - 1)
        }
        this.leaf = node
        this.g = dir === 1 ? 0 : node.keys.length - 1
        this.j = dir === 1 ? 0 : node.ids[this.g]!.length - 1
        if (comparePair(this.key, this.rowId, edgeKey, edgeId) * dir <= 0) {
          this.leaf = null
          this.stack = []
          throw outOfOrder(this.src, this.leafPage)
        }
        return true
      }
      stack.pop()
    }
    this.leaf = null
    return false
  }
}

/** CORRUPT for a leaf out of order with the one the cursor left, naming the file and page when known. */
function outOfOrder(src: NodeSource, page: number | null): TailrootError {
  const what = 'leaf out of key order with the leaf walked before it (a page reached twice, or a misplaced page)'
  const path = src.path
  if (path === undefined) return new TailrootError('CORRUPT', page === null ? what : `page ${page}: ${what}`, page === null ? {} : { page })
  return page === null ? new TailrootError('CORRUPT', `${path}: ${what}`, { path }) : corrupt(path, page, what)
}

/** Yields `n` pairs from rank `start`, forward or (reverse) backward. Lazy. */
export function* walk(src: NodeSource, t: TreeRoot, start: number, n: number, reverse: boolean): Generator<[string, number]> {
  if (n <= 0) return
  const c = new Cursor(src, t)
  if (!c.seek(start)) return
  for (let i = 0; ; ) {
    yield [c.key, c.rowId]
    if (++i >= n) return
    if (!(reverse ? c.prev() : c.next())) return
  }
}
