// The command line with typed keys (FORMAT.md §4.1): keys are JSON values, and the values JSON
// lacks are one-member objects ({"$bigint": "…"}, {"$date": "…"}, {"$bytes": "hex"},
// {"$number": "Infinity"}). load reads them, get takes one, dump prints them, and dump --json
// reads back through load.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { cli } from './run-cli.ts'

const LINES = [
  '[null, 1]',
  '[{"$number": "-Infinity"}, 2]',
  '[-1.5, 3]',
  '[{"$bigint": "12345678901234567890"}, 4]',
  '[{"$date": "2026-01-02T03:04:05.000Z"}, 5]',
  '["Lyon", 6]',
  '[{"$bytes": "00ff"}, 7]',
  '[["Smith", "Ann"], 8]',
  '[["Smith", "Bob"], 9]',
  '[["Smith", "Bob"], 10]',
]

t.test('load, get and dump typed keys; dump --json reads back', async t => {
  const dir = tmpDir(t)
  const input = path.join(dir, 'in.ndjson')
  // Unsorted on purpose: load sorts.
  fs.writeFileSync(input, [...LINES].reverse().join('\n') + '\n')
  const file = path.join(dir, 't.idx')
  const l = await cli(['load', file, input, '--key-encoding', 'typed'])
  t.equal(l.code, 0, l.stderr)
  const idx = Index.open(file, { readOnly: true, keyEncoding: 'typed' })
  t.equal(idx.count(), LINES.length)
  t.same(idx.get(['Smith', 'Bob']), [9, 10])
  t.same(idx.get(12345678901234567890n), [4])
  t.same(idx.get(new Date('2026-01-02T03:04:05.000Z')), [5])
  t.same(idx.get(-Infinity), [2])
  idx.close()

  const g = await cli(['get', file, '["Smith","Bob"]', '--json'])
  t.equal(g.code, 0, g.stderr)
  t.same(JSON.parse(g.stdout), [9, 10])
  const bad = await cli(['get', file, '[Smith'])
  t.equal(bad.code, 2, 'a key that is not JSON is a usage error')
  t.match(bad.stderr, /must be a JSON value for a typed index/)

  // Natural order: null < numbers < Dates < strings < bytes < tuples.
  const d = await cli(['dump', file, '--json'])
  t.equal(d.code, 0, d.stderr)
  t.same(d.stdout.trimEnd().split('\n').map(s => JSON.parse(s)), LINES.map(s => JSON.parse(s)).sort((a, b) => a[1] - b[1]))
  const text = await cli(['dump', file, '--gte', '["Smith"]', '--limit', '2'])
  t.equal(text.stdout, '["Smith","Ann"]\t8\n["Smith","Bob"]\t9\n')

  const again = path.join(dir, 'again.ndjson')
  fs.writeFileSync(again, d.stdout)
  const copy = path.join(dir, 'copy.idx')
  t.equal((await cli(['load', copy, again, '--key-encoding', 'typed'])).code, 0)
  t.equal((await cli(['dump', copy, '--json'])).stdout, d.stdout, 'the dump of the reloaded index is the same')
})

t.test('load names a bad typed key by its line', async t => {
  const dir = tmpDir(t)
  const input = path.join(dir, 'bad.ndjson')
  fs.writeFileSync(input, '[1, 1]\n[{"$when": "x"}, 2]\n')
  const file = path.join(dir, 'b.idx')
  const r = await cli(['load', file, input, '--key-encoding', 'typed'])
  t.not(r.code, 0)
  t.match(r.stderr, /bad\.ndjson:2: not a typed key/)
  t.notOk(fs.existsSync(file), 'no half-built index')
})
