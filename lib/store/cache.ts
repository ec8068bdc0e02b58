/**
 * A cache of decoded nodes, bounded by an estimate of the JavaScript heap they occupy (a decoded
 * 4 KiB leaf of short keys takes about 18 KiB), evicting by the CLOCK policy: a hit only marks
 * the entry; eviction gives marked entries a second chance by moving them to the back. Hits stay
 * cheap (no reordering) while hot pages, such as the root, stay cached.
 */
import { isLeaf } from '../format/node.ts'
import type { TreeNode } from '../format/node.ts'

interface Entry {
  node: TreeNode
  bytes: number
  hot: boolean
}

/** Rough heap bytes of a decoded node: strings, arrays and numbers, calibrated on V8. */
export function nodeHeapBytes(n: TreeNode): number {
  if (isLeaf(n)) {
    let b = 96
    for (let i = 0; i < n.keys.length; i++) b += 80 + n.keys[i]!.length + 8 * n.ids[i]!.length
    return b
  }
  let b = 128 + 32 * n.children.length
  for (const k of n.sepKeys) b += 48 + k.length
  return b
}

export class NodeCache {
  private map = new Map<number, Entry>()
  private readonly capacity: number
  /** Estimated heap bytes of the cached nodes. */
  bytes = 0
  hits = 0
  misses = 0

  /** `capacity`: estimated heap bytes the cached nodes may take. */
  constructor(capacity: number) {
    this.capacity = capacity
  }

  get(page: number): TreeNode | undefined {
    const e = this.map.get(page)
    if (e === undefined) { this.misses++; return undefined }
    this.hits++
    e.hot = true
    return e.node
  }

  set(page: number, node: TreeNode): void {
    if (this.capacity <= 0) return
    const bytes = nodeHeapBytes(node)
    const e = this.map.get(page)
    if (e !== undefined) {
      this.bytes += bytes - e.bytes
      e.node = node
      e.bytes = bytes
    } else {
      this.map.set(page, { node, bytes, hot: false })
      this.bytes += bytes
    }
    while (this.bytes > this.capacity && this.map.size > 0) {
      const [oldest, entry] = this.map.entries().next().value!
      this.map.delete(oldest)
      if (entry.hot) { entry.hot = false; this.map.set(oldest, entry) }
      else this.bytes -= entry.bytes
    }
  }

  get size(): number { return this.map.size }

  clear(): void {
    this.map.clear()
    this.bytes = 0
  }

  /** Forgets pages from `page` on (pages of a commit that failed). */
  dropFrom(page: number): void {
    for (const [p, e] of [...this.map]) if (p >= page) { this.map.delete(p); this.bytes -= e.bytes }
  }
}
