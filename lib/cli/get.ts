/** tailroot get: the rowIds of one key. */
import { INDEX_OPTION, openTarget } from './open.ts'
import { EXIT_OK } from './exit-codes.ts'
import { JSON_OPTION } from './command.ts'
import type { Command } from './command.ts'
import { parseKey } from './keys.ts'

export const get: Command = {
  name: 'get',
  positionals: ['file', 'key'],
  synopsis: '[--index NAME] [--json]',
  summary: 'the rowIds of one key',
  details: `Prints the rowIds of the key, ascending, one per line (nothing when it has none). The
key of a binary index is given in hex, of a typed index as JSON. With --json, one JSON array of numbers.
In a set file of named indexes, --index NAME picks the index.`,
  options: { ...JSON_OPTION, ...INDEX_OPTION },
  async run({ values, args, out }) {
    const idx = openTarget(args[0]!, values.index as string | undefined)
    try {
      const ids = idx.get(parseKey(args[1]!, idx.keyEncoding, 'the key'))
      if (values.json === true) await out.json(ids)
      else for (const r of ids) await out.line(String(r))
      return EXIT_OK
    } finally {
      idx.close()
    }
  },
}
