/** Writing a tree held in memory: children before parents, so every child's page is below its parent's. */
import { isLeaf } from '../format/node.ts'
import type { TreeNode } from '../format/node.ts'
import type { ChildRef } from './node-ref.ts'

/**
 * Appends every node in memory under `ref` in post-order through `append` (which returns the
 * page number it wrote the node at) and returns the page number of `ref`. An internal node is
 * appended as a new node whose children are those page numbers; the nodes in memory are left
 * as they are.
 */
export function writeTree(ref: ChildRef, append: (node: TreeNode) => number): number {
  if (typeof ref === 'number') return ref
  if (isLeaf(ref)) return append(ref)
  const c = ref.children.length
  if (c < 2) throw new Error('internal error: writing an internal node with fewer than 2 children')
  const children: number[] = new Array(c)
  for (let i = 0; i < c; i++) children[i] = writeTree(ref.children[i]!, append)
  // The same property order as decoded nodes, so cached nodes of both origins share one shape.
  return append({ level: ref.level, children, counts: ref.counts, sepKeys: ref.sepKeys, sepIds: ref.sepIds, count: ref.count })
}
