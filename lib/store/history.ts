/**
 * The commits of a file, newest first, along the previous-commit links (FORMAT.md §8). Every
 * step goes to a strictly lower page (a well-formed commit's prevCommit lies below its data), so
 * a walk ends after at most as many steps as the file has pages, whatever the file holds.
 */
import { TailrootError, corrupt } from '../errors.ts'
import { decodeCommit } from '../format/commit.ts'
import type { Commit } from '../format/commit.ts'
import type { IndexFile } from './file.ts'

/**
 * Yields `newest` and then each previous commit, down to the file's first commit. A link that
 * does not lead to a well-formed commit page with a sequence one lower throws CORRUPT naming
 * the page, after every commit above it was yielded.
 */
export function* commitChain(f: IndexFile, newest: Commit): Generator<Commit> {
  let c = newest
  for (;;) {
    yield c
    if (c.prevCommit === 0) return
    const prev = previousCommit(f, c)
    if (typeof prev === 'string') throw corrupt(f.path, c.prevCommit, prev)
    c = prev
  }
}

/** The commit before `c`, or why its link is broken. */
function previousCommit(f: IndexFile, c: Commit): Commit | string {
  const buf = f.readPages(c.prevCommit, 1)
  const what = `the previous commit of commit ${c.sequence} (page ${c.page})`
  if (buf.length < f.pageSize) return `${what} lies beyond the end of the file`
  const prev = decodeCommit(buf, c.prevCommit, f.header.fileId, f.formatVersion)
  if (prev === null) return `${what} is not a well-formed commit page`
  if (prev.sequence !== c.sequence - 1) return `${what} has sequence ${prev.sequence}, not ${c.sequence - 1}`
  return prev
}

/** How many commits a walk from a commit found: remembered per file, so a later count only walks the new ones. */
export interface CommitTally {
  page: number
  commits: number
}

/**
 * The number of commits from `newest` back to the first, or to the first broken link (the
 * commits above it). `known`, a tally of an older commit of the same file, ends the walk there:
 * committed bytes never change, so every newer commit's chain passes through it.
 */
export function countCommits(f: IndexFile, newest: Commit, known: CommitTally | null): CommitTally {
  if (newest.page === 0) return { page: 0, commits: 0 }
  let n = 0
  try {
    for (const c of commitChain(f, newest)) {
      if (known !== null && c.page === known.page) return { page: newest.page, commits: n + known.commits }
      n++
    }
  } catch (err) {
    // A broken link: count what lies above it (verify reports the damage).
    if (!(err instanceof TailrootError && err.code === 'CORRUPT')) throw err
  }
  return { page: newest.page, commits: n }
}
