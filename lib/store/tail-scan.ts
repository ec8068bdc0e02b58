/**
 * Finding the newest valid commit (FORMAT.md §8, "Finding the newest commit"). Pure over a page
 * reader, so the rules can be tested without a file.
 *
 * Three bounds keep every scan linear in the pages it visits, whatever the file holds:
 * - the end of the written data is found by a search for the boundary between written pages and
 *   a zero tail (preallocated or sparse), galloping back from the end, so a terabyte of zeros
 *   costs ~60 page reads and a preallocated tail (at most 64 MiB) ~30, whatever the file size;
 * - a rejected commit's data range is never scanned again: the scan continues below it;
 * - a commit without `COMMIT_DATA_SYNCED` is valid only together with the unsynced commits it
 *   builds on (its tree may point into their pages), so its chain of previous commits is checked
 *   down to a commit with COMMIT_DATA_SYNCED or COMMIT_PREV_DURABLE, the commit already known,
 *   or the first commit, once.
 */
import { crc32c } from '@node-rs/crc32'
import { COMMIT_DATA_SYNCED, COMMIT_PREV_DURABLE, OFF_TYPE, PAGE_COMMIT, PAGE_ZERO } from '../format/constants.ts'
import { decodeCommit } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'

/** What the scan needs of a file. */
export interface PageReader {
  readonly pageSize: number
  /** The file's format version (the commit page layout depends on it). */
  readonly formatVersion: number
  /** Whole pages in the file. */
  pageCount(): number
  /** Up to `count` pages from `first`; shorter at the end of the file. */
  readPages(first: number, count: number): Buffer
}

/** A commit page that is whole but not valid, and why. */
export interface RejectedCommit {
  commit: Commit
  reason: string
}

/** Pages read at once while scanning backwards or checksumming. */
const SCAN_CHUNK_PAGES = 64

/**
 * The number of pages up to the last written one: the first page of the zero tail, or the page
 * count when there is none. `known` is a page known to be written (0, the header, at least).
 * Every page up to the newest durable commit is written (non-zero type), so the boundary found is
 * never below it: every probe that finds a zero page is above it. The search gallops (1, 2, 4,
 * ... pages) back from the end, or, with `forward`, on from `known`, to bracket the boundary, then
 * bisects: O(log(zero tail)) single-page reads backwards (bounded for a preallocated file,
 * FORMAT.md §8, whatever its size), O(log(pages written after known)) forwards (a look for the
 * commits written since a known one).
 */
export function writtenEnd(r: PageReader, known: number, forward = false): number {
  const count = r.pageCount()
  if (count <= known + 1 || typeOf(r, count - 1) !== PAGE_ZERO) return count
  let hi = count - 1 // zero
  let lo = known // written
  if (forward) {
    for (let step = 1; hi - lo > 1; step *= 2) {
      const probe = Math.min(hi, lo + step)
      if (probe === hi) break
      if (typeOf(r, probe) === PAGE_ZERO) { hi = probe; break }
      lo = probe
    }
  } else {
    for (let step = 1; hi - lo > 1; step *= 2) {
      const probe = Math.max(lo, hi - step)
      if (probe === lo) break
      if (typeOf(r, probe) !== PAGE_ZERO) { lo = probe; break }
      hi = probe
    }
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if (typeOf(r, mid) === PAGE_ZERO) hi = mid
    else lo = mid
  }
  return hi
}

function typeOf(r: PageReader, page: number): number {
  const b = r.readPages(page, 1)
  return b.length === 0 ? PAGE_ZERO : b[OFF_TYPE]!
}

/**
 * CRC32C over the data pages a commit appended, as FORMAT.md §8 defines dataCrc; -1 (which no
 * CRC equals) when those pages are not all in the file.
 */
export function dataCrc(r: PageReader, c: Commit): number {
  let crc = 0
  for (let p = c.firstDataPage; p < c.page; p += SCAN_CHUNK_PAGES) {
    const want = Math.min(SCAN_CHUNK_PAGES, c.page - p)
    const buf = r.readPages(p, want)
    if (buf.length < want * r.pageSize) return -1
    crc = crc32c(buf, crc)
  }
  return crc >>> 0
}

function readCommit(r: PageReader, page: number, fileId: Buffer): Commit | null {
  const buf = r.readPages(page, 1)
  return buf.length < r.pageSize ? null : decodeCommit(buf, page, fileId, r.formatVersion)
}

/**
 * Scans backwards from the end of the written data for the newest valid commit above page
 * `floor` (exclusive; the commit at `floor` is known valid, and 0 means none). Returns null when
 * there is none. Commit pages that are whole but not valid are passed to `onRejected` when given
 * (a callback, so a caller keeps only what it can hold). `end` is writtenEnd(r, floor) when the
 * caller has it already.
 */
export function findNewestCommit(r: PageReader, fileId: Buffer, floor: number, onRejected?: (rc: RejectedCommit) => void, end?: number): Commit | null {
  let hi = end ?? writtenEnd(r, floor)
  while (hi > floor + 1) {
    const lo = Math.max(floor + 1, hi - SCAN_CHUNK_PAGES)
    const chunk = r.readPages(lo, hi - lo)
    let p = lo + Math.floor(chunk.length / r.pageSize) - 1
    while (p >= lo) {
      const off = (p - lo) * r.pageSize
      const c = chunk[off + OFF_TYPE] === PAGE_COMMIT ? decodeCommit(chunk.subarray(off, off + r.pageSize), p, fileId, r.formatVersion) : null
      if (c === null) { p--; continue }
      const v = checkChain(r, fileId, c, floor)
      if (v === null) return c
      onRejected?.({ commit: c, reason: v.reason })
      // Nothing between the failing link and this commit can be valid: go on below the link.
      p = Math.min(v.resumeBelow, p) - 1
    }
    hi = Math.min(lo, p + 1)
  }
  return null
}

interface ChainFailure {
  reason: string
  /** The scan continues with the pages below this one. */
  resumeBelow: number
}

/**
 * Checks commit `c` and every unsynced commit its tree may reach into. Returns null when valid.
 * Each link must directly follow its previous commit (its data starts on the next page and its
 * sequence is one more), and each unsynced link's data must match its checksum.
 */
function checkChain(r: PageReader, fileId: Buffer, c: Commit, floor: number): ChainFailure | null {
  let link = c
  for (;;) {
    if (link.firstDataPage !== link.prevCommit + 1) {
      return fail(c, link, `its data starts at page ${link.firstDataPage}, not right after its previous commit (page ${link.prevCommit})`, link.page)
    }
    if (link.flags & COMMIT_DATA_SYNCED) return null // every page below it was durable
    if (dataCrc(r, link) !== link.dataCrc) {
      return fail(c, link, `its data pages ${link.firstDataPage}..${link.page - 1} do not match its checksum (damaged, or lost in a power cut with durability 'none')`, link.firstDataPage)
    }
    if (link.flags & COMMIT_PREV_DURABLE) return null // everything below its own pages was durable
    if (link.prevCommit === 0 || link.prevCommit === floor) return null
    const prev = readCommit(r, link.prevCommit, fileId)
    if (prev === null) {
      return fail(c, link, `its previous commit page ${link.prevCommit} is not a valid commit page (lost in a power cut with durability 'none', or damaged)`, link.prevCommit)
    }
    if (prev.sequence !== link.sequence - 1) {
      return fail(c, link, `its previous commit page ${link.prevCommit} has sequence ${prev.sequence}, not ${link.sequence - 1}`, link.prevCommit + 1)
    }
    link = prev
  }
}

function fail(c: Commit, link: Commit, what: string, resumeBelow: number): ChainFailure {
  const who = link === c ? '' : `it builds on the unsynced commit ${link.sequence} at page ${link.page}, and `
  return { reason: `commit ${c.sequence} at page ${c.page} is whole, but ${who}${what}`, resumeBelow }
}
