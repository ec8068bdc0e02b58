/** A least-recently-used cache of decoded nodes, bounded by a number of pages. */
import type { TreeNode } from '../format/node.ts'

export class NodeCache {
  private map = new Map<number, TreeNode>()
  hits = 0
  misses = 0

  private readonly capacity: number

  constructor(capacity: number) {
    this.capacity = capacity
  }

  get(page: number): TreeNode | undefined {
    const n = this.map.get(page)
    if (n === undefined) { this.misses++; return undefined }
    this.hits++
    // Refresh recency only when the entry is in the older half, to keep hits cheap.
    if (this.map.size > 64) { this.map.delete(page); this.map.set(page, n) }
    return n
  }

  set(page: number, node: TreeNode): void {
    if (this.capacity <= 0) return
    this.map.delete(page)
    this.map.set(page, node)
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!)
  }

  get size(): number { return this.map.size }

  clear(): void { this.map.clear() }

  /** Forgets pages from `page` on (pages of a commit that failed). */
  dropFrom(page: number): void {
    for (const p of [...this.map.keys()]) if (p >= page) this.map.delete(p)
  }
}
