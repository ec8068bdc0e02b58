/**
 * Greedy byte-aware packing (FORMAT.md §7): turns a run of entries or children into the smallest
 * number of nodes that each fit in a page, filled in order. When the last node comes out
 * underfull, the last two nodes are rebalanced around their byte midpoint. Pure.
 */
import { PAGE_HEADER_SIZE, SLOT_SIZE, UNDERFULL_DIVISOR, CHILD_FIXED_SIZE } from '../format/constants.ts'
import { varintSize } from '../format/varint.ts'
import type { InternalNode, LeafNode } from '../format/node.ts'
import { groupSize, leafSize, separatorSize } from '../format/node.ts'
import type { ChildRef } from './node-ref.ts'

/**
 * One child of an internal node while it is being rebuilt. sepKey/sepId: its lower separator.
 * `Ref` is `number` where every child is written already (bulk building).
 */
export interface ChildEntry<Ref extends ChildRef = ChildRef> {
  ref: Ref
  count: number
  sepKey: string
  sepId: number
}

export function underfullLimit(pageSize: number): number {
  return pageSize / UNDERFULL_DIVISOR
}

/**
 * Packs sorted groups (distinct keys, ascending ids) into leaves of at most `limit` bytes each.
 * A key whose ids do not fit continues in the next leaf. `limit` must admit any single entry.
 */
export function packLeaves(keys: string[], ids: number[][], limit: number): LeafNode[] {
  const out: LeafNode[] = []
  let curKeys: string[] = []
  let curIds: number[][] = []
  let size = PAGE_HEADER_SIZE
  let count = 0
  const close = (): void => {
    out.push({ level: 0, keys: curKeys, ids: curIds, count })
    curKeys = []; curIds = []; size = PAGE_HEADER_SIZE; count = 0
  }
  for (let g = 0; g < keys.length; g++) {
    const key = keys[g]!
    const list = ids[g]!
    // A group that fits whole joins the leaf as it is (rowId lists are never mutated once built).
    const whole = groupSize(key, list)
    if (size + whole <= limit) {
      curKeys.push(key)
      curIds.push(list)
      size += whole
      count += list.length
      continue
    }
    const head = SLOT_SIZE + varintSize(key.length) + key.length
    let run: number[] | null = null
    let prev = 0
    for (let j = 0; j < list.length; j++) {
      const id = list[j]!
      let cost: number
      if (run === null) cost = head + 1 + varintSize(id)
      else {
        cost = varintSize(id - prev)
        // The group's count varint grows by a byte at 128 and 16384 ids.
        if (run.length === 127 || run.length === 16383) cost += 1
      }
      if (size + cost > limit && count > 0) {
        close()
        run = null
        cost = head + 1 + varintSize(id)
      }
      if (run === null) {
        run = []
        curKeys.push(key)
        curIds.push(run)
      }
      run.push(id)
      size += cost
      count++
      prev = id
    }
  }
  if (count > 0) close()
  return out
}

/** Concatenates leaves (merging a key that ends one and starts the next) into groups. */
export function leafGroups(leaves: LeafNode[]): { keys: string[]; ids: number[][] } {
  const keys: string[] = []
  const ids: number[][] = []
  for (const leaf of leaves) {
    for (let i = 0; i < leaf.keys.length; i++) {
      const k = leaf.keys[i]!
      if (keys.length > 0 && keys[keys.length - 1] === k) ids[ids.length - 1] = ids[ids.length - 1]!.concat(leaf.ids[i]!)
      else { keys.push(k); ids.push(leaf.ids[i]!.slice()) }
    }
  }
  return { keys, ids }
}

/** Packs leaves at `limit` and rebalances an underfull last leaf with its predecessor. */
export function packLeavesBalanced(keys: string[], ids: number[][], pageSize: number, limit = pageSize): LeafNode[] {
  return balanceLast(packLeaves(keys, ids, limit), pageSize)
}

/** Rebalances an underfull last leaf of `leaves` (packed in order) with its predecessor, in place. */
export function balanceLast(leaves: LeafNode[], pageSize: number): LeafNode[] {
  const n = leaves.length
  if (n >= 2 && leafSize(leaves[n - 1]!) < underfullLimit(pageSize)) {
    const pair = leafGroups([leaves[n - 2]!, leaves[n - 1]!])
    const total = leafSize(leaves[n - 2]!) + leafSize(leaves[n - 1]!)
    // Fill the first leaf to the byte midpoint, then everything else must fit in one leaf.
    const split = packLeaves(pair.keys, pair.ids, Math.ceil(total / 2))
    const rest = leafGroups(split.slice(1))
    const second = packLeaves(rest.keys, rest.ids, pageSize)
    if (second.length === 1) leaves.splice(n - 2, 2, split[0]!, second[0]!)
  }
  return leaves
}

/** A packed internal node and the separator it is promoted with (that of its first child). */
export interface InternalPiece<Ref extends ChildRef = ChildRef> {
  node: InternalNode<Ref>
  sepKey: string
  sepId: number
}

/** The children of an internal node as entries; the first inherits `sepKey`/`sepId`. */
export function childEntries<Ref extends ChildRef>(n: InternalNode<Ref>, sepKey: string, sepId: number): ChildEntry<Ref>[] {
  const out: ChildEntry<Ref>[] = new Array(n.children.length)
  for (let i = 0; i < n.children.length; i++) {
    out[i] = {
      ref: n.children[i]!,
      count: n.counts[i]!,
      sepKey: i === 0 ? sepKey : n.sepKeys[i - 1]!,
      sepId: i === 0 ? sepId : n.sepIds[i - 1]!,
    }
  }
  return out
}

/** Packed internal nodes as entries of the level above. */
export function pieceEntries(pieces: InternalPiece[]): ChildEntry[] {
  return pieces.map(p => ({ ref: p.node, count: p.node.count, sepKey: p.sepKey, sepId: p.sepId }))
}

function childEntryCost(e: ChildEntry, first: boolean): number {
  return CHILD_FIXED_SIZE + (first ? 0 : separatorSize(e.sepKey, e.sepId))
}

function makeInternal<Ref extends ChildRef>(entries: ChildEntry<Ref>[], level: number): InternalPiece<Ref> {
  const children: Ref[] = new Array(entries.length)
  const counts: number[] = new Array(entries.length)
  const sepKeys: string[] = new Array(entries.length - 1)
  const sepIds: number[] = new Array(entries.length - 1)
  let count = 0
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    children[i] = e.ref
    counts[i] = e.count
    count += e.count
    if (i > 0) { sepKeys[i - 1] = e.sepKey; sepIds[i - 1] = e.sepId }
  }
  return {
    node: { level, children, counts, sepKeys, sepIds, count },
    sepKey: entries[0]!.sepKey,
    sepId: entries[0]!.sepId,
  }
}

function groupBytes(entries: ChildEntry[], from: number, to: number): number {
  let s = PAGE_HEADER_SIZE
  for (let i = from; i < to; i++) s += childEntryCost(entries[i]!, i === from)
  return s
}

/**
 * Packs children into internal nodes of `level`, each at most `pageSize` bytes, greedily in
 * order. Every node gets ≥ 2 children when there are ≥ 2 in all (the maximum key size
 * guarantees any three children fit together); an underfull last node is rebalanced.
 */
export function packInternals<Ref extends ChildRef>(entries: ChildEntry<Ref>[], level: number, pageSize: number): InternalPiece<Ref>[] {
  const bounds: number[] = [0]
  let size = PAGE_HEADER_SIZE
  let start = 0
  for (let i = 0; i < entries.length; i++) {
    const cost = childEntryCost(entries[i]!, i === start)
    if (size + cost > pageSize && i - start >= 2) {
      bounds.push(i)
      start = i
      size = PAGE_HEADER_SIZE + childEntryCost(entries[i]!, true)
    } else size += cost
  }
  bounds.push(entries.length)
  const groups = bounds.length - 1
  if (groups >= 2) {
    const a = bounds[groups - 2]!
    const b = bounds[groups - 1]!
    const end = bounds[groups]!
    if (end - b < 2 || groupBytes(entries, b, end) < underfullLimit(pageSize)) {
      // Move the split point left to where both parts keep ≥ 2 children, fit, and the smaller
      // part is as large as possible. (Stopping at the byte midpoint instead can overshoot when
      // separators differ in size, and leave the left part underfull.)
      let left = groupBytes(entries, a, b)
      let right = groupBytes(entries, b, end)
      let best = b
      let bestMin = end - b >= 2 ? Math.min(left, right) : -1
      for (let m = b - 1; m - a >= 2; m--) {
        left -= childEntryCost(entries[m]!, false)
        right += childEntryCost(entries[m + 1]!, false) - childEntryCost(entries[m + 1]!, true) + childEntryCost(entries[m]!, true)
        if (right > pageSize) break
        if (end - m >= 2 && Math.min(left, right) > bestMin) { bestMin = Math.min(left, right); best = m }
      }
      bounds[groups - 1] = best
    }
  }
  const out: InternalPiece<Ref>[] = []
  for (let g = 0; g < groups; g++) out.push(makeInternal(entries.slice(bounds[g]!, bounds[g + 1]!), level))
  return out
}
