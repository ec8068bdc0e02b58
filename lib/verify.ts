/**
 * Index.verify: checks every page reachable from the newest commit (CRC, page number, type,
 * level, child-below-parent bounds, layout), key order across the whole tree, subtree counts,
 * the commit's entry and live-page counts, and the newest commit's data checksum. Damage is
 * reported, not thrown, and checking goes on past it to report every damaged page.
 */
import { TailrootError } from './errors.ts'
import type { Commit } from './format/commit.ts'
import { comparePair, isLeaf } from './format/node.ts'
import type { TreeNode } from './format/node.ts'
import { IndexFile } from './store/file.ts'
import { nodeVfs } from './store/vfs.ts'
import type { Vfs } from './store/vfs.ts'

export interface VerifyError {
  page?: number
  message: string
}

export interface VerifyResult {
  ok: boolean
  errors: VerifyError[]
  /** The commit checked (0 when the file has none yet). */
  sequence: number
  entries: number
  pages: number
}

interface Bound { key: string; rowId: number }

export function verifyFile(path: string, vfs: Vfs = nodeVfs): VerifyResult {
  const errors: VerifyError[] = []
  let f: IndexFile
  try {
    f = IndexFile.open(vfs, path, false, 0)
  } catch (err) {
    if (err instanceof TailrootError && err.code === 'CORRUPT') {
      return { ok: false, errors: [{ page: 0, message: err.message }], sequence: 0, entries: 0, pages: 0 }
    }
    throw err
  }
  try {
    const rejected: Commit[] = []
    const c = f.findNewestCommit(0, f.pageCount(), rejected)
    for (const r of rejected) {
      errors.push({ page: r.page, message: `${path}: commit ${r.sequence} at page ${r.page} is whole, but its data pages ${r.firstDataPage}..${r.page - 1} do not match its checksum (damaged, or lost in a power cut with durability 'none'); the index opens at the commit before it` })
    }
    if (c === null) return { ok: errors.length === 0, errors, sequence: 0, entries: 0, pages: 0 }
    if (f.dataCrc(c) !== c.dataCrc) errors.push({ page: c.page, message: `${path}: commit ${c.sequence} at page ${c.page}: data checksum of pages ${c.firstDataPage}..${c.page - 1} does not match` })
    let pages = 0
    // Child-below-parent and root-below-commit are checked by the decoders (decodeInternal,
    // decodeCommit); f.node checks the CRC, page number, layout and level of each page.
    const visit = (page: number, level: number, lower: Bound | null, upper: Bound | null): number => {
      pages++
      let node: TreeNode
      try {
        node = f.node(page, level)
      } catch (err) {
        if (err instanceof TailrootError) {
          errors.push({ page, message: err.message })
          return -1
        }
        throw err
      }
      if (isLeaf(node)) {
        const g = node.keys.length - 1
        const last = node.ids[g]!
        if (lower && comparePair(node.keys[0]!, node.ids[0]![0]!, lower.key, lower.rowId) < 0) {
          errors.push({ page, message: `${path}: page ${page}: first entry lies below its separator` })
        }
        if (upper && comparePair(node.keys[g]!, last[last.length - 1]!, upper.key, upper.rowId) >= 0) {
          errors.push({ page, message: `${path}: page ${page}: last entry is not below the next separator` })
        }
        return node.count
      }
      let total = 0
      let broken = false
      for (let i = 0; i < node.children.length; i++) {
        const lo = i === 0 ? lower : { key: node.sepKeys[i - 1]!, rowId: node.sepIds[i - 1]! }
        const hi = i + 1 < node.children.length ? { key: node.sepKeys[i]!, rowId: node.sepIds[i]! } : upper
        if (i > 0 && lower && comparePair(lo!.key, lo!.rowId, lower.key, lower.rowId) < 0) {
          errors.push({ page, message: `${path}: page ${page}: separator ${i} lies below the node's lower bound` })
        }
        if (i + 1 < node.children.length && upper && comparePair(hi!.key, hi!.rowId, upper.key, upper.rowId) >= 0) {
          errors.push({ page, message: `${path}: page ${page}: separator ${i + 1} is not below the node's upper bound` })
        }
        const n = visit(node.children[i]!, level - 1, lo, hi)
        if (n < 0) { broken = true; continue }
        if (n !== node.counts[i]) {
          errors.push({ page, message: `${path}: page ${page}: child ${i} (page ${node.children[i]}) holds ${n} entries but the node records ${node.counts[i]}` })
        }
        total += n
      }
      return broken ? -1 : total
    }
    const n = c.root === 0 ? 0 : visit(c.root, c.height - 1, null, null)
    if (n >= 0 && n !== c.entryCount) errors.push({ page: c.page, message: `${path}: commit ${c.sequence} records ${c.entryCount} entries but the tree holds ${n}` })
    if (c.root !== 0 && errors.length === 0 && pages !== c.livePages) {
      errors.push({ page: c.page, message: `${path}: commit ${c.sequence} records ${c.livePages} live pages but ${pages} are reachable` })
    }
    return { ok: errors.length === 0, errors, sequence: c.sequence, entries: c.entryCount, pages }
  } finally {
    f.release()
  }
}
