/** tailroot backup: copy a file at its newest commit, while applications go on writing it. */
import { Index } from '../api/handle.ts'
import { EXIT_OK } from './exit-codes.ts'
import { JSON_OPTION } from './command.ts'
import type { Command } from './command.ts'
import { ProgressBar } from './progress.ts'
import { num } from './text.ts'

export const backup: Command = {
  name: 'backup',
  positionals: ['file', 'dest'],
  synopsis: '[--json]',
  summary: 'copy the file at its newest commit into a new file, while writers go on',
  details: `Copies every page up to the newest commit's commit page into the new file <dest>
(which must not exist), syncs it, and only then gives it its name. Locks nothing: writers and
readers go on, and the copy is always whole at the commit it names, however many commits are
written meanwhile (a plain copy of a file being written may need taking again; see the README,
"Backing up"). Works for set files. With --json, one object: { "sequence", "entries", "bytes" }.`,
  options: JSON_OPTION,
  async run({ values, args, out, err }) {
    const json = values.json === true
    const bar = ProgressBar.on(err, 'backup', !json)
    let r
    try {
      r = Index.backup(args[0]!, args[1]!, { onProgress: p => bar?.update(p.done, p.total, 'bytes') })
    } finally {
      bar?.end()
    }
    if (json) await out.json(r)
    else await out.line(`backed up ${args[0]} to ${args[1]}: sequence ${num(r.sequence)}, ${num(r.entries)} entries, ${num(r.bytes)} bytes`)
    return EXIT_OK
  },
}
