/**
 * Index.verify: checks every page reachable from the newest commit (CRC, page number, type,
 * level, child-below-parent bounds, layout), key order across the whole tree, subtree counts,
 * the commit's entry and live-page counts, and the newest commit's data checksum. Damage is
 * reported, not thrown, and checking goes on past it to report every damaged page.
 *
 * A crafted file must not make it run away: each page is visited once (a page reached a second
 * time is reported, not descended into again, so a DAG of shared children costs its size, not
 * its paths), recursion is bounded by the commit's height (≤ 255, as every read checks the level
 * it expects), and the error list keeps the first MAX_ERRORS errors and counts the rest.
 */
import { TailrootError } from './errors.ts'
import { COMMIT_DATA_SYNCED } from './format/constants.ts'
import { comparePair, isLeaf } from './format/node.ts'
import type { TreeNode } from './format/node.ts'
import { EMPTY_COMMIT } from './format/commit.ts'
import type { Commit } from './format/commit.ts'
import { IndexFile } from './store/file.ts'
import { commitChain } from './store/history.ts'
import { chainLivePages, pendingOf } from './store/log-chain.ts'
import type { PendingState } from './store/log-chain.ts'
import { spaceFigures } from './store/space.ts'
import type { SpaceFigures } from './store/space.ts'
import { hasPair } from './tree/read.ts'
import { mergedWalk } from './tree/merged.ts'
import { checkSetPairs } from './verify-set.ts'
import type { RejectedCommit } from './store/tail-scan.ts'
import { nodeVfs } from './store/vfs.ts'
import type { Vfs } from './store/vfs.ts'

export interface VerifyError {
  page?: number
  message: string
}

export interface VerifyResult extends SpaceFigures {
  ok: boolean
  /** The first MAX_ERRORS errors found. */
  errors: VerifyError[]
  /** How many more errors were found and left out of `errors`. */
  omittedErrors: number
  /** The commit checked (0 when the file has none yet). */
  sequence: number
  entries: number
  /** Pages reached from the commit's root (pagesLive is what the commit records). */
  pages: number
  /** Commits in the file, along the previous-commit links (up to a broken one, which is an error). */
  commits: number
}

/** Progress of a long check: pages checked so far of the pages the commit records. */
export type VerifyProgress = (p: { done: number; total: number }) => void

/** The figures of a file whose header cannot be read. */
const NO_FIGURES: SpaceFigures & { commits: number } = {
  pagesLive: 0, pagesTotal: 0, fileBytes: 0, liveBytes: 0, garbageRatio: 0, lastCommitTime: null, tailBytes: 0, commits: 0,
}

/** How often (in pages checked) progress is reported. */
const PROGRESS_PAGES = 256

/** The most errors a result lists; a crafted file could otherwise give one per page or more. */
export const MAX_ERRORS = 100

interface Bound { key: string; rowId: number }

/** The errors found: the first MAX_ERRORS kept, the rest only counted. */
class ErrorList {
  readonly kept: VerifyError[] = []
  omitted = 0

  push(e: VerifyError): void {
    if (this.kept.length < MAX_ERRORS) this.kept.push(e)
    else this.omitted++
  }

  result(sequence: number, entries: number, pages: number, figures: SpaceFigures & { commits: number }): VerifyResult {
    return { ok: this.kept.length === 0, errors: this.kept, omittedErrors: this.omitted, sequence, entries, pages, ...figures }
  }
}

/**
 * Pages already visited, one bit each, in chunks allocated as pages are reached: memory follows
 * the pages visited (an eighth of a byte each), not the largest page number a crafted commit names.
 */
class PageSet {
  private static readonly CHUNK = 8192
  private readonly chunks = new Map<number, Uint8Array>()

  /** Adds `page`; false when it was there already. */
  add(page: number): boolean {
    const n = Math.floor(page / PageSet.CHUNK)
    let chunk = this.chunks.get(n)
    if (chunk === undefined) this.chunks.set(n, chunk = new Uint8Array(PageSet.CHUNK / 8))
    const i = page % PageSet.CHUNK
    const byte = i >>> 3
    const bit = 1 << (i & 7)
    if ((chunk[byte]! & bit) !== 0) return false
    chunk[byte] = chunk[byte]! | bit
    return true
  }
}

/**
 * Reads the pending changes of `c` (FORMAT.md §10) and checks each against the tree (of `n`
 * pairs; -1 when it is damaged): an insert of a pair the tree lacks, a delete of one it has.
 * Returns them, or null when they cannot be read.
 */
function verifyPending(f: IndexFile, c: Commit, n: number, errors: ErrorList): PendingState | null {
  let pend: PendingState
  try {
    pend = pendingOf(f, c)
  } catch (err) {
    if (err instanceof TailrootError) { errors.push({ page: err.page, message: err.message }); return null }
    throw err
  }
  if (n < 0 || pend.log.empty) return pend
  const tree = { root: c.root, height: c.height, count: n }
  const b = pend.log.toBatch()
  for (let i = 0; i < b.keys.length; i++) {
    let has: boolean
    try { has = hasPair(f, tree, b.keys[i]!, b.ids[i]!) } catch (err) {
      if (err instanceof TailrootError) { errors.push({ page: err.page, message: err.message }); return null }
      throw err
    }
    if (has === b.ins[i]) {
      const what = b.ins[i] ? 'inserts a pair the tree already holds' : 'deletes a pair the tree does not hold'
      errors.push({ page: c.logHead, message: `${f.path}: a pending change ${what}: (${JSON.stringify(b.keys[i]!.slice(0, 40))}, ${b.ids[i]})` })
    }
  }
  return pend
}

export function verifyFile(path: string, vfs: Vfs = nodeVfs, onProgress?: VerifyProgress): VerifyResult {
  const errors = new ErrorList()
  let f: IndexFile
  try {
    f = IndexFile.open(vfs, path, false, 0)
  } catch (err) {
    if (err instanceof TailrootError && err.code === 'CORRUPT') {
      errors.push({ page: 0, message: err.message })
      return errors.result(0, 0, 0, NO_FIGURES)
    }
    throw err
  }
  try {
    const c = f.findNewestCommit(0, (r: RejectedCommit) => {
      errors.push({ page: r.commit.page, message: `${path}: ${r.reason}; the index opens at an older commit` })
    })
    const figures = (commit: Commit): SpaceFigures & { commits: number } => ({
      ...spaceFigures(f.size(), f.pageSize, commit), commits: countHistory(f, commit, errors),
    })
    if (c === null) return errors.result(0, 0, 0, figures(EMPTY_COMMIT))
    // The scan checked the data of any commit without COMMIT_DATA_SYNCED; a synced one is trusted
    // on open, so only here is its data read.
    if ((c.flags & COMMIT_DATA_SYNCED) !== 0 && f.dataCrc(c) !== c.dataCrc) errors.push({ page: c.page, message: `${path}: commit ${c.sequence} at page ${c.page}: data checksum of pages ${c.firstDataPage}..${c.page - 1} does not match` })
    let pages = 0
    const visited = new PageSet()
    // Child-below-parent and root-below-commit are checked by the decoders (decodeInternal,
    // decodeCommit); f.node checks the CRC, page number, layout and level of each page. Levels
    // strictly decrease along a descent, so recursion is at most c.height (≤ 255) deep.
    const visit = (page: number, level: number, parent: number, lower: Bound | null, upper: Bound | null): number => {
      if (!visited.add(page)) {
        errors.push({ page, message: `${path}: page ${page}: reached a second time (from page ${parent}); a page has one parent, so it was not checked again` })
        return -1
      }
      pages++
      if (onProgress !== undefined && pages % PROGRESS_PAGES === 0) onProgress({ done: pages, total: Math.max(pages, c.livePages) })
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
        const n = visit(node.children[i]!, level - 1, page, lo, hi)
        if (n < 0) { broken = true; continue }
        if (n !== node.counts[i]) {
          errors.push({ page, message: `${path}: page ${page}: child ${i} (page ${node.children[i]}) holds ${n} entries but the node records ${node.counts[i]}` })
        }
        total += n
      }
      return broken ? -1 : total
    }
    const n = c.root === 0 ? 0 : visit(c.root, c.height - 1, c.page, null, null)
    const pend = verifyPending(f, c, n, errors)
    if (n >= 0 && pend !== null && n + pend.log.net !== c.entryCount) {
      const what = pend.log.empty ? `the tree holds ${n}` : `the tree holds ${n} and the pending changes add ${pend.log.net}`
      errors.push({ page: c.page, message: `${path}: commit ${c.sequence} records ${c.entryCount} entries but ${what}` })
    }
    if (pend !== null) pages += chainLivePages(c, pend)
    if ((c.root !== 0 || c.logHead !== 0) && errors.kept.length === 0 && pages !== c.livePages) {
      errors.push({ page: c.page, message: `${path}: commit ${c.sequence} records ${c.livePages} live pages but ${pages} are reachable` })
    }
    if (f.header.set === true && n >= 0 && pend !== null && errors.kept.length === 0) {
      const m = { src: f, tree: { root: c.root, height: c.height, count: n }, log: pend.log }
      try {
        checkSetPairs(path, mergedWalk(m, 0, n + pend.log.net, false), message => errors.push({ message }))
      } catch (err) {
        if (!(err instanceof TailrootError)) throw err
        errors.push({ ...(err.page === undefined ? {} : { page: err.page }), message: err.message })
      }
    }
    onProgress?.({ done: pages, total: pages })
    return errors.result(c.sequence, c.entryCount, pages, figures(c))
  } finally {
    f.release()
  }
}

/** The commits along the previous-commit links from `newest`; a broken link is an error. */
function countHistory(f: IndexFile, newest: Commit, errors: ErrorList): number {
  if (newest.page === 0) return 0
  let n = 0
  try {
    for (const _ of commitChain(f, newest)) n++
  } catch (err) {
    if (!(err instanceof TailrootError)) throw err
    errors.push({ ...(err.page === undefined ? {} : { page: err.page }), message: `${err.message} (the commit history is broken; the commits above it are intact)` })
  }
  return n
}
