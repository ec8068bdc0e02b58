/** tailroot compact: rewrite the live content into a new file and put it in place. */
import { Index } from '../api/handle.ts'
import { integerOption } from './args.ts'
import { EXIT_OK } from './exit-codes.ts'
import type { Command } from './command.ts'
import { ProgressBar } from './progress.ts'
import { num, percent } from './text.ts'

export const compact: Command = {
  name: 'compact',
  positionals: ['file'],
  synopsis: '[--timeout MS] [--json]',
  summary: 'reclaim the space of old commits, safely while applications use the file',
  details: `Copies the pairs of the newest commit into a new file next to it, in key order, and
renames it over the file. The sequence, entries, settings and commit metadata are kept. Holds
the write lock for the whole copy: writers wait (then write into the new file), readers never
do, and they follow to the new file. A file that would not get smaller is left as it is (zeros
preallocated after the newest commit do not count: they are not garbage). Waits
up to --timeout milliseconds (default 10000) for the lock, then exits 3. With --json, one
object: { "bytesBefore", "bytesAfter", "pages", "entries", "sequence", "replaced", "ms" }.`,
  options: { timeout: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, args, out, err }) {
    const lockTimeoutMs = values.timeout === undefined ? undefined : integerOption(values.timeout, '--timeout')
    const json = values.json === true
    const bar = ProgressBar.on(err, 'compact', !json)
    let r
    try {
      r = Index.compact(args[0]!, { onProgress: p => bar?.update(p.done, p.total, 'pairs'), ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }) })
    } finally {
      bar?.end()
    }
    if (json) {
      await out.json({ ...r, ms: Math.round(r.ms) })
    } else if (r.replaced) {
      const smaller = percent(1 - r.bytesAfter / r.bytesBefore)
      await out.line(`compacted ${args[0]}: ${num(r.bytesBefore)} -> ${num(r.bytesAfter)} bytes (${smaller} smaller), ${num(r.pages)} live pages, ${num(r.entries)} entries, sequence ${num(r.sequence)}, ${num(Math.round(r.ms))} ms`)
    } else {
      await out.line(`${args[0]} is already compact (${num(r.bytesBefore)} bytes, ${num(r.entries)} entries); left as it was`)
    }
    return EXIT_OK
  },
}
