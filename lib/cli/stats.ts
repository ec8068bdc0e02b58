/** tailroot stats: the figures of an index file. */
import { openReadOnly } from './open.ts'
import { countDistinctKeys } from '../api/key-count.ts'
import { EXIT_OK } from './exit-codes.ts'
import { num as n, percent } from './text.ts'
import { JSON_OPTION } from './command.ts'
import type { Command } from './command.ts'

export const stats: Command = {
  name: 'stats',
  positionals: ['file'],
  synopsis: '[--json]',
  summary: 'entries, keys, height, settings, pages live and total, garbage ratio, commits',
  details: `Reads the newest commit without locking anything (writers may go on). Counting the
distinct keys reads every leaf. With --json, one object with exactly these fields first
(more may follow): entries, keys, height, pageSize, keyEncoding, unique, sequence, commits,
pagesLive, pagesTotal, fileBytes, liveBytes, garbageRatio, lastCommitTime (ISO 8601, or null);
then pendingChanges (change records not yet folded into the tree, which height describes).`,
  options: JSON_OPTION,
  async run({ values, args, out }) {
    const idx = openReadOnly(args[0]!)
    try {
      const snap = idx.snapshot()
      let keys: number
      try { keys = countDistinctKeys(snap) } finally { snap.close() }
      const s = idx.stats()
      const figures = {
        entries: s.entries, keys, height: s.height, pageSize: s.pageSize, keyEncoding: s.keyEncoding, unique: s.unique,
        sequence: s.sequence, commits: s.commits, pagesLive: s.pagesLive, pagesTotal: s.pagesTotal, fileBytes: s.fileBytes,
        liveBytes: s.liveBytes, garbageRatio: s.garbageRatio, lastCommitTime: s.lastCommitTime?.toISOString() ?? null,
        pendingChanges: s.pendingChanges,
      }
      if (values.json === true) {
        await out.json(figures)
        return EXIT_OK
      }
      const rows: [string, string][] = [
        ['entries', n(s.entries)], ['keys', n(keys)], ['height', String(s.height)], ['page size', n(s.pageSize)],
        ['key encoding', s.keyEncoding], ['unique', String(s.unique)], ['sequence', n(s.sequence)], ['commits', n(s.commits)],
        ['pages live', n(s.pagesLive)], ['pages total', n(s.pagesTotal)], ['file bytes', n(s.fileBytes)],
        ['live bytes', n(s.liveBytes)], ['garbage ratio', percent(s.garbageRatio)],
        ['last commit', figures.lastCommitTime ?? 'none'], ['pending', `${n(s.pendingChanges)} changes not yet in the tree`],
      ]
      for (const [k, v] of rows) await out.line(`${`${k}:`.padEnd(15)}${v}`)
      return EXIT_OK
    } finally {
      idx.close()
    }
  },
}
