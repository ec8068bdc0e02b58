/** tailroot dump: the pairs in order, as text or NDJSON. */
import { INDEX_OPTION, openTarget } from './open.ts'
import type { RangeOptions } from '../api/range-options.ts'
import type { Key } from '../keys.ts'
import { integerOption } from './args.ts'
import { EXIT_OK } from './exit-codes.ts'
import type { Command } from './command.ts'
import { jsonKey, parseKey, showKey } from './keys.ts'

export const dump: Command = {
  name: 'dump',
  positionals: ['file'],
  synopsis: '[--index NAME] [--gt K | --gte K] [--lt K | --lte K] [--reverse] [--limit N] [--json]',
  summary: 'the pairs in key order (NDJSON with --json)',
  details: `Prints the (key, rowId) pairs of the newest commit in (key, rowId) order, one per line:
the key, a tab, the rowId. --gt/--gte/--lt/--lte bound the keys, --reverse walks backwards,
--limit N stops after N pairs. Keys of a binary index are written and given in hex, of a typed index as JSON. With --json,
one JSON array [key, rowId] per line (NDJSON), which tailroot load reads back. Locks nothing:
the dump reads one commit throughout, whatever writers do meanwhile. In a set file of named
indexes, --index NAME picks the index to dump.`,
  options: {
    gt: { type: 'string' }, gte: { type: 'string' }, lt: { type: 'string' }, lte: { type: 'string' },
    reverse: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' }, ...INDEX_OPTION,
  },
  async run({ values, args, out }) {
    const limit = values.limit === undefined ? undefined : integerOption(values.limit, '--limit')
    const idx = openTarget(args[0]!, values.index as string | undefined)
    try {
      const range: RangeOptions<Key> = { reverse: values.reverse === true }
      for (const b of ['gt', 'gte', 'lt', 'lte'] as const) {
        const v = values[b]
        if (typeof v === 'string') range[b] = parseKey(v, idx.keyEncoding, `--${b}`)
      }
      if (limit !== undefined) range.limit = limit
      const json = values.json === true
      for (const [k, r] of idx.range(range)) {
        await out.line(json ? JSON.stringify([jsonKey(k, idx.keyEncoding), r]) : `${showKey(k, idx.keyEncoding)}\t${r}`)
        if (out.closed) break
      }
      return EXIT_OK
    } finally {
      idx.close()
    }
  },
}
