/** Writing a dirty tree: children before parents, so every child's page is below its parent's. */
import { isLeaf } from '../format/node.ts'
import type { TreeNode } from '../format/node.ts'
import type { ChildRef } from './pack.ts'

/**
 * Appends every dirty node under `ref` in post-order through `append` (which returns the page
 * number it wrote the node at) and returns the page number of `ref`. Replaces dirty child
 * references in the written nodes by their page numbers.
 */
export function writeTree(ref: ChildRef, append: (node: TreeNode) => number): number {
  if (typeof ref === 'number') return ref
  if (!isLeaf(ref)) {
    const children = ref.children as ChildRef[]
    for (let i = 0; i < children.length; i++) children[i] = writeTree(children[i]!, append)
    if (children.length < 2) throw new Error('internal error: writing an internal node with fewer than 2 children')
  }
  return append(ref)
}
