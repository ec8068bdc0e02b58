/** How tree logic reaches nodes: the only dependency tree code has on storage. */
import type { ChildRef, MemNode } from './node-ref.ts'

export interface NodeSource {
  /**
   * Returns the node `ref` names: a node in memory as it is, or the decoded page, which must be a
   * node at `level` (0 = leaf). Throws CORRUPT otherwise.
   */
  load(ref: ChildRef, level: number): MemNode
  /**
   * Optional: whether the leaf at page `page` holds (k, r), answered as load() and a search of
   * the leaf would answer it (the same CORRUPT errors), but without decoding a leaf not cached.
   * p: the pair's pairHash (lib/format/pair-hash.ts) when the caller has it, for a filter.
   */
  leafHas?(page: number, k: string, r: number, p?: number): boolean
  /**
   * Optional: the rowIds of key `k` in the leaf at page `page` (a new array, [] when the leaf
   * shows there are none), or null when they may continue in the next leaf (checkedLeafIds);
   * the same CORRUPT errors as load(), without decoding a leaf not cached.
   */
  leafIds?(page: number, k: string): number[] | null
  /** The file the nodes come from, named by the CORRUPT errors tree code finds itself. */
  readonly path?: string
}

/** A tree as one commit sees it; `Root` is a page number once the tree is written. */
export interface TreeRoot<Root extends ChildRef = ChildRef> {
  root: Root
  height: number
  count: number
}
