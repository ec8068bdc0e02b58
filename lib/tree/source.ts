/** How tree logic reaches nodes: the only dependency tree code has on storage. */
import type { TreeNode } from '../format/node.ts'
import type { ChildRef } from './pack.ts'

export interface NodeSource {
  /**
   * Returns the node `ref` names: a dirty node as it is, or the decoded page, which must be a
   * node at `level` (0 = leaf). Throws CORRUPT otherwise.
   */
  load(ref: ChildRef, level: number): TreeNode
}

/** A tree as one commit sees it. */
export interface TreeRoot {
  root: ChildRef
  height: number
  count: number
}
