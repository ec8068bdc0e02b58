/** tailroot verify: check every reachable page; exit 1 when anything is damaged. */
import { Index } from '../api/handle.ts'
import { EXIT_DAMAGE, EXIT_OK } from './exit-codes.ts'
import { JSON_OPTION } from './command.ts'
import type { Command } from './command.ts'
import { ProgressBar } from './progress.ts'
import { num } from './text.ts'

export const verify: Command = {
  name: 'verify',
  positionals: ['file'],
  synopsis: '[--json]',
  summary: 'check every reachable page, list every problem found (exit 1 on damage)',
  details: `Checks the newest commit: every page reachable from it (checksums, bounds, layout,
key order, subtree counts), its entry count and data checksum, and the chain of previous
commits. Locks nothing. Prints every problem found (the first 100, and how many more) and exits
1 when there is one, 0 when the file is whole. With --json, one object: { "ok", "errors":
[{ "page", "message" }], "omittedErrors", "sequence", "entries", "pages", ... }.`,
  options: JSON_OPTION,
  async run({ values, args, out, err }) {
    const json = values.json === true
    const bar = ProgressBar.on(err, 'verify', !json)
    let r
    try {
      r = Index.verify(args[0]!, { onProgress: p => bar?.update(p.done, p.total, 'pages') })
    } finally {
      bar?.end()
    }
    if (json) {
      await out.json(r)
      return r.ok ? EXIT_OK : EXIT_DAMAGE
    }
    for (const e of r.errors) await out.line(e.message)
    if (r.omittedErrors > 0) await out.line(`... and ${num(r.omittedErrors)} more errors`)
    const what = `sequence ${num(r.sequence)}, ${num(r.entries)} entries, ${num(r.pages)} pages checked, ${num(r.commits)} commits`
    await out.line(r.ok ? `ok: ${args[0]}: ${what}` : `DAMAGED: ${args[0]}: ${num(r.errors.length + r.omittedErrors)} problems (${what})`)
    return r.ok ? EXIT_OK : EXIT_DAMAGE
  },
}
