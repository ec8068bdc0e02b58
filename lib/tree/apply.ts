/**
 * Applying a batch of changes to a copy-on-write tree. Takes nodes from a NodeSource and builds a
 * new tree that shares every untouched subtree with the old one. Every touched node is rebuilt
 * once per batch, split by greedy byte packing, and merged with a sibling when it ends up
 * underfull (FORMAT.md §7).
 *
 * applyBatch is pure: it returns the new tree as dirty (unwritten) nodes in memory. applyBatchTo
 * streams: it hands each rebuilt node to a NodeSink as soon as no later step of its parent would
 * rebuild it, so the nodes it holds at once are a few per level, not every node it rewrites or
 * makes. Both build the same tree, node for node. In the rare case that a merge further up takes
 * back a node already written (the neighbour of an underfull node its own parent could not merge),
 * the node is read back from the sink's pages and its page counted as garbage.
 */
import { isLeaf, nodeSize } from '../format/node.ts'
import type { LeafNode, TreeNode } from '../format/node.ts'
import { batchLowerBound } from './batch.ts'
import { LeafPacker } from './leaf-packer.ts'
import type { Batch } from './batch.ts'
import type { ChildRef, MemNode } from './node-ref.ts'
import { childEntries, leafGroups, packInternals, packLeavesBalanced, pieceEntries, underfullLimit } from './pack.ts'
import type { ChildEntry } from './pack.ts'
import type { NodeSink } from './sink.ts'
import type { NodeSource, TreeRoot } from './source.ts'
import { writeTree } from './write.ts'

export interface ApplyResult extends TreeRoot {
  /** Clean pages that the new tree no longer references. */
  replaced: number
}

/** What applyBatchTo returns: the tree, written through the sink. */
export interface StreamResult extends TreeRoot<number> {
  /** Clean pages (of the tree applied to) that the new tree no longer references. */
  replaced: number
  /**
   * Pages the sink wrote that the new tree does not reference: a node written once no step of
   * its own parent would touch it that a merge further up rebuilt after all (rare).
   */
  garbage: number
  /** The most rebuilt nodes held in memory, unwritten, at once. */
  peakHeld: number
}

/** The shortest separator s with (lastKey, lastId) < s ≤ (firstKey, firstId). */
export function separatorBetween(lastKey: string, lastId: number, firstKey: string, firstId: number): [string, number] {
  if (lastKey === firstKey) return [firstKey, firstId]
  let c = 0
  while (c < lastKey.length && lastKey.charCodeAt(c) === firstKey.charCodeAt(c)) c++
  const prefix = firstKey.slice(0, c + 1)
  return prefix === firstKey ? [firstKey, firstId] : [prefix, 0]
}

class Applier {
  replaced = 0
  garbage = 0
  /** Rebuilt nodes in memory not yet written (or dropped), and the most at any time. */
  held = 0
  peakHeld = 0
  /** The first page the sink returned: pages from here on are this apply's own. */
  private ownFrom = Infinity

  private readonly src: NodeSource
  private readonly b: Batch
  private readonly pageSize: number
  private readonly sink: NodeSink | null

  constructor(src: NodeSource, b: Batch, pageSize: number, sink: NodeSink | null) {
    this.src = src
    this.b = b
    this.pageSize = pageSize
    this.sink = sink
  }

  private load(ref: ChildRef, level: number): MemNode {
    return this.src.load(ref, level)
  }

  /** A node the new tree no longer holds: a clean page, one this apply wrote, or one in memory. */
  private drop(ref: ChildRef): void {
    if (typeof ref !== 'number') this.held--
    else if (ref >= this.ownFrom) this.garbage++
    else this.replaced++
  }

  private made(entries: ChildEntry[]): ChildEntry[] {
    this.held += entries.length
    if (this.held > this.peakHeld) this.peakHeld = this.held
    return entries
  }

  private made1(): void {
    if (++this.held > this.peakHeld) this.peakHeld = this.held
  }

  /** Writes `node` (every child a page) through the sink. */
  private emit(node: TreeNode): number {
    const page = this.sink!.append(node)
    if (page < this.ownFrom) this.ownFrom = page
    this.held--
    return page
  }

  /**
   * Writes the entries in [from, to) that are final: in memory, not underfull (an underfull
   * node stays in memory, where a merge further up may still take it, as applyBatch would),
   * and every child written. Returns where the next settle of these entries starts.
   */
  private settle(entries: ChildEntry[], from: number, to: number): number {
    const limit = underfullLimit(this.pageSize)
    for (let j = from; j < to; j++) {
      const ref = entries[j]!.ref
      if (typeof ref !== 'number' && allWritten(ref) && nodeSize(ref) >= limit) entries[j]!.ref = this.emit(ref)
    }
    return Math.max(from, to)
  }

  /** Writes every node in memory under `ref`, children first; returns the page of `ref`. */
  private writeAll(ref: ChildRef): number {
    return writeTree(ref, n => this.emit(n))
  }

  /** Turns packed leaves into child entries; the first inherits `sepKey`/`sepId`. */
  private leafEntries(leaves: LeafNode[], sepKey: string, sepId: number): ChildEntry[] {
    const out: ChildEntry[] = new Array(leaves.length)
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!
      const [k, r] = i === 0 ? [sepKey, sepId] : leafSeparator(leaves[i - 1]!, leaf)
      out[i] = { ref: leaf, count: leaf.count, sepKey: k, sepId: r }
    }
    return this.made(out)
  }

  private pieces(entries: ChildEntry[], level: number): ChildEntry[] {
    return this.made(pieceEntries(packInternals(entries, level, this.pageSize)))
  }

  /**
   * Rebuilds a leaf (null: none, an empty tree) with the batch range [lo, hi); returns its
   * replacement entries, the first inheriting `sepKey`/`sepId`. When streaming, the leaves in
   * between are written as soon as they are final: only the first and the last two can still
   * meet an underfull neighbour or the final balancing.
   */
  private rebuildLeaf(leaf: LeafNode | null, lo: number, hi: number, sepKey: string, sepId: number): ChildEntry[] {
    const packer = new LeafPacker(this.pageSize)
    const out: ChildEntry[] = []
    let prev: LeafNode | null = null
    const take = (leaves: LeafNode[], early: boolean): void => {
      for (const l of leaves) {
        const [k, r] = prev === null ? [sepKey, sepId] : leafSeparator(prev, l)
        const e: ChildEntry = { ref: l, count: l.count, sepKey: k, sepId: r }
        this.made1()
        if (early && out.length > 0) e.ref = this.emit(l)
        out.push(e)
        prev = l
      }
    }
    this.mergeLeaf(leaf, lo, hi, (key, ids) => {
      packer.add(key, ids)
      if (this.sink !== null) take(packer.takeFinal(), true)
    })
    take(packer.finish(), false)
    return out
  }

  /** Merges a leaf's groups with the batch range [lo, hi), handing each group to `group` in order. */
  private mergeLeaf(leaf: LeafNode | null, lo: number, hi: number, group: (key: string, ids: number[]) => void): void {
    const b = this.b
    const gk = leaf ? leaf.keys : []
    const gi = leaf ? leaf.ids : []
    let g = 0
    let o = lo
    while (g < gk.length || o < hi) {
      const k = g < gk.length && (o >= hi || gk[g]! <= b.keys[o]!) ? gk[g]! : b.keys[o]!
      const base = g < gk.length && gk[g] === k ? gi[g++]! : EMPTY
      if (o >= hi || b.keys[o] !== k) { group(k, base); continue }
      const merged: number[] = []
      let x = 0
      while (o < hi && b.keys[o] === k) {
        const id = b.ids[o]!
        while (x < base.length && base[x]! < id) merged.push(base[x++]!)
        if (x < base.length && base[x] === id) x++
        if (b.ins[o]) merged.push(id)
        o++
      }
      while (x < base.length) merged.push(base[x++]!)
      if (merged.length > 0) group(k, merged)
    }
  }

  /** Rebuilds the subtree at `ref` with batch range [lo, hi); returns its replacement entries. */
  private applyTo(ref: ChildRef, level: number, lo: number, hi: number, sepKey: string, sepId: number): ChildEntry[] {
    const node = this.load(ref, level)
    this.drop(ref)
    if (isLeaf(node)) return this.rebuildLeaf(node, lo, hi, sepKey, sepId)
    const b = this.b
    const entries: ChildEntry[] = []
    const c = node.children.length
    let start = lo
    // The underfull merges run behind the children as they are rebuilt (fixFrom), and what they
    // have passed is written out when streaming.
    let scan = 0
    let settled = 0
    for (let i = 0; i < c; i++) {
      const end = i + 1 < c ? batchLowerBound(b, start, hi, node.sepKeys[i]!, node.sepIds[i]!) : hi
      const ck = i === 0 ? sepKey : node.sepKeys[i - 1]!
      const cr = i === 0 ? sepId : node.sepIds[i - 1]!
      if (end > start) {
        for (const e of this.applyTo(node.children[i]!, node.level - 1, start, end, ck, cr)) entries.push(e)
        scan = this.fixFrom(entries, node.level - 1, scan, false)
        // Merges only touch entries from scan - 1 on (fixFrom).
        if (this.sink !== null) settled = this.settle(entries, settled, scan - 1)
      } else entries.push({ ref: node.children[i]!, count: node.counts[i]!, sepKey: ck, sepId: cr })
      start = end
    }
    this.fixFrom(entries, node.level - 1, scan, true)
    if (entries.length === 0) return []
    if (this.sink !== null) this.settle(entries, 0, entries.length)
    // The first entry always inherits the node's own lower separator.
    entries[0]!.sepKey = sepKey
    entries[0]!.sepId = sepId
    return this.pieces(entries, node.level)
  }

  /** Merges every rewritten child that ended up underfull with a neighbour. */
  private fixUnderfull(entries: ChildEntry[], level: number): void {
    this.fixFrom(entries, level, 0, true)
  }

  /**
   * fixUnderfull from index `i` on, for entries that may still grow at the end: unless `last`,
   * stops at the first entry without a right neighbour, and returns the index to go on from.
   * An entry is merged with its right neighbour, or, when it is the last, its left one: so the
   * entries below the returned index less one are never touched again, and going on later with
   * more entries does exactly what one pass over all of them does.
   */
  private fixFrom(entries: ChildEntry[], level: number, i: number, last: boolean): number {
    const limit = underfullLimit(this.pageSize)
    while (i < entries.length && (last || i + 1 < entries.length)) {
      const e = entries[i]!
      if (entries.length < 2 || typeof e.ref === 'number' || nodeSize(e.ref) >= limit) { i++; continue }
      const left = i + 1 < entries.length ? i : i - 1
      const merged = this.mergePair(entries[left]!, entries[left + 1]!, level)
      entries.splice(left, 2, ...merged)
      i = merged.length === 1 ? left : left + merged.length
    }
    return i
  }

  private mergePair(a: ChildEntry, b: ChildEntry, level: number): ChildEntry[] {
    const na = this.load(a.ref, level)
    const nb = this.load(b.ref, level)
    this.drop(a.ref)
    this.drop(b.ref)
    if (isLeaf(na) && isLeaf(nb)) {
      const g = leafGroups([na, nb])
      return this.leafEntries(packLeavesBalanced(g.keys, g.ids, this.pageSize), a.sepKey, a.sepId)
    }
    // Siblings are loaded at one level: both leaves or both internal.
    if (isLeaf(na) || isLeaf(nb)) throw new Error('internal error: merging a leaf with an internal node')
    const children = childEntries(na, a.sepKey, a.sepId).concat(childEntries(nb, b.sepKey, b.sepId))
    // A rewritten node can reach here with underfull rewritten children (even a single child)
    // that its own parent could not merge for lack of siblings: merge them now that they have some.
    this.fixUnderfull(children, level - 1)
    return this.pieces(children, level)
  }

  run(t: TreeRoot): TreeRoot {
    const n = this.b.keys.length
    let entries: ChildEntry[]
    if (t.height === 0) {
      entries = this.rebuildLeaf(null, 0, n, '', 0)
    } else {
      entries = n === 0 ? [{ ref: t.root, count: t.count, sepKey: '', sepId: 0 }] : this.applyTo(t.root, t.height - 1, 0, n, '', 0)
    }
    if (entries.length === 0) return { root: 0, height: 0, count: 0 }
    // A root that split gets new roots above it until one node holds all pieces.
    let level = t.height === 0 ? 0 : levelOf(entries[0]!.ref, t.height - 1)
    while (entries.length > 1) {
      // Nothing merges at the top: the pieces are final.
      if (this.sink !== null) for (const e of entries) e.ref = this.writeAll(e.ref)
      level++
      entries = this.pieces(entries, level)
    }
    // A root left with one child hands the root over to that child.
    let root = entries[0]!.ref
    while (level > 0) {
      const node = this.load(root, level)
      // load() checks the level, so above 0 the node is internal: isLeaf only narrows the type.
      if (isLeaf(node) || node.children.length > 1) break
      if (typeof root !== 'number' || root >= this.ownFrom) this.drop(root)
      root = node.children[0]!
      level--
    }
    return { root, height: level + 1, count: entries[0]!.count }
  }

  /** run(), then writes what is left in memory; the root is a page then. */
  runTo(t: TreeRoot): TreeRoot<number> {
    const r = this.run(t)
    return { root: r.height === 0 ? 0 : this.writeAll(r.root), height: r.height, count: r.count }
  }
}

const EMPTY: number[] = []

/** The separator promoted for leaf `next`, which follows leaf `prev`. */
function leafSeparator(prev: LeafNode, next: LeafNode): [string, number] {
  const g = prev.keys.length - 1
  const ids = prev.ids[g]!
  return separatorBetween(prev.keys[g]!, ids[ids.length - 1]!, next.keys[0]!, next.ids[0]![0]!)
}

function levelOf(ref: ChildRef, fallback: number): number {
  return typeof ref === 'number' ? fallback : ref.level
}

/** Whether every child of `n` is a page (a leaf has none). */
function allWritten(n: MemNode): n is TreeNode {
  if (isLeaf(n)) return true
  for (const c of n.children) if (typeof c !== 'number') return false
  return true
}

/** Applies a sorted batch to tree `t`; returns the new tree in memory (see the module comment). */
export function applyBatch(src: NodeSource, t: TreeRoot, batch: Batch, pageSize: number): ApplyResult {
  const a = new Applier(src, batch, pageSize, null)
  return { ...a.run(t), replaced: a.replaced }
}

/**
 * Applies a sorted batch to tree `t`, writing the new tree through `sink` as it goes (see the
 * module comment). `src` must also load the pages `sink` wrote: a merge may take back a node
 * written before it.
 */
export function applyBatchTo(src: NodeSource, t: TreeRoot<number>, batch: Batch, pageSize: number, sink: NodeSink): StreamResult {
  const a = new Applier(src, batch, pageSize, sink)
  const r = a.runTo(t)
  return { ...r, replaced: a.replaced, garbage: a.garbage, peakHeld: a.peakHeld }
}
