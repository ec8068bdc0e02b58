/**
 * Reads the tree of an index file's newest commit node by node (through lib internals) so tests
 * can check its shape: nodes per level, children per internal node, byte sizes, and which pages
 * the newest commit wrote.
 */
import { isLeaf, nodeSize } from '../../lib/format/node.ts'
import type { Commit } from '../../lib/format/commit.ts'
import { IndexFile } from '../../lib/store/file.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'

export interface NodeInfo {
  page: number
  level: number
  /** Encoded bytes. */
  size: number
  /** Children (internal) or key groups (leaf). */
  fanout: number
  entries: number
}

export interface Shape {
  commit: Commit
  height: number
  /** nodes[level] = the nodes of that level, in key order (0 = leaves). */
  nodes: NodeInfo[][]
  /** Groups of each leaf, in order: [key bytes (latin1), number of rowIds]. */
  leafGroups: [string, number][][]
}

export function readShape(path: string): Shape {
  const f = IndexFile.open(nodeVfs, path, false, 0)
  try {
    const commit = f.findNewestCommit(0)
    if (commit === null) throw new Error(`${path}: no commit`)
    const nodes: NodeInfo[][] = []
    for (let l = 0; l < commit.height; l++) nodes.push([])
    const leafGroups: [string, number][][] = []
    const visit = (page: number, level: number): void => {
      const n = f.node(page, level)
      const info: NodeInfo = { page, level, size: nodeSize(n), fanout: isLeaf(n) ? n.keys.length : n.children.length, entries: n.count }
      nodes[level]!.push(info)
      if (isLeaf(n)) leafGroups.push(n.keys.map((k, i) => [k, n.ids[i]!.length]))
      else for (const c of n.children) visit(c, level - 1)
    }
    if (commit.height > 0) visit(commit.root, commit.height - 1)
    return { commit, height: commit.height, nodes, leafGroups }
  } finally {
    f.release()
  }
}
