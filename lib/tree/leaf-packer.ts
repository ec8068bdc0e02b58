/**
 * packLeavesBalanced (pack.ts) over groups that arrive one at a time: the same leaves, handed out
 * as soon as no later group can change them, so a long run of groups (a big batch landing in one
 * leaf, or in an empty tree) never sits in memory whole. Pure.
 *
 * Groups gather until they fill a few pages, then are packed greedily; every leaf but the last
 * is closed, and the last leaf's groups start the next gathering. Greedy packing only ever looks
 * at the open leaf, so this makes exactly the leaves one packing of all the groups makes. The
 * last closed leaf is held back too: the final balancing may change the last two leaves.
 */
import { PAGE_HEADER_SIZE } from '../format/constants.ts'
import { groupSize, leafSize } from '../format/node.ts'
import type { LeafNode } from '../format/node.ts'
import { balanceLast, packLeaves } from './pack.ts'

/** Gathered bytes at which the groups are packed. */
const GATHER_PAGES = 4

export class LeafPacker {
  private keys: string[] = []
  private ids: number[][] = []
  private bytes = PAGE_HEADER_SIZE
  private closed: LeafNode[] = []
  private readonly pageSize: number

  constructor(pageSize: number) {
    this.pageSize = pageSize
  }

  /** Adds the next group (keys ascending; a key's ids ascending, never empty). */
  add(key: string, ids: number[]): void {
    this.keys.push(key)
    this.ids.push(ids)
    this.bytes += groupSize(key, ids)
    if (this.bytes >= GATHER_PAGES * this.pageSize) this.pack()
  }

  private pack(): void {
    const leaves = packLeaves(this.keys, this.ids, this.pageSize)
    const open = leaves.pop()!
    for (const l of leaves) this.closed.push(l)
    // The open leaf's arrays are its own (packLeaves builds them), so they can grow on.
    this.keys = open.keys
    this.ids = open.ids
    this.bytes = leafSize(open)
  }

  /** The leaves that are final already, in order (each is handed out once). */
  takeFinal(): LeafNode[] {
    return this.closed.length > 1 ? this.closed.splice(0, this.closed.length - 1) : NONE
  }

  /** The remaining leaves, in order, after the last group. */
  finish(): LeafNode[] {
    const rest = this.closed.concat(packLeaves(this.keys, this.ids, this.pageSize))
    this.closed = []
    this.keys = []
    this.ids = []
    return balanceLast(rest, this.pageSize)
  }
}

const NONE: LeafNode[] = []
