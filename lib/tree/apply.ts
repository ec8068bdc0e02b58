/**
 * Applying a batch of changes to a copy-on-write tree. Pure: takes nodes from a NodeSource and
 * returns a new tree of dirty (unwritten) nodes that share every untouched subtree with the old
 * one. Every touched node is rebuilt once per batch, split by greedy byte packing, and merged
 * with a sibling when it ends up underfull (FORMAT.md §7).
 */
import { isLeaf, nodeSize } from '../format/node.ts'
import type { LeafNode } from '../format/node.ts'
import { batchLowerBound } from './batch.ts'
import type { Batch } from './batch.ts'
import type { ChildRef, MemNode } from './node-ref.ts'
import { childEntries, leafGroups, packInternals, packLeavesBalanced, pieceEntries, underfullLimit } from './pack.ts'
import type { ChildEntry } from './pack.ts'
import type { NodeSource, TreeRoot } from './source.ts'

export interface ApplyResult extends TreeRoot {
  /** Clean pages that the new tree no longer references. */
  replaced: number
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

  private readonly src: NodeSource
  private readonly b: Batch
  private readonly pageSize: number

  constructor(src: NodeSource, b: Batch, pageSize: number) {
    this.src = src
    this.b = b
    this.pageSize = pageSize
  }

  private load(ref: ChildRef, level: number): MemNode {
    return this.src.load(ref, level)
  }

  /** Turns packed leaves into child entries; the first inherits `sepKey`/`sepId`. */
  private leafEntries(leaves: LeafNode[], sepKey: string, sepId: number): ChildEntry[] {
    const out: ChildEntry[] = []
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!
      if (i === 0) { out.push({ ref: leaf, count: leaf.count, sepKey, sepId }); continue }
      const prev = leaves[i - 1]!
      const lastG = prev.keys.length - 1
      const lastIds = prev.ids[lastG]!
      const [k, r] = separatorBetween(prev.keys[lastG]!, lastIds[lastIds.length - 1]!, leaf.keys[0]!, leaf.ids[0]![0]!)
      out.push({ ref: leaf, count: leaf.count, sepKey: k, sepId: r })
    }
    return out
  }

  /** Merges a leaf's groups with the batch range [lo, hi). */
  private mergeLeaf(leaf: LeafNode | null, lo: number, hi: number): { keys: string[]; ids: number[][] } {
    const b = this.b
    const keys: string[] = []
    const ids: number[][] = []
    const gk = leaf ? leaf.keys : []
    const gi = leaf ? leaf.ids : []
    let g = 0
    let o = lo
    while (g < gk.length || o < hi) {
      const k = g < gk.length && (o >= hi || gk[g]! <= b.keys[o]!) ? gk[g]! : b.keys[o]!
      const base = g < gk.length && gk[g] === k ? gi[g++]! : EMPTY
      if (o >= hi || b.keys[o] !== k) { keys.push(k); ids.push(base); continue }
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
      if (merged.length > 0) { keys.push(k); ids.push(merged) }
    }
    return { keys, ids }
  }

  /** Rebuilds the subtree at `ref` with batch range [lo, hi); returns its replacement entries. */
  private applyTo(ref: ChildRef, level: number, lo: number, hi: number, sepKey: string, sepId: number): ChildEntry[] {
    const node = this.load(ref, level)
    if (typeof ref === 'number') this.replaced++
    if (isLeaf(node)) {
      const m = this.mergeLeaf(node, lo, hi)
      return this.leafEntries(packLeavesBalanced(m.keys, m.ids, this.pageSize), sepKey, sepId)
    }
    const b = this.b
    const entries: ChildEntry[] = []
    const c = node.children.length
    let start = lo
    for (let i = 0; i < c; i++) {
      const end = i + 1 < c ? batchLowerBound(b, start, hi, node.sepKeys[i]!, node.sepIds[i]!) : hi
      const ck = i === 0 ? sepKey : node.sepKeys[i - 1]!
      const cr = i === 0 ? sepId : node.sepIds[i - 1]!
      if (end > start) entries.push(...this.applyTo(node.children[i]!, node.level - 1, start, end, ck, cr))
      else entries.push({ ref: node.children[i]!, count: node.counts[i]!, sepKey: ck, sepId: cr })
      start = end
    }
    this.fixUnderfull(entries, node.level - 1)
    if (entries.length === 0) return []
    // The first entry always inherits the node's own lower separator.
    entries[0]!.sepKey = sepKey
    entries[0]!.sepId = sepId
    return pieceEntries(packInternals(entries, node.level, this.pageSize))
  }

  /** Merges every rewritten child that ended up underfull with a neighbour. */
  private fixUnderfull(entries: ChildEntry[], level: number): void {
    const limit = underfullLimit(this.pageSize)
    let i = 0
    while (i < entries.length) {
      const e = entries[i]!
      if (entries.length < 2 || typeof e.ref === 'number' || nodeSize(e.ref) >= limit) { i++; continue }
      const left = i + 1 < entries.length ? i : i - 1
      const merged = this.mergePair(entries[left]!, entries[left + 1]!, level)
      entries.splice(left, 2, ...merged)
      i = merged.length === 1 ? left : left + merged.length
    }
  }

  private mergePair(a: ChildEntry, b: ChildEntry, level: number): ChildEntry[] {
    const na = this.load(a.ref, level)
    const nb = this.load(b.ref, level)
    if (typeof a.ref === 'number') this.replaced++
    if (typeof b.ref === 'number') this.replaced++
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
    return pieceEntries(packInternals(children, level, this.pageSize))
  }

  run(t: TreeRoot): ApplyResult {
    const n = this.b.keys.length
    let entries: ChildEntry[]
    if (t.height === 0) {
      const m = this.mergeLeaf(null, 0, n)
      entries = this.leafEntries(packLeavesBalanced(m.keys, m.ids, this.pageSize), '', 0)
    } else {
      entries = n === 0 ? [{ ref: t.root, count: t.count, sepKey: '', sepId: 0 }] : this.applyTo(t.root, t.height - 1, 0, n, '', 0)
    }
    if (entries.length === 0) return { root: 0, height: 0, count: 0, replaced: this.replaced }
    // A root that split gets new roots above it until one node holds all pieces.
    let level = t.height === 0 ? 0 : levelOf(entries[0]!.ref, t.height - 1)
    while (entries.length > 1) {
      level++
      entries = pieceEntries(packInternals(entries, level, this.pageSize))
    }
    // A root left with one child hands the root over to that child.
    let root = entries[0]!.ref
    while (level > 0) {
      const node = this.load(root, level)
      // load() checks the level, so above 0 the node is internal: isLeaf only narrows the type.
      if (isLeaf(node) || node.children.length > 1) break
      root = node.children[0]!
      level--
    }
    return { root, height: level + 1, count: entries[0]!.count, replaced: this.replaced }
  }
}

const EMPTY: number[] = []

function levelOf(ref: ChildRef, fallback: number): number {
  return typeof ref === 'number' ? fallback : ref.level
}

/** Applies a sorted batch to tree `t`; see the module comment. */
export function applyBatch(src: NodeSource, t: TreeRoot, batch: Batch, pageSize: number): ApplyResult {
  return new Applier(src, batch, pageSize).run(t)
}
