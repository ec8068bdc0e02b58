/** How much of a file the newest commit uses: the figures behind stats() and verify. Pure. */
import type { Commit } from '../format/commit.ts'

export interface SpaceFigures {
  /** Node pages reachable from the commit's root. */
  pagesLive: number
  /** Whole pages in the file, live or not (the header and commit pages included). */
  pagesTotal: number
  fileBytes: number
  /** The header page, the live pages and the commit page: what a compacted copy takes at most. */
  liveBytes: number
  /** The share of the file's bytes that are not live, from 0 to 1: what compaction reclaims. */
  garbageRatio: number
  /** When the commit was written; null for a file without commits. */
  lastCommitTime: Date | null
}

export function spaceFigures(fileBytes: number, pageSize: number, c: Commit): SpaceFigures {
  const liveBytes = (c.page === 0 ? 1 : c.livePages + 2) * pageSize
  return {
    pagesLive: c.livePages,
    pagesTotal: Math.floor(fileBytes / pageSize),
    fileBytes,
    liveBytes,
    garbageRatio: fileBytes > liveBytes ? (fileBytes - liveBytes) / fileBytes : 0,
    lastCommitTime: c.page === 0 ? null : new Date(c.timestamp),
  }
}
