/**
 * Crafted index files: node pages assembled by hand into a file whose every checksum is valid,
 * so that only the structure is wrong. Used by the tests of hostile trees (shared children,
 * lying counts, wrong heights) and by the structural fuzzer.
 */
import { crc32c } from '@node-rs/crc32'
import { COMMIT_DATA_SYNCED, FORMAT_VERSION } from '../../lib/format/constants.ts'
import { NO_LOG, encodeCommit } from '../../lib/format/commit.ts'
import { encodeHeader } from '../../lib/format/header.ts'
import { encodeInternal, encodeLeaf } from '../../lib/format/node.ts'
import type { InternalNode, LeafNode } from '../../lib/format/node.ts'

export const CRAFT_FILE_ID = Buffer.from('crafted-file-id!', 'latin1')

export interface CraftedCommit {
  root: number
  height: number
  entryCount: number
  livePages: number
}

/**
 * A whole file: the header, `nodes` as pages 1..n (already encoded with those page numbers) and
 * one data-synced commit page after them, with a correct data checksum.
 */
export function assemble(pageSize: number, nodes: Buffer[], c: CraftedCommit): Buffer {
  const header = encodeHeader({ formatVersion: FORMAT_VERSION, pageSize, keyEncoding: 'utf8', unique: false, fileId: CRAFT_FILE_ID, createdAt: 0 })
  const data = Buffer.concat(nodes)
  const page = nodes.length + 1
  const commit = encodeCommit({
    page, sequence: 1, root: c.root, height: c.height, flags: COMMIT_DATA_SYNCED, entryCount: c.entryCount,
    prevCommit: 0, firstDataPage: 1, dataCrc: nodes.length === 0 ? 0 : crc32c(data), livePages: c.livePages,
    timestamp: 0, meta: null, ...NO_LOG,
  }, CRAFT_FILE_ID, pageSize)
  return Buffer.concat([header, data, commit])
}

export function leaf(keys: string[], ids: number[][]): LeafNode {
  return { level: 0, keys, ids, count: ids.reduce((a, l) => a + l.length, 0) }
}

/**
 * A DAG instead of a tree: page 1 is a leaf holding ('a', 1), and each page p = 2..height is an
 * internal node at level p - 1 whose `fanout` children are all page p - 1. Counts multiply by
 * `fanout` per level, as a tree of that shape would have them, up to 2^40 per child (above that,
 * they stop growing and no longer add up). Without a guard, walking it visits the leaf
 * fanout^(height-1) times.
 */
export function sharedChildFile(height: number, fanout = 2, pageSize = 512): Buffer {
  const nodes: Buffer[] = [encodeLeaf(leaf(['a'], [[1]]), 1, pageSize)]
  let per = 1
  let total = 1
  for (let level = 1; level < height; level++) {
    const n: InternalNode = {
      level,
      children: new Array<number>(fanout).fill(level),
      counts: new Array<number>(fanout).fill(per),
      // Above the leaf's pair, so the first child's bounds are right and only the sharing is wrong.
      sepKeys: new Array<string>(fanout - 1).fill('b'),
      sepIds: Array.from({ length: fanout - 1 }, (_, i) => i),
      count: per * fanout,
    }
    nodes.push(encodeInternal(n, level + 1, pageSize))
    total = per * fanout
    per = Math.min(total, 2 ** 40)
  }
  return assemble(pageSize, nodes, { root: height, height, entryCount: total, livePages: height })
}

/**
 * A valid tree of two leaves, ('a', 1..3) on page 1 and ('c', 1..3) on page 2, under a root on
 * page 3; `height` is what the commit claims (2 is the truth).
 */
export function twoLeafFile(height = 2, pageSize = 512): Buffer {
  const root: InternalNode = { level: 1, children: [1, 2], counts: [3, 3], sepKeys: ['c'], sepIds: [1], count: 6 }
  return assemble(pageSize, [
    encodeLeaf(leaf(['a'], [[1, 2, 3]]), 1, pageSize),
    encodeLeaf(leaf(['c'], [[1, 2, 3]]), 2, pageSize),
    encodeInternal(root, 3, pageSize),
  ], { root: 3, height, entryCount: 6, livePages: 3 })
}
