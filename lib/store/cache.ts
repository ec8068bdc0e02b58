/**
 * A cache of decoded nodes, bounded by an estimate of the memory they occupy (a decoded 4 KiB
 * leaf of short keys takes about 18 KiB of heap), evicting by the CLOCK policy: a hit only marks
 * the entry; eviction gives marked entries a second chance by moving them to the back. Hits stay
 * cheap (no reordering) while hot pages, such as the root, stay cached.
 *
 * A leaf that only presence checks have read is kept as its checked page bytes instead
 * (setPage), a quarter of the memory, which IndexFile.leafHas searches as they are; a read that
 * needs the node decodes those bytes, and the node replaces them.
 */
import { isLeaf } from '../format/node.ts'
import type { TreeNode } from '../format/node.ts'

/**
 * A cached page: its decoded node, or (node null) the checked bytes of a leaf page, with a filter
 * of its pairs once a presence check has searched the kept bytes (filterFor).
 */
export interface CacheEntry {
  readonly node: TreeNode | null
  readonly page: Buffer | null
  readonly filter: Int32Array | null
}

interface Entry extends CacheEntry {
  node: TreeNode | null
  page: Buffer | null
  filter: Int32Array | null
  bytes: number
  hot: boolean
}

/** Estimated bytes of a page kept as bytes beyond its length (the Buffer, its backing store, the entry). */
const PAGE_OVERHEAD = 160

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
  /** Estimated bytes of the cached pages (heap of the nodes, page bytes). */
  bytes = 0
  hits = 0
  misses = 0

  /** `capacity`: estimated bytes the cached pages may take. */
  constructor(capacity: number) {
    this.capacity = capacity
  }

  get(page: number): TreeNode | undefined {
    const e = this.map.get(page)
    if (e === undefined || e.node === null) { this.misses++; return undefined }
    this.hits++
    e.hot = true
    return e.node
  }

  /** The entry of `page`, node or bytes (a hit for either), or undefined. */
  entry(page: number): CacheEntry | undefined {
    const e = this.map.get(page)
    if (e === undefined) { this.misses++; return undefined }
    this.hits++
    e.hot = true
    return e
  }

  /** The checked bytes of `page` kept by setPage (not counted as a hit or a miss), or undefined. */
  getPage(page: number): Buffer | undefined {
    return this.map.get(page)?.page ?? undefined
  }

  /**
   * The filter of the pairs of entry e (page bytes), made by `make` at the first presence check
   * of the kept bytes: a leaf that one check read and kept (setPage) does not pay for one until
   * it is checked again. Its bytes count in the cache's.
   */
  filterFor(e: CacheEntry, make: (page: Buffer) => Int32Array): Int32Array | null {
    const x = e as Entry
    if (x.filter !== null) return x.filter
    if (x.page === null) return null
    const f = make(x.page)
    x.filter = f
    x.bytes += f.byteLength
    this.bytes += f.byteLength
    return f
  }

  /** Whether set() and setPage() keep anything (capacity above 0). */
  get enabled(): boolean { return this.capacity > 0 }

  set(page: number, node: TreeNode): void {
    this.put(page, node, null, nodeHeapBytes(node))
  }

  /** Keeps the checked bytes of leaf `page` (a Buffer of its own, never written to again). */
  setPage(page: number, bytes: Buffer): void {
    this.put(page, null, bytes, bytes.length + PAGE_OVERHEAD)
  }

  private put(page: number, node: TreeNode | null, bytes: Buffer | null, size: number): void {
    if (this.capacity <= 0) return
    const e = this.map.get(page)
    if (e !== undefined) {
      this.bytes += size - e.bytes
      e.node = node
      e.page = bytes
      e.filter = null
      e.bytes = size
    } else {
      this.map.set(page, { node, page: bytes, filter: null, bytes: size, hot: false })
      this.bytes += size
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

  /** Forgets `page`. */
  delete(page: number): void {
    const e = this.map.get(page)
    if (e === undefined) return
    this.map.delete(page)
    this.bytes -= e.bytes
  }

  /** Forgets pages from `page` on (pages of a commit that failed). */
  dropFrom(page: number): void {
    for (const [p, e] of [...this.map]) if (p >= page) { this.map.delete(p); this.bytes -= e.bytes }
  }
}
