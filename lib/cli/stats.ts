/** tailroot stats: the figures of an index file. */
import { isSetFile, openReadOnly } from './open.ts'
import { IndexSet } from '../api/set/index-set.ts'
import type { Output } from './output.ts'
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
then pendingChanges (change records not yet folded into the tree, which height describes) and
tailBytes. pagesTotal and garbageRatio count the pages up to the newest commit; tailBytes are
the bytes after it (zeros preallocated for the next commits, or a torn tail the next writer
removes), which are neither live nor garbage: fileBytes is pagesTotal pages plus tailBytes.
A set file of named indexes (FORMAT.md §12) gives the same figures but keys, keyEncoding,
unique and pendingChanges for the whole file (entries counts every pair, the catalog's
included), then one line per named index (JSON: "indexes", an array of { name, keyEncoding,
unique, entries }).`,
  options: JSON_OPTION,
  async run({ values, args, out }) {
    if (isSetFile(args[0]!)) return setStats(args[0]!, values.json === true, out)
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
        pendingChanges: s.pendingChanges, tailBytes: s.tailBytes,
      }
      if (values.json === true) {
        await out.json(figures)
        return EXIT_OK
      }
      const rows: [string, string][] = [
        ['entries', n(s.entries)], ['keys', n(keys)], ['height', String(s.height)], ['page size', n(s.pageSize)],
        ['key encoding', s.keyEncoding], ['unique', String(s.unique)], ['sequence', n(s.sequence)], ['commits', n(s.commits)],
        ['pages live', n(s.pagesLive)], ['pages total', n(s.pagesTotal)], ['file bytes', n(s.fileBytes)], ['tail bytes', n(s.tailBytes)],
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

async function setStats(path: string, json: boolean, out: Output): Promise<number> {
  const set = IndexSet.open(path, { readOnly: true })
  try {
    const s = set.stats()
    const figures = {
      entries: s.entries, height: s.height, pageSize: s.pageSize, sequence: s.sequence, commits: s.commits,
      pagesLive: s.pagesLive, pagesTotal: s.pagesTotal, fileBytes: s.fileBytes, liveBytes: s.liveBytes,
      garbageRatio: s.garbageRatio, lastCommitTime: s.lastCommitTime?.toISOString() ?? null, tailBytes: s.tailBytes,
      indexes: s.indexes.map(i => ({ name: i.name, keyEncoding: i.keyEncoding, unique: i.unique, entries: i.entries })),
    }
    if (json) {
      await out.json(figures)
      return EXIT_OK
    }
    const rows: [string, string][] = [
      ['entries', n(s.entries)], ['height', String(s.height)], ['page size', n(s.pageSize)], ['sequence', n(s.sequence)],
      ['commits', n(s.commits)], ['pages live', n(s.pagesLive)], ['pages total', n(s.pagesTotal)], ['file bytes', n(s.fileBytes)],
      ['tail bytes', n(s.tailBytes)], ['live bytes', n(s.liveBytes)], ['garbage ratio', percent(s.garbageRatio)], ['last commit', figures.lastCommitTime ?? 'none'],
    ]
    for (const [k, v] of rows) await out.line(`${`${k}:`.padEnd(15)}${v}`)
    for (const i of s.indexes) {
      await out.line(`index ${JSON.stringify(i.name)}: ${n(i.entries)} entries, ${i.keyEncoding}${i.unique ? ', unique' : ''}`)
    }
    return EXIT_OK
  } finally {
    set.close()
  }
}
