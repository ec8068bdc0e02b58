/**
 * Bottom-up bulk building from sorted pairs. Memory stays bounded by the tree height: each level
 * keeps at most a few pages of pending entries; complete nodes are written as soon as they are
 * known. The last two nodes of each level are balanced when the input ends.
 */
import { CHILD_FIXED_SIZE, MAX_VARINT_BYTES, SEPARATOR_OVERHEAD, SLOT_SIZE } from '../format/constants.ts'
import { leafSize } from '../format/node.ts'
import type { LeafNode, TreeNode } from '../format/node.ts'
import { separatorBetween } from './apply.ts'
import { childEntries, packInternals, packLeaves, packLeavesBalanced } from './pack.ts'
import type { ChildEntry } from './pack.ts'
import type { TreeRoot } from './source.ts'

/** Pending bytes at which a level packs and writes all but its last two nodes. */
const FLUSH_PAGES = 4

/** An upper bound of a child entry's bytes in an internal page (FORMAT.md §6). */
function entryBytesBound(e: ChildEntry<number>): number {
  return CHILD_FIXED_SIZE + SLOT_SIZE + SEPARATOR_OVERHEAD + e.sepKey.length
}

export class TreeBuilder {
  private readonly pageSize: number
  private readonly leafLimit: number
  private readonly append: (node: TreeNode) => number
  private keys: string[] = []
  private ids: number[][] = []
  private leafBytes = 0
  /** Pending child entries of each internal level (levels[0] = level 1), all written already. */
  private levels: ChildEntry<number>[][] = []
  private levelBytes: number[] = []
  /** Nodes written at each level (0 = leaves). */
  private emitted: number[] = [0]
  private lastKey = ''
  private lastId = -1
  private total = 0

  constructor(pageSize: number, fill: number, append: (node: TreeNode) => number) {
    this.pageSize = pageSize
    this.leafLimit = Math.floor(pageSize * fill)
    this.append = append
  }

  /** Adds the next pair; pairs must come in strictly ascending order (the caller checks). */
  add(k: string, r: number): void {
    const n = this.keys.length
    if (n > 0 && this.keys[n - 1] === k) {
      this.ids[n - 1]!.push(r)
      this.leafBytes += MAX_VARINT_BYTES
    } else {
      this.keys.push(k)
      this.ids.push([r])
      this.leafBytes += SLOT_SIZE + 3 + k.length + 3 + MAX_VARINT_BYTES
    }
    this.total++
    // leafBytes is an upper bound of the pending leaves' encoded size.
    if (this.leafBytes >= FLUSH_PAGES * this.leafLimit) this.flushLeaves(false)
  }

  private flushLeaves(final: boolean): void {
    const leaves = final
      ? packLeavesBalanced(this.keys, this.ids, this.pageSize, this.leafLimit)
      : packLeaves(this.keys, this.ids, this.leafLimit)
    const keep = final ? 0 : Math.min(2, leaves.length)
    for (let i = 0; i < leaves.length - keep; i++) this.emitLeaf(leaves[i]!)
    this.keys = []
    this.ids = []
    this.leafBytes = 0
    for (let i = leaves.length - keep; i < leaves.length; i++) {
      const l = leaves[i]!
      for (let g = 0; g < l.keys.length; g++) {
        const k = l.keys[g]!
        if (this.keys.length > 0 && this.keys[this.keys.length - 1] === k) this.ids[this.ids.length - 1]!.push(...l.ids[g]!)
        else { this.keys.push(k); this.ids.push(l.ids[g]!.slice()) }
      }
      this.leafBytes += leafSize(l)
    }
  }

  private emitLeaf(leaf: LeafNode): void {
    const page = this.append(leaf)
    let sepKey = ''
    let sepId = 0
    if (this.emitted[0]! > 0) [sepKey, sepId] = separatorBetween(this.lastKey, this.lastId, leaf.keys[0]!, leaf.ids[0]![0]!)
    const g = leaf.keys.length - 1
    const last = leaf.ids[g]!
    this.lastKey = leaf.keys[g]!
    this.lastId = last[last.length - 1]!
    this.emitted[0]!++
    this.push(0, { ref: page, count: leaf.count, sepKey, sepId })
  }

  /** Adds a child entry to the internal level above `level`. */
  private push(level: number, e: ChildEntry<number>): void {
    if (this.levels.length <= level) { this.levels.push([]); this.levelBytes.push(0); this.emitted.push(0) }
    this.levels[level]!.push(e)
    this.levelBytes[level]! += entryBytesBound(e)
    if (this.levelBytes[level]! >= FLUSH_PAGES * this.pageSize) this.flushLevel(level, false)
  }

  private flushLevel(level: number, final: boolean): void {
    const entries = this.levels[level]!
    const pieces = packInternals(entries, level + 1, this.pageSize)
    const keep = final ? 0 : Math.min(2, pieces.length)
    for (let i = 0; i < pieces.length - keep; i++) {
      const p = pieces[i]!
      const page = this.append(p.node)
      this.emitted[level + 1]!++
      this.push(level + 1, { ref: page, count: p.node.count, sepKey: p.sepKey, sepId: p.sepId })
    }
    const rest = pieces.slice(pieces.length - keep).flatMap(p => childEntries(p.node, p.sepKey, p.sepId))
    this.levels[level] = rest
    this.levelBytes[level] = rest.reduce((s, e) => s + entryBytesBound(e), 0)
  }

  /** Takes back the pairs not yet written (to restart after unsorted input). */
  drain(): [string, number][] {
    const out: [string, number][] = []
    for (let g = 0; g < this.keys.length; g++) for (const r of this.ids[g]!) out.push([this.keys[g]!, r])
    this.keys = []
    this.ids = []
    return out
  }

  /** Writes everything still pending and returns the tree. */
  finish(): TreeRoot<number> {
    if (this.total === 0) return { root: 0, height: 0, count: 0 }
    this.flushLeaves(true)
    for (let level = 0; level < this.levels.length; level++) {
      const entries = this.levels[level]!
      // A level that received a single child overall: that child is the root.
      if (this.emitted[level]! === 1 && entries.length === 1 && level === this.levels.length - 1) {
        return { root: entries[0]!.ref, height: level + 1, count: this.total }
      }
      this.flushLevel(level, true)
    }
    throw new Error('internal error: bulk build ended without a root')
  }
}
