/**
 * The pending changes of a commit (FORMAT.md §10): the change records of the commits of its
 * pending chain, from the chain's start, merged into a ChangeLog. A handle that knows the log of
 * an earlier commit of the same chain only reads the records of the commits after it.
 *
 * Bounded by what it visits: each step down the chain goes to a lower page, the records read
 * must add up to the commit's chainRecords, and records that do not apply (an insert of a pair
 * already inserted, a delete of one already deleted) are CORRUPT.
 */
import { corrupt } from '../errors.ts'
import { CARRY_MAX_RECORDS } from '../format/constants.ts'
import { decodeCommit, inlineCapacity } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'
import { decodeLogPage, readRecords, recordsSize } from '../format/log-records.ts'
import { DecodeError } from '../format/page.ts'
import type { Batch } from '../tree/batch.ts'
import { CarryConflict, carry, difference } from '../tree/carry.ts'
import { ChangeLog, LogConflict } from '../tree/change-log.ts'
import type { IndexFile } from './file.ts'

/** The pending changes as of one commit. */
export interface PendingState {
  log: ChangeLog
  /** Pages of the chain: its commits' log pages and commit pages (FORMAT.md §10). */
  pages: number
  /** The commit at the head of the chain (null: none), to recognise it when building on this state. */
  head: Commit | null
}

export const NO_PENDING: PendingState = Object.freeze({ log: ChangeLog.EMPTY, pages: 0, head: null })

/** The pending state of commit `c`, building on `known` (an earlier commit's) when it can. */
export function pendingOf(f: IndexFile, c: Commit, known?: { commit: Commit; state: PendingState }): PendingState {
  if (c.logHead === 0) return NO_PENDING
  const stop = known !== undefined && known.state.head !== null && known.commit.root === c.root ? known.state.head : null
  if (stop !== null) {
    const carried = pendingAfterCarry(f, c, known!)
    if (carried !== null) return carried
  }
  const chain: Commit[] = []
  let records = 0
  let p = c.logHead
  let reached = false
  while (p !== 0) {
    const cc = p === c.page ? c : commitAt(f, p, c)
    // The known head, if this is still the commit it was (a torn tail a reader saw can be cut and
    // another commit written at the same page).
    if (stop !== null && p === stop.page) { reached = sameCommit(cc, stop); if (reached) break }
    if (cc.logHead !== p || cc.logRecords === 0) throw corrupt(f.path, p, 'is in a pending chain but holds no change records')
    if (cc.root !== c.root || cc.height !== c.height) throw corrupt(f.path, p, `is in the pending chain of the commit at page ${c.page} but names another tree`)
    chain.push(cc)
    records += cc.logRecords
    if (records > c.chainRecords) break
    p = cc.logPrev
  }
  const base = reached ? known! : null
  const startRecords = base === null ? 0 : base.commit.chainRecords
  if (records + startRecords !== c.chainRecords) {
    throw corrupt(f.path, c.page, `its pending chain holds ${records + startRecords} change records where the commit counts ${c.chainRecords}`)
  }
  let log = base === null ? ChangeLog.EMPTY : base.state.log
  let pages = base === null ? 0 : base.state.pages
  const head = chain.length > 0 ? chain[0]! : base === null ? null : base.state.head
  for (let i = chain.length - 1; i >= 0; i--) {
    const cc = chain[i]!
    try {
      log = log.merge(recordsOf(f, cc))
    } catch (err) {
      if (err instanceof LogConflict) throw corrupt(f.path, cc.page, `change record (${JSON.stringify(err.key.slice(0, 40))}, ${err.rowId}): ${err.message}`)
      throw err
    }
    pages += cc.logPages + 1
  }
  return { log, pages, head }
}

/** Whether commit `c` carries change records of its own pending chain (it is the chain's head). */
export function inChain(c: Commit): boolean {
  return c.logHead !== 0 && c.logHead === c.page
}

/**
 * The pages of `c`'s pending chain that its livePages counts: all but `c`'s own commit page
 * (FORMAT.md §8, `livePages`).
 */
export function chainLivePages(c: Commit, pend: PendingState): number {
  return pend.pages - (inChain(c) ? 1 : 0)
}

function sameCommit(a: Commit, b: Commit): boolean {
  return a.page === b.page && a.sequence === b.sequence && a.timestamp === b.timestamp && a.dataCrc === b.dataCrc && a.chainRecords === b.chainRecords
}

/** A commit page of the pending chain of `c`. */
function commitAt(f: IndexFile, p: number, c: Commit): Commit {
  if (p >= c.page) throw corrupt(f.path, c.page, `its pending chain links up to page ${p}`)
  const cc = decodeCommit(f.readPages(p, 1), p, f.header.fileId, f.formatVersion)
  if (cc === null) throw corrupt(f.path, p, `is not a commit page, but the pending chain of the commit at page ${c.page} links to it`)
  return cc
}

/**
 * The records of commits this process wrote, by commit object (noteWritten): the batch they were
 * encoded from. A commit that carries the previous one's records forward (carriedRecords) then
 * need not decode them again, nor a reader of the handle's own commit. Weak: a commit no longer
 * referenced drops out. A commit decoded from the file is another object, so it is always read.
 */
const written = new WeakMap<Commit, Batch>()

/** Records that `c`, written by this process, holds the records `b` (sorted; never changed afterwards). */
export function noteWritten(c: Commit, b: Batch): void {
  written.set(c, b)
}

/** The change records of one commit, inline or in its log pages. Shared: not to be changed. */
export function recordsOf(f: IndexFile, c: Commit): Batch {
  const known = written.get(c)
  if (known !== undefined) return known
  const out: Batch = { keys: [], ids: [], ins: [] }
  let page = c.page
  try {
    if (c.inline !== null) readRecords(c.inline, 0, c.inline.length, c.logRecords, f.pageSize, out)
    for (let i = 0; i < c.logPages; i++) {
      page = c.firstDataPage + i
      decodeLogPage(f.readCheckedPage(page), out)
    }
  } catch (err) {
    if (err instanceof DecodeError) throw corrupt(f.path, page, err.message)
    throw err
  }
  if (out.keys.length !== c.logRecords) throw corrupt(f.path, c.page, `holds ${out.keys.length} change records where it counts ${c.logRecords}`)
  return out
}

/**
 * The pending state of `c` when the head of its chain, N, carried the records of `known`'s head H
 * forward (FORMAT.md §10, "Carrying records forward"): N and H both link to the same earlier
 * commit, so the changes from H's state to N's are the difference of their records, and applying
 * them to `known`'s changes costs the size of two commit pages, not of the chain. Null when `c`
 * is not such a commit (then the chain is read as usual), or H is no longer in the file as it was.
 */
function pendingAfterCarry(f: IndexFile, c: Commit, known: { commit: Commit; state: PendingState }): PendingState | null {
  const h = known.state.head!
  if (c.logHead <= h.page || h.logPages !== 0) return null
  const n = c.logHead === c.page ? c : commitAt(f, c.logHead, c)
  if (n.logHead !== n.page || n.logRecords === 0 || n.logPages !== 0 || n.logPrev !== h.logPrev || n.root !== c.root || n.height !== c.height) return null
  const still = decodeCommit(f.readPages(h.page, 1), h.page, f.header.fileId, f.formatVersion)
  if (still === null || !sameCommit(still, h)) return null
  const chainRecords = known.commit.chainRecords - h.logRecords + n.logRecords
  if (c.chainRecords !== chainRecords) {
    throw corrupt(f.path, c.page, `its pending chain holds ${chainRecords} change records where the commit counts ${c.chainRecords}`)
  }
  let log: ChangeLog
  try {
    log = known.state.log.merge(difference(recordsOf(f, h), recordsOf(f, n)))
  } catch (err) {
    if (err instanceof LogConflict || err instanceof CarryConflict) throw corrupt(f.path, n.page, `change record (${JSON.stringify(err.key.slice(0, 40))}, ${err.rowId}): ${err.message}`)
    throw err
  }
  return { log, pages: known.state.pages, head: n }
}

/**
 * The records of the next commit when it carries those of `prev` forward (FORMAT.md §10,
 * "Carrying records forward"): `prev` heads its chain with records in its commit page, and its
 * records merged with `own` (net against `prev`) fit in the next commit page beside `metaLength`
 * bytes of meta. Null when the next commit should link to `prev` instead.
 */
export function carriedRecords(f: IndexFile, prev: Commit, pend: PendingState, own: Batch, metaLength: number): Batch | null {
  if (own.keys.length === 0 || !inChain(prev) || prev.logPages !== 0 || pend.head === null || pend.head.page !== prev.page) return null
  if (prev.logRecords + own.keys.length > CARRY_MAX_RECORDS) return null
  let merged: Batch
  try {
    merged = carry(recordsOf(f, prev), own)
  } catch (err) {
    if (err instanceof CarryConflict) throw corrupt(f.path, prev.page, `change record (${JSON.stringify(err.key.slice(0, 40))}, ${err.rowId}) is ${err.message}`)
    throw err
  }
  if (merged.keys.length === 0 || recordsSize(merged) > inlineCapacity(f.pageSize, f.formatVersion, metaLength)) return null
  return merged
}
