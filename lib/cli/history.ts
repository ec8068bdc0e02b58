/** tailroot history: the commits in a file, newest first. */
import { Index } from '../api/handle.ts'
import type { CommitInfo } from '../api/history.ts'
import { EXIT_OK } from './exit-codes.ts'
import { JSON_OPTION } from './command.ts'
import type { Command } from './command.ts'
import { num } from './text.ts'

export const history: Command = {
  name: 'history',
  positionals: ['file'],
  synopsis: '[--json]',
  summary: 'the commits still in the file, newest first',
  details: `Follows the previous-commit links from the newest commit: sequence, commit page, time
and entries of each commit still in the file (a compacted file keeps only its newest). With
--json, one JSON array of { "sequence", "page", "time", "entries" } (time in ISO 8601). A broken
link ends the listing with an error (exit 4).`,
  options: JSON_OPTION,
  async run({ values, args, out }) {
    const json = values.json === true
    const rows: CommitInfo[] = []
    let first = true
    for (const c of Index.history(args[0]!)) {
      if (json) { rows.push(c); continue }
      if (first) await out.line(`${'sequence'.padStart(12)}  ${'page'.padStart(10)}  ${'time'.padEnd(24)}  ${'entries'.padStart(14)}`)
      first = false
      await out.line(`${num(c.sequence).padStart(12)}  ${String(c.page).padStart(10)}  ${c.time.toISOString().padEnd(24)}  ${num(c.entries).padStart(14)}`)
    }
    if (!json && first) await out.line(`${args[0]}: no commits yet`)
    if (json) await out.json(rows)
    return EXIT_OK
  },
}
