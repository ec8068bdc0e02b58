/** Where a streaming apply (tree/apply.ts, applyBatchTo) writes the nodes that can no longer change. */
import type { TreeNode } from '../format/node.ts'

export interface NodeSink {
  /**
   * Writes `node` (every child a page number) and returns its page number. Pages returned
   * ascend, and lie above every page of the tree the apply started from.
   */
  append(node: TreeNode): number
}
