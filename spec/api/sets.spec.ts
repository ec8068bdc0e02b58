/**
 * IndexSet (FORMAT.md §12): named indexes with their own settings in one file, one commit for a
 * transaction over several of them, snapshots of all of them, the errors (wrong kind of file,
 * option clashes, names, unknown indexes), key limits, compaction and verify of set files.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Index, IndexSet, TailrootError, maxKeyBytes } from '../../lib/index.ts'
import { openSetFile } from '../../lib/api/handle.ts'
import { resolveOpenOptions } from '../../lib/api/options.ts'
import { MAX_INDEX_NAME_BYTES } from '../../lib/format/constants.ts'
import { tmpDir } from '../helpers/tmp.ts'

function code(fn: () => unknown): string {
  try { fn() } catch (err) { return err instanceof TailrootError ? err.code : `not a TailrootError: ${String(err)}` }
  return 'no error'
}

function message(fn: () => unknown): string {
  try { fn() } catch (err) { return (err as Error).message }
  return ''
}

t.test('a table with three indexes: one commit per transaction, own settings, counts and ranges', async t => {
  const file = path.join(tmpDir(t), 'users.set')
  const set = IndexSet.open(file)
  t.teardown(() => set.close())
  const city = set.index('city')
  const email = set.index('email', { unique: true, keyEncoding: 'binary' })
  const name = set.index<[string, string]>('name', { keyEncoding: 'typed' })
  t.same(set.names(), ['city', 'email', 'name'], 'names in byte order')
  t.equal(set.sequence, 3, 'each index was created by a commit of its own')
  const rows: [number, string, string, string, string][] = [
    [1, 'Lyon', 'ada@x', 'Lovelace', 'Ada'], [2, 'Paris', 'alan@x', 'Turing', 'Alan'],
    [3, 'Lyon', 'grace@x', 'Hopper', 'Grace'], [4, 'Nice', 'ada2@x', 'Lovelace', 'Byron'],
  ]
  for (const [id, c, e, last, first] of rows) {
    const before = set.sequence
    set.transaction(tx => {
      tx.index(city).insert(c, id)
      tx.index(email).insert(Buffer.from(e), id)
      tx.index(name).insert([last, first], id)
    })
    t.equal(set.sequence, before + 1, `row ${id}: one commit for three indexes`)
  }
  t.equal(city.count(), 4)
  t.equal(email.count(), 4)
  t.equal(name.count(), 4)
  t.same(city.get('Lyon'), [1, 3])
  t.equal(city.count('Lyon'), 2)
  t.same([...city.range()], [['Lyon', 1], ['Lyon', 3], ['Nice', 4], ['Paris', 2]])
  t.same([...city.range({ reverse: true, limit: 2 })], [['Paris', 2], ['Nice', 4]])
  t.same([...name.range({ prefix: ['Lovelace'] })].map(p => p[1]), [1, 4], 'a tuple prefix within one index')
  t.equal(name.countRange({ gte: ['M', ''] }), 1)
  t.equal(email.countRange(), 4)
  t.same([...email.range({ limit: 1 })].map(([k, r]) => [Buffer.from(k).toString(), r]), [['ada2@x', 4]])
  t.equal(city.keyEncoding, 'utf8')
  t.equal(email.unique, true)
  t.equal(city.maxKeyBytes, maxKeyBytes(4096) - 2, 'two bytes less than a whole file')
  // Uniqueness is per index: email refuses a second rowId, city takes it, in one transaction that rolls back whole.
  const seq = set.sequence
  t.equal(code(() => set.transaction(tx => {
    tx.index(city).insert('Rome', 9)
    tx.index(email).insert(Buffer.from('ada@x'), 9)
  })), 'UNIQUE_VIOLATION')
  t.equal(set.sequence, seq, 'nothing committed')
  t.same(city.get('Rome'), [], 'the city insert of the failed transaction is gone too')
  t.match(message(() => email.insert(Buffer.from('ada@x'), 10)), /unique index "email"/, 'the violation names the index')
  t.equal(city.insert('Rome', 9), true, 'a non-unique index takes a key any number of times')
  t.equal(city.delete('Rome', 9), true)
  t.equal(city.delete('Rome', 9), false)
  // Reads inside a transaction see its writes, in each index.
  set.transaction(tx => {
    tx.index(city).delete('Lyon', 1)
    t.same(tx.index(city).get('Lyon'), [3])
    t.equal(tx.index('city').count(), 3)
    t.equal(tx.index(email).count(), 4, 'other indexes are not touched')
  }, { meta: Buffer.from('table change 17') })
  t.equal(set.meta?.toString(), 'table change 17', 'commit metadata of the set')
  // A transaction callback that throws writes nothing, in any index.
  const s2 = set.sequence
  t.throws(() => set.transaction(tx => { tx.index(city).insert('X', 1); tx.index(email).insert(Buffer.from('x'), 1); throw new Error('no') }), /no/)
  t.equal(set.sequence, s2)
  t.equal(city.count(), 3)
  // Transaction objects end with the transaction.
  let escaped: { insert(k: string, r: number): boolean } | null = null
  set.transaction(tx => { escaped = tx.index(city) })
  t.equal(code(() => escaped!.insert('late', 1)), 'CLOSED')
})

t.test('snapshots see every index at one commit', async t => {
  const file = path.join(tmpDir(t), 's.set')
  const set = IndexSet.open(file)
  t.teardown(() => set.close())
  const a = set.index('a')
  const b = set.index('b', { keyEncoding: 'typed' })
  set.transaction(tx => { tx.index(a).insert('x', 1); tx.index(b).insert(1, 1) })
  const snap = set.snapshot()
  set.transaction(tx => { tx.index(a).insert('y', 2); tx.index(b).insert(2, 2) })
  set.index('c').insert('z', 3)
  t.equal(snap.index(a).count(), 1)
  t.equal(snap.index('b', { keyEncoding: 'typed' }).count(), 1)
  t.same(snap.names(), ['a', 'b'])
  const st = set.stats()
  t.same(st.indexes.map(i => [i.name, i.keyEncoding, i.unique, i.entries]), [['a', 'utf8', false, 2], ['b', 'typed', false, 2], ['c', 'utf8', false, 1]], 'stats of each index')
  t.equal(st.entries, 8, 'the file\'s entries count the catalog too')
  t.equal(st.sequence, set.sequence)
  t.notOk('keyEncoding' in st, 'no file-wide key encoding')
  t.equal(code(() => snap.index('c')), 'NOT_FOUND', 'an index created after the snapshot is not in it')
  t.equal(code(() => snap.index('b', { keyEncoding: 'utf8' })), 'INVALID_ARGUMENT', 'options are checked against the catalog')
  t.equal(a.count(), 2)
  t.equal(b.count(), 2)
  snap.close()
  t.equal(code(() => snap.index(a).count()), 'CLOSED')
})

t.test('another handle, and reopening, see the same indexes and settings', async t => {
  const file = path.join(tmpDir(t), 'r.set')
  const set = IndexSet.open(file, { pageSize: 1024 })
  set.index('email', { unique: true }).insert('a@x', 1)
  const other = IndexSet.open(file)
  t.equal(other.pageSize, 1024)
  const e = other.index('email')
  t.equal(e.unique, true, 'settings come from the catalog')
  t.same(e.get('a@x'), [1])
  set.index('email').insert('b@x', 2)
  t.same(e.get('b@x'), [2], 'the other handle follows commits')
  t.equal(code(() => e.insert('a@x', 3)), 'UNIQUE_VIOLATION')
  set.close()
  other.close()
  const ro = IndexSet.open(file, { readOnly: true })
  t.same(ro.names(), ['email'])
  t.equal(ro.index('email').count(), 2)
  t.equal(code(() => ro.index('city')), 'NOT_FOUND', 'an unknown index of a readOnly set')
  t.equal(code(() => ro.index('email').insert('c@x', 3)), 'READ_ONLY')
  ro.close()
  const nc = IndexSet.open(file, { create: false })
  t.equal(code(() => nc.index('city')), 'NOT_FOUND', 'create: false creates no index')
  t.equal(code(() => nc.transaction(tx => tx.index('city'))), 'NOT_FOUND', 'nor does a transaction of it')
  t.equal(nc.sequence, 3, 'nothing committed')
  nc.close()
})

t.test('errors: kinds of file, option clashes, names', async t => {
  const dir = tmpDir(t)
  const single = path.join(dir, 'single.idx')
  Index.open(single).close()
  const setFile = path.join(dir, 'a.set')
  const set = IndexSet.open(setFile, { pageSize: 512 })
  t.teardown(() => set.close())
  set.index('email', { unique: true })
  t.equal(code(() => Index.open(setFile)), 'INVALID_ARGUMENT', 'Index.open refuses a set file')
  t.match(message(() => Index.open(setFile)), /IndexSet\.open/, 'and says what opens it')
  t.equal(code(() => IndexSet.open(single)), 'INVALID_ARGUMENT', 'IndexSet.open refuses a single-index file')
  t.match(message(() => IndexSet.open(single)), /Index\.open/)
  t.equal(code(() => IndexSet.open(path.join(dir, 'b.set'), { unique: true } as never)), 'INVALID_ARGUMENT', 'unique is an option of each index')
  t.equal(code(() => IndexSet.open(path.join(dir, 'c.set'), { keyEncoding: 'typed' } as never)), 'INVALID_ARGUMENT')
  t.notOk(fs.existsSync(path.join(dir, 'b.set')), 'no file was created')
  t.equal(code(() => IndexSet.open(path.join(dir, 'missing.set'), { readOnly: true })), 'NOT_FOUND')
  const clash = message(() => set.index('email', { unique: false }))
  t.match(clash, /email.*unique is false.*created with true/, `a clash names the index and the option: ${clash}`)
  t.equal(code(() => set.index('email', { keyEncoding: 'typed' })), 'INVALID_ARGUMENT')
  t.equal(code(() => set.transaction(tx => tx.index('email', { unique: false }))), 'INVALID_ARGUMENT', 'in a transaction too')
  t.equal(code(() => set.index('x', { pageSize: 1024 } as never)), 'INVALID_ARGUMENT', 'unknown index option')
  t.equal(code(() => set.index('x', { keyEncoding: 'utf16' } as never)), 'INVALID_ARGUMENT')
  for (const [what, bad] of [['empty', ''], ['a number', 7], ['a lone surrogate', 'a\ud800'], ['too long', 'n'.repeat(MAX_INDEX_NAME_BYTES + 1)]] as const) {
    t.equal(code(() => set.index(bad as string)), 'INVALID_ARGUMENT', `a name that is ${what}`)
  }
  const long = 'é'.repeat(MAX_INDEX_NAME_BYTES / 2)
  t.equal(set.index(long).name, long, `a name of ${MAX_INDEX_NAME_BYTES} UTF-8 bytes, at P=512`)
  const seq = set.sequence
  t.equal(code(() => set.index('')), 'INVALID_ARGUMENT')
  t.equal(set.sequence, seq, 'refused names commit nothing')
  // Key limits: two bytes less than the file's.
  const k = set.index('k', { keyEncoding: 'binary' })
  t.equal(k.maxKeyBytes, maxKeyBytes(512) - 2)
  t.equal(k.insert(Buffer.alloc(k.maxKeyBytes, 0xff), 1), true, 'a key of the maximum size')
  t.equal(code(() => k.insert(Buffer.alloc(k.maxKeyBytes + 1, 0xff), 1)), 'KEY_TOO_LARGE')
  t.equal(code(() => k.insert('text' as never, 1)), 'INVALID_ARGUMENT', 'keys follow the index encoding')
  set.close()
  t.equal(code(() => set.index('email')), 'CLOSED')
  t.equal(code(() => set.transaction(() => 1)), 'CLOSED')
})

t.test('indexes stay within their ranges at the edges of the key space', async t => {
  const set = IndexSet.open(path.join(tmpDir(t), 'e.set'), { pageSize: 512, maxPendingChanges: 3 })
  t.teardown(() => set.close())
  const lo = set.index('lo', { keyEncoding: 'binary' })
  const mid = set.index('mid', { keyEncoding: 'binary' })
  const hi = set.index('hi', { keyEncoding: 'binary' })
  const keys = [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0xff]), Buffer.from([0xff, 0xff, 0xff]), Buffer.from('m')]
  set.transaction(tx => {
    for (const [i, k] of keys.entries()) { tx.index(lo).insert(k, i); tx.index(hi).insert(k, 10 + i) }
  })
  for (const [what, x, base] of [['lo', lo, 0], ['hi', hi, 10]] as const) {
    t.equal(x.count(), keys.length, `${what}: count`)
    t.equal(x.countRange({}), keys.length)
    t.same([...x.range()].map(p => p[1]), [0, 1, 4, 2, 3].map(i => base + i), `${what}: range in key order`)
    t.same([...x.range({ reverse: true })].map(p => p[1]), [3, 2, 4, 1, 0].map(i => base + i), `${what}: reversed`)
    t.same([...x.range({ prefix: Buffer.from([0xff]) })].map(p => p[1]), [2, 3].map(i => base + i), `${what}: prefix 0xff`)
    t.same([...x.range({ gt: Buffer.from([0xff]) })].map(p => p[1]), [base + 3])
    t.same([...x.range({ lt: Buffer.from([0]) })].map(p => p[1]), [base])
    t.same([...x.range({ offset: 4 })].map(p => p[1]), [base + 3])
    t.equal(x.count(Buffer.alloc(0)), 1, 'the empty key')
  }
  t.equal(mid.count(), 0, 'an empty index between two others')
  t.same([...mid.range()], [])
  t.same([...mid.range({ reverse: true })], [])
  t.equal(mid.countRange({ gte: Buffer.alloc(0) }), 0)
})

t.test('compaction keeps a set file a set file', async t => {
  const file = path.join(tmpDir(t), 'c.set')
  const set = IndexSet.open(file, { pageSize: 512 })
  t.teardown(() => set.close())
  const a = set.index('a')
  const b = set.index('b', { keyEncoding: 'typed', unique: true })
  for (let i = 0; i < 200; i++) set.transaction(tx => { tx.index(a).insert(`k${i % 20}`, i); tx.index(b).insert([i, 'x'], i) })
  for (let i = 0; i < 100; i++) a.delete(`k${i % 20}`, i)
  const r = IndexSet.compact(file)
  t.ok(r.replaced, 'compacted')
  t.equal(a.count(), 100, 'the open handle follows')
  t.equal(b.count(), 200)
  t.same(b.get([7, 'x']), [7])
  t.same(IndexSet.verify(file).errors, [])
  const again = IndexSet.open(file)
  t.equal(again.index('b').unique, true)
  again.close()
})

t.test('verify checks the catalog and the index numbers of a set file', async t => {
  const file = path.join(tmpDir(t), 'v.set')
  const set = IndexSet.open(file)
  set.index('city').insert('Lyon', 1)
  set.index('tags', { keyEncoding: 'typed', unique: true }).insert(['a'], 1)
  set.close()
  t.same(Index.verify(file).errors, [], 'a clean set file')
  // Damage made through the raw index of the file, which takes any binary key.
  const raw = openSetFile(file, { ...resolveOpenOptions({}), set: true })
  t.teardown(() => raw.close())
  const check = (what: string, key: number[], rowId: number, want: RegExp): void => {
    raw.insert(Buffer.from(key) as never, rowId)
    const v = Index.verify(file)
    t.equal(v.ok, false, `${what}: reported`)
    t.match(v.errors.map(e => e.message).join('\n'), want, what)
    raw.delete(Buffer.from(key) as never, rowId)
    t.same(Index.verify(file).errors, [], `${what}: clean again`)
  }
  check('keys of an index the catalog does not name', [0, 9, 0x41], 5, /index number 9, which the catalog does not name/)
  check('a catalog entry without a valid number', [0, 0, 0x7a], 2, /number 0/)
  check('a catalog entry with an unknown encoding', [0, 0, 0x7a], 8 + 6, /unknown key encoding 3/)
  check('a number used twice', [0, 0, 0x7a], 8 * 1, /number 1, which another index has/)
  check('a name with two entries', [0, 0, ...Buffer.from('city')], 8 * 5, /names index "city" twice/)
  check('a catalog key that is no name', [0, 0, 0xff], 8 * 7, /not a valid index name/)
  check('a key too short for an index number', [1], 1, /shorter than an index number/)
  check('a utf8 key that is not UTF-8', [0, 1, 0xff], 1, /not UTF-8/)
  check('a typed key that is not one', [0, 2, 0xee], 7, /not a typed key/)
  check('a second rowId in a unique index', [0, 2, 0x70, 0x50, 0x61, 0x00, 0x00], 2, /several rowIds in a unique index/)
})
