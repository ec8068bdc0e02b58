// The command line on a set file of named indexes (FORMAT.md §12): stats lists the indexes,
// dump and get read one chosen with --index (and say so when it is missing), verify and
// compact take the file as it is.
import t from 'tap'
import path from 'node:path'
import { IndexSet } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { cli } from './run-cli.ts'

function table(dir: string): string {
  const file = path.join(dir, 'users.set')
  const set = IndexSet.open(file)
  const city = set.index('city')
  const name = set.index('name', { keyEncoding: 'typed', unique: true })
  set.transaction(tx => {
    tx.index(city).insert('Lyon', 1)
    tx.index(city).insert('Lyon', 2)
    tx.index(city).insert('Paris', 3)
    tx.index(name).insert(['Doe', 'Jane'], 1)
    tx.index(name).insert(['Roe', 'Bob'], 2)
  })
  set.close()
  return file
}

t.test('stats, dump, get, verify and compact on a set file', async t => {
  const file = table(tmpDir(t))
  const j = await cli(['stats', file, '--json'])
  t.equal(j.code, 0, j.stderr)
  const s = JSON.parse(j.stdout)
  t.match(s, { entries: 7, sequence: 3, commits: 3 })
  t.same(s.indexes, [
    { name: 'city', keyEncoding: 'utf8', unique: false, entries: 3 },
    { name: 'name', keyEncoding: 'typed', unique: true, entries: 2 },
  ])
  const txt = await cli(['stats', file])
  t.equal(txt.code, 0)
  t.match(txt.stdout, /index "city": 3 entries, utf8\nindex "name": 2 entries, typed, unique\n$/)
  const d = await cli(['dump', file, '--index', 'city', '--reverse'])
  t.equal(d.code, 0, d.stderr)
  t.equal(d.stdout, 'Paris\t3\nLyon\t2\nLyon\t1\n')
  const dj = await cli(['dump', file, '--index', 'name', '--json', '--gte', '["R"]'])
  t.equal(dj.stdout, '[["Roe","Bob"],2]\n')
  const g = await cli(['get', file, 'Lyon', '--index', 'city', '--json'])
  t.equal(g.stdout, '[1,2]\n')
  const none = await cli(['dump', file])
  t.equal(none.code, 2, 'without --index: a usage error')
  t.match(none.stderr, /set of named indexes: name one with --index NAME/)
  const unknown = await cli(['get', file, 'x', '--index', 'email'])
  t.equal(unknown.code, 4)
  t.match(unknown.stderr, /no index named "email"/)
  const h = await cli(['history', file, '--json'])
  t.equal(h.code, 0, h.stderr)
  t.equal(JSON.parse(h.stdout).length, 3, 'history: every commit')
  const v = await cli(['verify', file])
  t.equal(v.code, 0, v.stdout)
  const c = await cli(['compact', file])
  t.equal(c.code, 0, c.stderr)
  t.equal((await cli(['get', file, 'Lyon', '--index', 'city'])).stdout, '1\n2\n', 'the content survives compaction')
})
