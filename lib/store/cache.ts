/**
 * A cache of decoded nodes, bounded by a number of pages, evicting by the CLOCK policy: a hit
 * only marks the entry; eviction gives marked entries a second chance by moving them to the
 * back. Hits stay cheap (no reordering) while hot pages, such as the root, stay cached.
 */
import type { TreeNode } from '../format/node.ts'

interface Entry {
  node: TreeNode
  hot: boolean
}

export class NodeCache {
  private map = new Map<number, Entry>()
  private readonly capacity: number
  hits = 0
  misses = 0

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
    const e = this.map.get(page)
    if (e !== undefined) { e.node = node; return }
    this.map.set(page, { node, hot: false })
    while (this.map.size > this.capacity) {
      const [oldest, entry] = this.map.entries().next().value!
      this.map.delete(oldest)
      if (entry.hot) { entry.hot = false; this.map.set(oldest, entry) }
    }
  }

  get size(): number { return this.map.size }

  clear(): void { this.map.clear() }

  /** Forgets pages from `page` on (pages of a commit that failed). */
  dropFrom(page: number): void {
    for (const p of [...this.map.keys()]) if (p >= page) this.map.delete(p)
  }
}
