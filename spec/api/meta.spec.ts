/**
 * Commit metadata (issue 11): `transaction(fn, { meta })`, `transactionAsync(fn, { meta })` and
 * `IndexSet.transaction(fn, { meta })` store a small blob of bytes in the commit page, atomically
 * with the changes; `meta` on an index, a set and their snapshots reads it back. A transaction
 * given meta always commits (null clears it); one without meta and without changes does not; a
 * commit without meta carries the previous commit's forward, across folds of the pending changes
 * and compaction. Bad meta is INVALID_ARGUMENT before anything happens; the old names are gone.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Index, IndexSet, TailrootError } from '../../lib/index.ts'
import type { OpenOptions } from '../../lib/index.ts'
import { PAGE_COMMIT } from '../../lib/format/constants.ts'
import { tmpDir } from '../helpers/tmp.ts'

function open(t: Test, options: OpenOptions & { keyEncoding?: 'utf8' } = {}): { idx: Index; file: string } {
  const file = path.join(tmpDir(t), 'm.idx')
  const idx = Index.open(file, { durability: 'none', ...options })
  t.teardown(() => idx.close())
  return { idx, file }
}

const text = (b: Buffer | null): string | null => b === null ? null : b.toString()

/** The code and message of what `fn` throws. */
function failure(fn: () => unknown): { code: string; message: string } {
  try { fn() } catch (err) {
    return err instanceof TailrootError ? { code: err.code, message: err.message } : { code: `not a TailrootError: ${String(err)}`, message: '' }
  }
  return { code: 'no error', message: '' }
}

async function asyncFailure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try { await p } catch (err) {
    return err instanceof TailrootError ? { code: err.code, message: err.message } : { code: `not a TailrootError: ${String(err)}`, message: '' }
  }
  return { code: 'no error', message: '' }
}

/** Bad `meta` values, each with what the message must say was given. */
const BAD: [unknown, string][] = [
  ['change 7', 'a string ("change 7")'],
  [7, 'the number 7'],
  [7n, 'the bigint 7'],
  [true, 'the boolean true'],
  [{ change: 7 }, 'an object'],
  [[0, 7], 'an array'],
  [new ArrayBuffer(8), 'an object (ArrayBuffer)'],
  [new Uint16Array(4), 'an object (Uint16Array)'],
  [new DataView(new ArrayBuffer(8)), 'an object (DataView)'],
  [() => 7, 'a function'],
]

t.test('a new index has no metadata; a transaction given meta stores it in its commit', t => {
  const { idx, file } = open(t)
  t.equal(idx.meta, null, 'a new file: null')
  const r = idx.transaction(tx => { tx.insert('Lyon', 1); return 'done' }, { meta: Buffer.from('change 1') })
  t.equal(r, 'done', 'transaction returns what fn returned')
  t.equal(idx.sequence, 1)
  t.equal(text(idx.meta), 'change 1')
  const other = Index.open(file, { readOnly: true })
  t.equal(text(other.meta), 'change 1', 'another handle reads it from the file')
  other.close()

  // The stored bytes are a copy, and so is what `meta` returns.
  const given = new Uint8Array([1, 2, 3, 4, 5, 6]).subarray(2, 5)
  idx.transaction(() => {}, { meta: given })
  given[0] = 99
  t.same([...idx.meta!], [3, 4, 5], 'a plain Uint8Array view: exactly its bytes, copied when given')
  t.ok(Buffer.isBuffer(idx.meta), 'read back as a Buffer')
  idx.meta![0] = 42
  t.same([...idx.meta!], [3, 4, 5], 'changing the Buffer returned changes nothing')
  t.end()
})

t.test('a transaction given meta always commits; one without meta and without changes does not', t => {
  const { idx, file } = open(t)
  idx.insert('Lyon', 1)
  let seq = idx.sequence
  // Compared byte for byte: a commit into the zeros preallocated after the newest commit
  // (FORMAT.md §8) does not change the file's size.
  let bytes = fs.readFileSync(file)
  const P = idx.pageSize
  const end = (idx.stats().commitPage + 1) * P

  // No meta, no change: no commit, no byte written.
  t.equal(idx.transaction(() => 'nothing'), 'nothing')
  t.equal(idx.transaction(tx => { tx.insert('Lyon', 1); tx.delete('Nice', 2); return tx.count() }), 1, 'calls that all return false')
  t.equal(idx.insert('Lyon', 1), false)
  t.equal(idx.delete('Nice', 2), false)
  t.equal(idx.sequence, seq, 'no commit')
  t.ok(fs.readFileSync(file).equals(bytes), 'nothing written')
  t.equal(idx.meta, null)

  // With meta: a commit each time, even when fn changes nothing or its calls change nothing.
  idx.transaction(() => {}, { meta: Buffer.from('change 2') })
  t.equal(idx.sequence, ++seq, 'meta only: sequence + 1')
  const now = fs.readFileSync(file)
  t.ok(idx.stats().commitPage === end / P && now[end] === PAGE_COMMIT && now.subarray(0, end).equals(bytes.subarray(0, end)), 'a commit page was written after the last one')
  t.ok(now.subarray(end + P).every(b => b === 0), 'only zeros follow it')
  idx.transaction(tx => { tx.insert('Lyon', 1) }, { meta: Buffer.from('change 3') })
  t.equal(idx.sequence, ++seq, 'calls that changed nothing, with meta: sequence + 1')
  t.equal(text(idx.meta), 'change 3')
  idx.transaction(() => {}, { meta: Buffer.from('change 3') })
  t.equal(idx.sequence, ++seq, 'the same meta again still commits')

  // null clears the metadata, and commits too; so does an empty array, which stores none.
  idx.transaction(() => {}, { meta: null })
  t.equal(idx.sequence, ++seq, 'meta: null commits')
  t.equal(idx.meta, null, 'and clears the metadata')
  idx.transaction(() => {}, { meta: null })
  t.equal(idx.sequence, ++seq, 'meta: null commits even when there is nothing to clear')
  idx.transaction(() => {}, { meta: Buffer.from('x') })
  idx.transaction(() => {}, { meta: new Uint8Array(0) })
  t.equal(idx.sequence, seq += 2)
  t.equal(idx.meta, null, 'an empty array stores no metadata: it reads back as null')

  // `meta: undefined` is the option left out.
  idx.transaction(() => {}, { meta: Buffer.from('kept') })
  bytes = fs.readFileSync(file)
  idx.transaction(() => {}, { meta: undefined })
  idx.transaction(() => {}, {})
  t.equal(idx.sequence, ++seq, 'meta: undefined and {} are no meta: no commit without changes')
  t.ok(fs.readFileSync(file).equals(bytes), 'nothing written')
  t.equal(text(idx.meta), 'kept')

  // A callback that throws commits nothing, meta or not.
  t.throws(() => idx.transaction(tx => { tx.insert('Paris', 3); throw new Error('no') }, { meta: Buffer.from('lost') }), /no/)
  t.equal(idx.sequence, seq, 'a throwing callback: no commit')
  t.equal(text(idx.meta), 'kept', 'and the metadata is unchanged')
  t.same(idx.get('Paris'), [])
  t.end()
})

t.test('a commit without meta carries the previous metadata forward', t => {
  const { idx, file } = open(t)
  idx.transaction(tx => { tx.insert('a', 1) }, { meta: Buffer.from('n=1') })
  idx.insert('b', 2)
  t.equal(text(idx.meta), 'n=1', 'an autocommit insert')
  idx.delete('a', 1)
  t.equal(text(idx.meta), 'n=1', 'an autocommit delete')
  idx.transaction(tx => { tx.insert('c', 3); tx.insert('d', 4) })
  t.equal(text(idx.meta), 'n=1', 'a transaction without meta')
  idx.transaction(tx => { tx.insert('e', 5); tx.delete('e', 5) })
  t.equal(idx.sequence, 5, 'a transaction whose changes cancel out still commits')
  t.equal(text(idx.meta), 'n=1', 'and carries the metadata forward')
  const fresh = Index.open(file, { readOnly: true })
  t.equal(text(fresh.meta), 'n=1', 'as the file says')
  fresh.close()
  t.end()
})

t.test('the metadata is carried across folds of the pending changes', t => {
  // At most 4 pending change records: every second commit of 3 inserts folds them into the tree.
  const { idx, file } = open(t, { pageSize: 512, maxPendingChanges: 4 })
  const reader = Index.open(file, { readOnly: true })
  t.teardown(() => reader.close())
  let expected: string | null = null
  let folds = 0
  let logged = 0
  const problems: string[] = []
  for (let c = 1; c <= 40; c++) {
    const meta = c % 7 === 1 ? `change ${c}` : c % 13 === 0 ? null : undefined
    const before = idx.stats().pendingChanges
    idx.transaction(tx => { for (let i = 0; i < 3; i++) tx.insert(`k${c}-${i}`, c) }, meta === undefined ? undefined : { meta: meta === null ? null : Buffer.from(meta) })
    if (meta !== undefined) expected = meta
    const after = idx.stats().pendingChanges
    if (after === 0) folds++
    else if (after === before + 3) logged++
    if (text(idx.meta) !== expected) problems.push(`commit ${c}: ${text(idx.meta)}, expected ${expected}`)
    reader.refresh()
    if (text(reader.meta) !== expected) problems.push(`commit ${c}, another handle: ${text(reader.meta)}, expected ${expected}`)
    // A meta-only commit between two of them: it adds no change record and folds nothing.
    if (c % 10 === 5) {
      const pending = idx.stats().pendingChanges
      idx.transaction(() => {}, { meta: Buffer.from(expected = `only meta after ${c}`) })
      if (idx.stats().pendingChanges !== pending) problems.push(`commit ${c}: the meta-only commit changed the pending changes`)
      if (text(idx.meta) !== expected) problems.push(`meta-only commit after ${c}: ${text(idx.meta)}`)
    }
  }
  t.same(problems, [], 'every commit reads the last meta given')
  t.ok(folds >= 10, `commits that folded the pending changes into the tree (${folds})`)
  t.ok(logged >= 10, `commits that stayed change records (${logged})`)
  t.equal(idx.count(), 120)
  // Every commit folds: the path that rewrites the tree each time.
  const every = Index.open(path.join(path.dirname(file), 'every.idx'), { durability: 'none', maxPendingChanges: 0 })
  every.transaction(tx => { tx.insert('a', 1) }, { meta: Buffer.from('first') })
  every.insert('b', 2)
  every.transaction(tx => { tx.delete('a', 1) })
  t.equal(every.stats().pendingChanges, 0)
  t.equal(text(every.meta), 'first', 'maxPendingChanges 0: carried by every folding commit')
  every.close()
  t.end()
})

t.test('Index.compact keeps the metadata, and later commits carry it forward', t => {
  const { idx, file } = open(t, { pageSize: 512 })
  for (let i = 0; i < 200; i++) idx.insert(`k${i % 50}`, i)
  idx.transaction(tx => { for (let i = 0; i < 100; i++) tx.delete(`k${i % 50}`, i) }, { meta: Buffer.from('before compact') })
  const seq = idx.sequence
  const res = Index.compact(file)
  t.equal(res.replaced, true, 'the file was rewritten')
  const fresh = Index.open(file, { readOnly: true })
  t.equal(text(fresh.meta), 'before compact', 'the compacted file holds the metadata')
  t.equal(fresh.sequence, seq)
  fresh.close()
  t.equal(text(idx.meta), 'before compact', 'a handle that moves to the new file reads it')
  idx.insert('after', 1)
  t.equal(idx.sequence, seq + 1)
  t.equal(text(idx.meta), 'before compact', 'the first commit after compaction carries it forward')
  idx.transaction(() => {}, { meta: null })
  Index.compact(file)
  const cleared = Index.open(file, { readOnly: true })
  t.equal(cleared.meta, null, 'a cleared metadata stays cleared through compaction')
  cleared.close()
  t.end()
})

t.test('snapshots read the metadata of the commit they pin', t => {
  const { idx } = open(t)
  idx.transaction(() => {}, { meta: Buffer.from('one') })
  const s1 = idx.snapshot()
  idx.transaction(() => {}, { meta: Buffer.from('two') })
  const s2 = idx.snapshot()
  idx.transaction(() => {}, { meta: null })
  const s3 = idx.snapshot()
  idx.insert('x', 1)
  t.same([text(s1.meta), text(s2.meta), s3.meta, idx.meta], ['one', 'two', null, null])
  t.same([s1.sequence, s2.sequence, s3.sequence, idx.sequence], [1, 2, 3, 4])
  s1.close()
  s2.close()
  s3.close()
  t.throws(() => s1.meta, { code: 'CLOSED' })
  t.end()
})

t.test('bad meta is INVALID_ARGUMENT naming the option and what was given, before anything happens', t => {
  for (const pageSize of [512, 4096]) {
    const { idx, file } = open(t, { pageSize })
    idx.transaction(tx => { tx.insert('a', 1) }, { meta: Buffer.from('good') })
    const bytes = fs.readFileSync(file)
    const max = pageSize === 512 ? 412 : 1024
    let called = 0
    const fn = (tx: { insert(k: string, r: number): boolean }): void => { called++; tx.insert('b', 2) }
    for (const [bad, given] of BAD) {
      const f = failure(() => idx.transaction(fn, { meta: bad as Uint8Array }))
      t.equal(f.code, 'INVALID_ARGUMENT', `meta ${given}`)
      t.match(f.message, `${file}: transaction: option meta must be a Uint8Array (a Buffer is one) or null, got ${given}`, 'the message names the option and what was given')
    }
    const long = failure(() => idx.transaction(fn, { meta: Buffer.alloc(max + 1) }))
    t.equal(long.code, 'INVALID_ARGUMENT', `${max + 1} bytes at page size ${pageSize}`)
    t.match(long.message, `option meta is ${max + 1} bytes; the maximum is ${max} (page size ${pageSize})`, 'the message names the size and the limit')
    t.equal(failure(() => idx.transaction(fn, { meta: Buffer.alloc(5000) })).code, 'INVALID_ARGUMENT', '5000 bytes')
    const old = failure(() => idx.transaction(fn, { metadata: Buffer.from('m') } as never))
    t.equal(old.code, 'INVALID_ARGUMENT', 'an option named metadata')
    t.match(old.message, "unknown option 'metadata'")
    for (const o of [null, 'meta', 7, [Buffer.from('m')]]) {
      t.equal(failure(() => idx.transaction(fn, o as never)).code, 'INVALID_ARGUMENT', `options ${JSON.stringify(o)}`)
    }
    t.equal(called, 0, 'the callback never ran')
    t.equal(idx.sequence, 1, 'no commit')
    t.same([...idx.range()], [['a', 1]])
    t.equal(text(idx.meta), 'good')
    t.ok(fs.readFileSync(file).equals(bytes), 'the file is unchanged')
    idx.transaction(() => {}, { meta: Buffer.alloc(max, 7) })
    t.same(idx.meta, Buffer.alloc(max, 7), `exactly ${max} bytes at page size ${pageSize} is fine`)
  }
  t.end()
})

t.test('transactionAsync: the same option, checked when called; a group applies the metas in call order', async t => {
  const { idx, file } = open(t, { pageSize: 512 })
  await idx.insertAsync('a', 1)
  const bytes = fs.readFileSync(file)
  let called = 0
  for (const [bad, given] of BAD) {
    const f = await asyncFailure(idx.transactionAsync(() => { called++ }, { meta: bad as Uint8Array }))
    t.equal(f.code, 'INVALID_ARGUMENT', `meta ${given}`)
    t.match(f.message, `${file}: transactionAsync: option meta must be a Uint8Array (a Buffer is one) or null, got ${given}`)
  }
  const long = await asyncFailure(idx.transactionAsync(() => { called++ }, { meta: Buffer.alloc(413) }))
  t.equal(long.code, 'INVALID_ARGUMENT')
  t.match(long.message, 'option meta is 413 bytes; the maximum is 412 (page size 512)')
  t.equal((await asyncFailure(idx.transactionAsync(() => { called++ }, { metadata: Buffer.from('m') } as never))).code, 'INVALID_ARGUMENT', 'an option named metadata')
  t.equal((await asyncFailure(idx.insertAsync('b', 1, { meta: Buffer.from('m') } as never))).code, 'INVALID_ARGUMENT', 'meta is for transactions')
  t.equal(called, 0, 'no callback ran')
  t.equal(idx.sequence, 1)
  t.ok(fs.readFileSync(file).equals(bytes), 'the file is unchanged')

  // A transaction given meta commits, even alone and without changes.
  t.equal(await idx.transactionAsync(tx => tx.count(), { meta: Buffer.from('m1') }), 1)
  t.equal(idx.sequence, 2, 'meta only: sequence + 1')
  t.equal(text(idx.meta), 'm1')
  await idx.transactionAsync(() => {}, { meta: null })
  t.equal(idx.sequence, 3)
  t.equal(idx.meta, null, 'meta: null clears it')
  await idx.transactionAsync(() => {}, { meta: Buffer.from('m2') })
  t.same(await Promise.all([idx.transactionAsync(() => 1), idx.insertAsync('a', 1), idx.deleteAsync('none', 1)]), [1, false, false])
  t.equal(idx.sequence, 4, 'no meta and no change: no commit')

  // One group: each call's meta in call order; a call that throws takes its meta with it.
  const mutable = Buffer.from('m3')
  const group = [
    idx.transactionAsync(tx => tx.insert('b', 2), { meta: mutable }),
    idx.insertAsync('c', 3),
    idx.transactionAsync(() => { throw new Error('dropped') }, { meta: Buffer.from('never') }),
    idx.transactionAsync(tx => tx.count()),
  ]
  mutable.write('xx') // after the call: the meta given is what counts
  const out = await Promise.all(group.map(p => p.then(v => v, (e: Error) => e.message)))
  t.same(out, [true, true, 'dropped', 3])
  t.equal(idx.sequence, 5, 'one commit for the group')
  t.equal(text(idx.meta), 'm3', 'the last meta of a call that did not throw')
  const g2 = [
    idx.transactionAsync(() => {}, { meta: Buffer.from('first') }),
    idx.transactionAsync(() => {}, { meta: Buffer.from('second') }),
    idx.transactionAsync(() => {}),
  ]
  await Promise.all(g2)
  t.equal(idx.sequence, 6, 'meta-only calls: one commit for the group')
  t.equal(text(idx.meta), 'second', 'the last meta given')
  await Promise.all([idx.transactionAsync(() => {}, { meta: Buffer.from('third') }), idx.transactionAsync(() => {}, { meta: null })])
  t.equal(idx.sequence, 7)
  t.equal(idx.meta, null, 'a later null clears what an earlier call of the group gave')
  await idx.insertAsync('d', 4)
  t.equal(idx.meta, null)
  await idx.transactionAsync(() => {}, { meta: Buffer.from('m4') })
  await idx.insertAsync('e', 5)
  t.equal(text(idx.meta), 'm4', 'an asynchronous commit without meta carries it forward')
  const fresh = Index.open(file, { readOnly: true })
  t.equal(text(fresh.meta), 'm4')
  t.equal(fresh.sequence, 10)
  fresh.close()
})

t.test('IndexSet: set.transaction(fn, { meta }), set.meta and snapshot.meta', t => {
  const file = path.join(tmpDir(t), 'users.set')
  const set = IndexSet.open(file, { durability: 'none', pageSize: 512 })
  t.teardown(() => set.close())
  t.equal(set.meta, null)
  const city = set.index('city')
  const email = set.index('email', { unique: true })
  let seq = set.sequence
  set.transaction(tx => {
    tx.index(city).insert('Lyon', 1)
    tx.index(email).insert('ada@x', 1)
  }, { meta: Buffer.from('change 1') })
  t.equal(set.sequence, ++seq)
  t.equal(text(set.meta), 'change 1')
  const snap = set.snapshot()

  set.transaction(() => {}, { meta: Buffer.from('change 2') })
  t.equal(set.sequence, ++seq, 'meta only: the set commits')
  set.transaction(tx => { tx.index(city).insert('Lyon', 1) }, { meta: Buffer.from('change 3') })
  t.equal(set.sequence, ++seq, 'calls that changed nothing, with meta: the set commits')
  t.equal(text(set.meta), 'change 3')
  set.transaction(tx => { tx.index(city).insert('Lyon', 1); tx.index(email).delete('none', 9) })
  t.equal(set.sequence, seq, 'no meta, no change: no commit')

  city.insert('Nice', 2)
  set.index('name', { keyEncoding: 'typed' })
  set.transaction(tx => { tx.index(email).insert('alan@x', 2) })
  t.equal(set.sequence, seq += 3)
  t.equal(text(set.meta), 'change 3', 'named-index writes, index creation and transactions carry it forward')
  t.equal(text(snap.meta), 'change 1', 'a snapshot reads the metadata of its commit')
  snap.close()

  const bytes = fs.readFileSync(file)
  for (const [bad, given] of BAD) {
    const f = failure(() => set.transaction(tx => { tx.index(city).insert('X', 9) }, { meta: bad as Uint8Array }))
    t.equal(f.code, 'INVALID_ARGUMENT', `meta ${given}`)
    t.match(f.message, `${file}: transaction: option meta must be a Uint8Array (a Buffer is one) or null, got ${given}`)
  }
  t.match(failure(() => set.transaction(() => {}, { meta: Buffer.alloc(413) })), { code: 'INVALID_ARGUMENT', message: 'option meta is 413 bytes; the maximum is 412 (page size 512)' })
  t.match(failure(() => set.transaction(() => {}, { metadata: Buffer.from('m') } as never)), { code: 'INVALID_ARGUMENT', message: "unknown option 'metadata'" })
  t.ok(fs.readFileSync(file).equals(bytes), 'refused calls change nothing')
  t.equal(set.sequence, seq)

  set.transaction(() => {}, { meta: null })
  t.equal(set.meta, null, 'meta: null clears it')
  set.transaction(() => {}, { meta: Buffer.from('kept') })
  set.close()
  IndexSet.compact(file)
  const again = IndexSet.open(file, { readOnly: true })
  t.equal(text(again.meta), 'kept', 'IndexSet.compact keeps it')
  again.close()
  t.end()
})

t.test('the old names are gone', t => {
  const { idx } = open(t)
  const set = IndexSet.open(path.join(tmpDir(t), 's.set'), { durability: 'none' })
  t.teardown(() => set.close())
  const snap = idx.snapshot()
  const setSnap = set.snapshot()
  idx.transaction(tx => {
    t.notOk('setMetadata' in tx, 'no tx.setMetadata')
    t.notOk('meta' in tx, 'a transaction has no meta of its own')
  })
  set.transaction(tx => { t.notOk('setMetadata' in tx, 'no setMetadata on a set transaction') })
  for (const [what, o] of [['an index', idx], ['a snapshot', snap], ['a set', set], ['a set snapshot', setSnap]] as const) {
    t.notOk('metadata' in o, `no metadata on ${what}`)
    t.ok('meta' in o, `meta on ${what}`)
  }
  snap.close()
  setSnap.close()
  t.end()
})
