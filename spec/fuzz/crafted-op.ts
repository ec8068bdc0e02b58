/**
 * Child process for tests of crafted files that used to exhaust memory or never finish: runs one
 * read operation on a file and prints one line, `ok <json>` or `CORRUPT <message>`. Anything else
 * (a foreign exception, another code) prints `error <message>` and exits 2. The parent runs this
 * with a heap cap and a timeout, so a regression fails a test instead of taking the runner down.
 *
 * Arguments: <file> <op>, op one of: open get has count count-key count-range range
 * range-reverse range-slice verify.
 */
import { Index, TailrootError } from '../../lib/index.ts'
import { arg, fail, say } from '../helpers/children/io.ts'

const ops: Record<string, (file: string) => unknown> = {
  'open': file => withIndex(file, idx => idx.sequence),
  'get': file => withIndex(file, idx => idx.get('a').length),
  'has': file => withIndex(file, idx => idx.has('a', 1)),
  'count': file => withIndex(file, idx => idx.count()),
  'count-key': file => withIndex(file, idx => idx.count('a')),
  'count-range': file => withIndex(file, idx => idx.countRange({ gte: 'a', lt: 'c' })),
  'range': file => withIndex(file, idx => [...idx.range()].length),
  'range-reverse': file => withIndex(file, idx => [...idx.range({ reverse: true })].length),
  'range-slice': file => withIndex(file, idx => [...idx.range({ offset: 3, limit: 1000 })].length),
  'verify': file => {
    const r = Index.verify(file)
    const secondVisits = r.errors.filter(e => /reached a second time/.test(e.message)).length
    return { ok: r.ok, errors: r.errors.length, omittedErrors: r.omittedErrors, secondVisits, first: r.errors[0]?.message ?? null }
  },
}

function withIndex<T>(file: string, fn: (idx: Index) => T): T {
  const idx = Index.open(file, { readOnly: true })
  try { return fn(idx) } finally { idx.close() }
}

const file = arg(0, 'file')
const op = ops[arg(1, 'op')]
if (op === undefined) fail(new Error(`unknown op ${process.argv[3]}`))
try {
  say(`ok ${JSON.stringify(op(file))}`)
} catch (err) {
  if (err instanceof TailrootError && err.code === 'CORRUPT') say(`CORRUPT ${err.message}`)
  else fail(err)
}
