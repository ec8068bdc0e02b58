/**
 * How much of a file the newest commit uses: the figures behind stats() and verify. Pure.
 *
 * The bytes after the commit page (preallocated zeros, FORMAT.md §8, or a torn tail the next
 * writer removes) are not part of the index and count as neither live nor garbage: they are
 * `tailBytes`. A freshly preallocated file is not garbage to compact, and the zeros are taken up
 * by the next commits, not reclaimed.
 */
import type { Commit } from '../format/commit.ts'

export interface SpaceFigures {
  /** Node pages reachable from the commit's root. */
  pagesLive: number
  /** Pages up to and including the commit page, live or not (the header and commit pages included). */
  pagesTotal: number
  fileBytes: number
  /** The header page, the live pages and the commit page: what a compacted copy takes at most. */
  liveBytes: number
  /** The share of the pages up to the commit that are not live, from 0 to 1: what compaction reclaims. */
  garbageRatio: number
  /** When the commit was written; null for a file without commits. */
  lastCommitTime: Date | null
  /** Bytes after the commit page: preallocated zeros, or a torn tail (neither live nor garbage). */
  tailBytes: number
}

export function spaceFigures(fileBytes: number, pageSize: number, c: Commit): SpaceFigures {
  const liveBytes = (c.page === 0 ? 1 : c.livePages + 2) * pageSize
  const pagesTotal = c.page + 1
  const usedBytes = pagesTotal * pageSize
  return {
    pagesLive: c.livePages,
    pagesTotal,
    fileBytes,
    liveBytes,
    garbageRatio: usedBytes > liveBytes ? (usedBytes - liveBytes) / usedBytes : 0,
    lastCommitTime: c.page === 0 ? null : new Date(c.timestamp),
    tailBytes: Math.max(0, fileBytes - usedBytes),
  }
}
