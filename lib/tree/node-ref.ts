/**
 * What tree code holds while it rebuilds a tree: children that are pages already written, or
 * nodes in memory that the commit writes later (tree/write.ts turns those into page numbers).
 */
import type { InternalNode, LeafNode, TreeNode } from '../format/node.ts'

/** A child: a page number (written), or a node in memory not written yet. */
export type ChildRef = number | LeafNode | InternalNode<ChildRef>

/**
 * A node as tree code sees it: decoded from a page (every child a page number, so a TreeNode is
 * one) or rebuilt in memory. Only encode a node whose children are all page numbers.
 */
export type MemNode = TreeNode<ChildRef>
