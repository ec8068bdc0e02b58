/** tailroot load: build a new index file from NDJSON or CSV, streaming. */
import { performance } from 'node:perf_hooks'
import { Index } from '../api/handle.ts'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE, isValidPageSize, maxKeyBytes } from '../format/constants.ts'
import { KeyCodec } from '../keys.ts'
import { choiceOption, integerOption } from './args.ts'
import { EXIT_OK, UsageError } from './exit-codes.ts'
import type { Command } from './command.ts'
import { LineReader, inputPairs } from './load-input.ts'
import { ProgressBar } from './progress.ts'
import { num } from './text.ts'

export const load: Command = {
  name: 'load',
  positionals: ['file', 'input'],
  synopsis: '[--unique] [--key-encoding utf8|binary|typed] [--page-size N] [--format ndjson|csv] [--json]',
  summary: 'build a new index file from NDJSON or CSV',
  details: `Builds a new index at <file> (which must not exist) from <input>: NDJSON, one
[key, rowId] or {"key": ..., "rowId": ...} per line, or CSV with the header line key,rowId.
The format follows the input's name (.csv; .ndjson, .jsonl, .json), else its first line, or
--format. Keys of a binary index are hex; of a typed index, JSON values (see the README). Input sorted by (key, rowId) streams with memory
bounded by the tree height; other input is sorted in memory first. Duplicate pairs are dropped.
A bad line fails the load with its line number, and nothing is left at <file>. With --json,
one object: { "entries", "fileBytes", "lines", "ms", "peakRssBytes" }.`,
  options: {
    unique: { type: 'boolean' }, 'key-encoding': { type: 'string' }, 'page-size': { type: 'string' },
    format: { type: 'string' }, json: { type: 'boolean' },
  },
  async run({ values, args, out, err }) {
    const start = performance.now()
    const [file, input] = args as [string, string]
    const keyEncoding = values['key-encoding'] === undefined ? 'utf8' : choiceOption(values['key-encoding'], '--key-encoding', ['utf8', 'binary', 'typed'] as const)
    const format = values.format === undefined ? null : choiceOption(values.format, '--format', ['ndjson', 'csv'] as const)
    const pageSize = values['page-size'] === undefined ? undefined : integerOption(values['page-size'], '--page-size')
    if (pageSize !== undefined && !isValidPageSize(pageSize)) throw new UsageError(`--page-size must be a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}, got ${pageSize}`)
    const unique = values.unique === true
    const json = values.json === true
    const reader = new LineReader(input)
    const total = reader.size()
    const bar = ProgressBar.on(err, 'load', !json)
    const codec = new KeyCodec(keyEncoding, maxKeyBytes(pageSize ?? DEFAULT_PAGE_SIZE), file)
    let entries: number
    let fileBytes: number
    try {
      const pairs = inputPairs(reader, { format, keyEncoding, unique, codec, onLines: r => bar?.update(r.bytesRead, total, 'bytes') })
      const idx = Index.build(file, pairs, { unique, keyEncoding, ...(pageSize === undefined ? {} : { pageSize }) })
      entries = idx.count()
      fileBytes = idx.stats().fileBytes
      idx.close()
    } finally {
      bar?.end()
    }
    const figures = {
      entries, fileBytes, lines: reader.line,
      ms: Math.round(performance.now() - start), peakRssBytes: process.resourceUsage().maxRSS * 1024,
    }
    if (json) await out.json(figures)
    else await out.line(`loaded ${num(entries)} pairs from ${input} (${num(reader.line)} lines) into ${file}: ${num(figures.fileBytes)} bytes, ${num(figures.ms)} ms, peak RSS ${num(Math.round(figures.peakRssBytes / 2 ** 20))} MiB`)
    return EXIT_OK
  },
}
