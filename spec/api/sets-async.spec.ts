/**
 * Asynchronous writes of an IndexSet: set.transactionAsync and a named index's insertAsync and
 * deleteAsync share the group commits of the set's file (see spec/api/async.spec.ts for one index):
 * each transaction atomic over all its indexes, a rejected call (unique violation, a throw) drops
 * only its own changes (an index it created included), meta, flush, and the errors.
 */
import path from 'node:path'
import t from 'tap'
import { IndexSet, TailrootError } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { Rng } from '../helpers/rng.ts'

function codeOf(err: unknown): string {
  return err instanceof TailrootError ? err.code : `not a TailrootError: ${String(err)}`
}

t.test('concurrent async transactions over two indexes, with unique violations and throws among them', async t => {
  const seed = Rng.seedFromEnv()
  t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)
  const rng = new Rng(seed)
  const file = path.join(tmpDir(t), 'users.set')
  const set = IndexSet.open(file)
  t.teardown(() => set.close())
  const city = set.index('city')
  const email = set.index('email', { unique: true })
  const before = set.sequence
  const cities = ['Lyon', 'Nice', 'Paris', 'Rome']
  // Rows 0..299; emails collide on purpose (a unique violation rejects that row's call only),
  // and every 17th call throws after its inserts.
  const calls: { id: number; c: string; e: string; p: Promise<unknown> }[] = []
  for (let id = 0; id < 300; id++) {
    const c = cities[rng.int(cities.length)]!
    const e = `u${rng.int(200)}@x`
    const p = set.transactionAsync(tx => {
      tx.index('city').insert(c, id)
      tx.index('email').insert(e, id)
      if (id % 17 === 0) throw new Error(`row ${id} refused`)
      return id
    })
    calls.push({ id, c, e, p })
  }
  const outcomes = await Promise.all(calls.map(x => x.p.then(v => ({ ok: true as const, v }), (err: unknown) => ({ ok: false as const, err }))))
  const model = new Map<string, number>()
  let resolved = 0
  for (let i = 0; i < calls.length; i++) {
    const { id, c, e } = calls[i]!
    const o = outcomes[i]!
    const expectOk = id % 17 !== 0 && !model.has(e)
    if (o.ok !== expectOk) { t.fail(`seed ${seed}: row ${id}: ${o.ok ? 'resolved' : `rejected (${String((o as { err: unknown }).err)})`}, expected ${expectOk ? 'to resolve' : 'a rejection'}`); continue }
    if (o.ok) {
      resolved++
      model.set(e, id)
      if (o.v !== id) t.fail(`row ${id} resolved with ${String(o.v)}`)
      if (!city.get(c).includes(id)) t.fail(`seed ${seed}: row ${id} resolved but is not in city ${c}`)
    } else {
      const err = (o as { err: unknown }).err
      // The email insert comes first: a taken email rejects with UNIQUE_VIOLATION before the throw.
      const want = model.has(e) ? null : `row ${id} refused`
      if (want !== null && (err as Error).message !== want) t.fail(`row ${id}: ${String(err)}`)
      if (want === null && codeOf(err) !== 'UNIQUE_VIOLATION') t.fail(`row ${id}: ${String(err)}`)
      if (city.get(c).includes(id)) t.fail(`seed ${seed}: row ${id} was rejected, yet its city pair is there`)
    }
  }
  t.ok(resolved > 100, `${resolved} of 300 calls resolved`)
  t.same([...email.range()].map(([e, id]) => [e, id]), [...model].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)), 'the email index holds exactly the resolved rows')
  t.equal(city.count(), resolved, 'the city index holds exactly the resolved rows')
  t.ok(set.sequence - before < resolved, `group commits: ${set.sequence - before} commits for ${resolved} transactions`)
  t.ok(IndexSet.verify(file).ok, 'the file verifies')
})

t.test('insertAsync and deleteAsync of a named index, meta, flush, and a throw that created an index', async t => {
  const file = path.join(tmpDir(t), 'a.set')
  const set = IndexSet.open(file)
  t.teardown(() => set.close())
  const city = set.index('city')
  const ps = [city.insertAsync('Lyon', 1), city.insertAsync('Lyon', 1), city.insertAsync('Nice', 2), city.deleteAsync('Nice', 2), city.deleteAsync('Rome', 9)]
  t.same(await Promise.all(ps), [true, false, true, true, false], 'the same results as insert and delete')
  t.same([...city.range()], [['Lyon', 1]])

  const seq = set.sequence
  await set.transactionAsync(() => {}, { meta: Buffer.from('change 7') })
  t.equal(set.sequence, seq + 1, 'a transaction given meta commits though it changed nothing')
  t.equal(set.meta?.toString(), 'change 7', 'set.meta reads it')

  const failed = set.transactionAsync(tx => {
    tx.index('email', { unique: true }).insert('a@x', 1)
    throw new Error('no')
  })
  const ok = set.transactionAsync(tx => { tx.index('zip').insert('69001', 1) })
  await t.rejects(failed, { message: 'no' }, 'the throwing call rejects')
  await ok
  t.same(set.names(), ['city', 'zip'], 'the index created by the throwing call is not there; the other one is')
  t.same(set.index('zip').get('69001'), [1])

  const queued = [city.insertAsync('Paris', 3), set.transactionAsync(tx => tx.index('city').count())]
  await set.flush()
  t.same(await Promise.all(queued), [true, 2], 'flush resolved after every queued call settled')
  t.equal(codeOf(await city.insertAsync('Oslo', 4, { meta: Buffer.from('x') } as never).catch((e: unknown) => e)), 'INVALID_ARGUMENT', 'insertAsync takes no meta')
  t.equal(codeOf(await set.transactionAsync(42 as never).catch((e: unknown) => e)), 'INVALID_ARGUMENT', 'transactionAsync needs a function')
})

t.test('a read-only or closed set refuses async writes', async t => {
  const file = path.join(tmpDir(t), 'b.set')
  const w = IndexSet.open(file)
  w.index('city').insert('Lyon', 1)
  const r = IndexSet.open(file, { readOnly: true })
  t.equal(codeOf(await r.index('city').insertAsync('Nice', 2).catch((e: unknown) => e)), 'READ_ONLY')
  t.equal(codeOf(await r.transactionAsync(() => 1).catch((e: unknown) => e)), 'READ_ONLY')
  r.close()
  const city = w.index('city')
  w.close()
  t.equal(codeOf(await city.insertAsync('Nice', 2).catch((e: unknown) => e)), 'CLOSED')
  t.equal(codeOf(await w.transactionAsync(() => 1).catch((e: unknown) => e)), 'CLOSED')
  const again = IndexSet.open(file, { readOnly: true })
  t.same([...again.index('city').range()], [['Lyon', 1]], 'nothing was written')
  again.close()
})
