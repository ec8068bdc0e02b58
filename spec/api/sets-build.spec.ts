/**
 * IndexSet.build: a set file built bottom-up in one commit from each named index's pairs, the
 * same content as the same pairs inserted by transactions, per-index settings and errors.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { IndexSet, TailrootError } from '../../lib/index.ts'
import type { TypedKey } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { Rng } from '../helpers/rng.ts'

function codeOf(fn: () => unknown): string {
  try { fn() } catch (err) { return err instanceof TailrootError ? err.code : `not a TailrootError: ${String(err)}` }
  return 'no error'
}

t.test('a built set file holds what transactions would have written, in one commit', async t => {
  const seed = Rng.seedFromEnv()
  t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)
  const rng = new Rng(seed)
  const dir = tmpDir(t)
  const cities = ['Lyon', 'Nice', 'Paris', 'Rome', 'Zürich']
  const rows = Array.from({ length: 3000 }, (_, id) => ({
    id, city: cities[rng.int(cities.length)]!, email: `u${id}@x`, age: rng.int(90), name: [`L${rng.int(50)}`, `F${rng.int(50)}`] as [string, string],
  }))
  for (let i = rows.length - 1; i > 0; i--) { const j = rng.int(i + 1); [rows[i], rows[j]] = [rows[j]!, rows[i]!] }
  const city: [string, number][] = rows.map(r => [r.city, r.id])
  city.push(city[0]!) // a duplicate pair is dropped
  const built = IndexSet.build(path.join(dir, 'built.set'), {
    city: { pairs: city },
    email: { unique: true, pairs: rows.map((r): [string, number] => [r.email, r.id]) },
    age: { keyEncoding: 'typed', pairs: rows.map((r): [TypedKey, number] => [r.age, r.id]) },
    name: { keyEncoding: 'typed', pairs: rows.map((r): [TypedKey, number] => [r.name, r.id]) },
  }, { pageSize: 1024 })
  t.teardown(() => built.close())
  t.equal(built.sequence, 1, 'one commit')
  t.same(built.names(), ['age', 'city', 'email', 'name'])

  const ref = IndexSet.open(path.join(dir, 'ref.set'), { pageSize: 1024 })
  t.teardown(() => ref.close())
  ref.transaction(tx => {
    const c = tx.index('city'); const e = tx.index('email', { unique: true })
    const a = tx.index('age', { keyEncoding: 'typed' }); const n = tx.index('name', { keyEncoding: 'typed' })
    for (const r of rows) { c.insert(r.city, r.id); e.insert(r.email, r.id); a.insert(r.age, r.id); n.insert(r.name, r.id) }
  })
  for (const [name, o] of [['city', {}], ['email', { unique: true }], ['age', { keyEncoding: 'typed' }], ['name', { keyEncoding: 'typed' }]] as const) {
    const b = built.index(name, o)
    t.same([...b.range()], [...ref.index(name, o).range()], `${name}: the same pairs in the same order as inserted by a transaction`)
    t.equal(b.count(), rows.length, `${name}: ${rows.length} pairs`)
  }
  t.equal(built.index('age', { keyEncoding: 'typed' }).countRange({ gte: 30, lt: 40 }), rows.filter(r => r.age >= 30 && r.age < 40).length, 'typed ranges count exactly')
  t.throws(() => built.index('email', { unique: false }), { code: 'INVALID_ARGUMENT' }, 'the settings are fixed as built')
  t.throws(() => built.index('email').insert('u1@x', 99999), { code: 'UNIQUE_VIOLATION' }, 'a built unique index stays unique')
  built.index('city').insert('Oslo', 99999)
  t.equal(built.sequence, 2, 'and takes writes like any set file')
  t.ok(IndexSet.verify(path.join(dir, 'built.set')).ok, 'the file verifies')
})

t.test('IndexSet.build errors leave nothing at the path', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'x.set')
  const left = (): string[] => fs.readdirSync(dir)
  t.equal(codeOf(() => IndexSet.build(file, { email: { unique: true, pairs: [['a@x', 1], ['a@x', 2]] } })), 'UNIQUE_VIOLATION', 'two rowIds for a key of a unique index')
  t.match((() => { try { IndexSet.build(file, { email: { unique: true, pairs: [['a@x', 1], ['a@x', 2]] } }) } catch (e) { return (e as Error).message } return '' })(), /"email"/, 'the message names the index')
  t.equal(codeOf(() => IndexSet.build(file, { city: { pairs: [[42 as never, 1]] } })), 'INVALID_ARGUMENT', 'a key of the wrong type for the index')
  t.equal(codeOf(() => IndexSet.build(file, { '': { pairs: [] } })), 'INVALID_ARGUMENT', 'an empty name')
  t.equal(codeOf(() => IndexSet.build(file, { city: { pairs: [], pageSize: 512 } as never })), 'INVALID_ARGUMENT', 'an unknown index setting')
  t.equal(codeOf(() => IndexSet.build(file, { city: { pairs: [] } }, { unique: true } as never)), 'INVALID_ARGUMENT', 'unique is a setting of each index')
  t.equal(codeOf(() => IndexSet.build(file, { city: { pairs: 5 as never } })), 'INVALID_ARGUMENT', 'pairs that are not iterable')
  t.equal(codeOf(() => IndexSet.build(file, [] as never)), 'INVALID_ARGUMENT', 'indexes that are not an object')
  t.same(left(), [], 'no file, no temporary file')
  IndexSet.build(file, { city: { pairs: [['Lyon', 1]] } }).close()
  t.equal(codeOf(() => IndexSet.build(file, { city: { pairs: [] } })), 'INVALID_ARGUMENT', 'the file exists')
  const set = IndexSet.open(file, { readOnly: true })
  t.same([...set.index('city').range()], [['Lyon', 1]], 'and is left as it was')
  set.close()
  const empty = IndexSet.build(path.join(dir, 'empty.set'), {})
  t.same(empty.names(), [], 'a set of no indexes')
  empty.close()
})
