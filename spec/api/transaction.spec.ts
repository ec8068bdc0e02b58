/**
 * The object a transaction callback gets: reads that see the transaction's own writes, insert,
 * delete, and nothing a caller can use to end the transaction or to read its
 * internal state. Whatever a caller does with it, the transaction commits exactly its changes, as
 * one commit, when the callback returns.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import type { Transaction } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}`)
const rng = new Rng(seed)

/** Every property key along the prototype chain, up to but without Object.prototype. */
function exposedKeys(o: object): (string | symbol)[] {
  const keys = new Set<string | symbol>()
  for (let p: object | null = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const k of Reflect.ownKeys(p)) keys.add(k)
  }
  return [...keys]
}

type Pair = [string, number]
const byPair = (a: Pair, b: Pair): number => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]
const pairId = (p: Pair): string => `${p[0]}\u0000${p[1]}`

t.test('the transaction object exposes the reads, insert and delete only', t => {
  const idx = Index.open(path.join(tmpDir(t), 'x.idx'), { pageSize: 512, durability: 'none' })
  const names = idx.transaction(tx => exposedKeys(tx).map(String).sort())
  t.same(names, ['constructor', 'count', 'countRange', 'delete', 'get', 'has', 'insert', 'range', 'sequence'],
    'nothing that ends the transaction or reveals its state')
  idx.close()
  t.end()
})

t.test('the constructor makes no transaction', t => {
  const idx = Index.open(path.join(tmpDir(t), 'x.idx'), { pageSize: 512, durability: 'none' })
  let ctor: unknown = null
  idx.transaction(tx => { ctor = tx.constructor })
  for (const args of [[], [{}], [null], [ctor]]) {
    t.throws(() => Reflect.construct(ctor as new (...a: unknown[]) => unknown, args), { code: 'INVALID_ARGUMENT' }, `new tx.constructor(${args.length} arguments)`)
  }
  idx.close()
  t.end()
})

t.test('calling every exposed property inside the callback: the transaction commits exactly its changes, atomically', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'x.idx')
  const idx = Index.open(file, { pageSize: 512, durability: 'none' })
  const base: Pair[] = Array.from({ length: 40 }, (_, i) => [`base${String(i).padStart(3, '0')}`, i])
  idx.transaction(tx => { for (const [k, r] of base) tx.insert(k, r) })
  const reader = Index.open(file, { readOnly: true })
  // Bytes compared whole: a write into the zeros preallocated after the newest commit (FORMAT.md
  // §8) does not change the file's size.
  const before = { sequence: idx.sequence, bytes: fs.readFileSync(file) }
  const model = new Map<string, Pair>(base.map(p => [pairId(p), p]))
  const meta = `meta${rng.int(1000)}`
  const foreign: string[] = []

  // Arguments a caller might plausibly pass to any of the calls.
  const argLists = (): unknown[][] => {
    const k = `p${rng.int(1000)}`
    return [[], [k, rng.int(100)], [`base${String(rng.int(40)).padStart(3, '0')}`, rng.int(40)], [k], [{ gte: 'base010', limit: 3 }],
      [{}], [null], [Buffer.from(`meta${rng.int(10)}`)], [undefined], [true]]
  }

  const call = (tx: Transaction, key: string | symbol, fn: unknown, args: unknown[]): void => {
    try {
      const r: unknown = key === 'constructor'
        ? Reflect.construct(fn as new (...a: unknown[]) => unknown, args)
        : Reflect.apply(fn as (...a: unknown[]) => unknown, tx, args)
      if (r !== null && typeof r === 'object' && Symbol.iterator in r) [...(r as Iterable<unknown>)] // drain iterators
      const pair = args as Pair
      if (key === 'insert' && r === true) model.set(pairId(pair), pair)
      if (key === 'delete' && r === true) model.delete(pairId(pair))
    } catch (err) {
      if (!(err instanceof TailrootError)) foreign.push(`${String(key)}(${args.map(a => String(a)).join(', ')}): ${String(err)}`)
    }
  }

  idx.transaction(tx => {
    for (let i = 0; i < 300; i++) {
      const p: Pair = [`ins${String(i).padStart(4, '0')}`, i]
      tx.insert(p[0], p[1])
      model.set(pairId(p), p)
    }
    // range() applies the buffered inserts to the transaction's tree: what the old abandon()
    // then cut in half.
    t.equal([...tx.range({ limit: 2 })].length, 2)
    for (let round = 0; round < 3; round++) {
      for (const key of exposedKeys(tx)) {
        let v: unknown
        try { v = Reflect.get(tx, key) } catch (err) {
          if (!(err instanceof TailrootError)) foreign.push(`reading ${String(key)}: ${String(err)}`)
          continue
        }
        if (typeof v === 'function') for (const args of argLists()) call(tx, key, v, args)
      }
      tx.insert(`after${round}`, round)
      model.set(pairId([`after${round}`, round]), [`after${round}`, round])
    }
    t.equal(tx.count(), model.size, 'the transaction still reads its own changes')
    t.equal(reader.count(), base.length, 'another handle sees none of it yet')
    t.equal(reader.sequence, before.sequence)
    t.ok(fs.readFileSync(file).equals(before.bytes), 'nothing written before the callback returns')
  }, { meta: Buffer.from(meta) })

  t.same(foreign, [], `every call answered or threw a TailrootError (seed ${seed})`)
  t.equal(idx.sequence, before.sequence + 1, 'one commit')
  const fresh = Index.open(file, { readOnly: true })
  t.same([...fresh.range()], [...model.values()].sort(byPair), `the commit holds exactly the transaction's changes (seed ${seed})`)
  t.equal(fresh.meta?.toString() ?? null, meta, 'and its meta')
  t.equal(reader.count(), model.size, 'the other handle sees all of it at once')
  fresh.close()
  reader.close()
  idx.close()
  t.end()
})

t.test('a callback that throws after range() commits nothing', t => {
  const file = path.join(tmpDir(t), 'x.idx')
  const idx = Index.open(file, { pageSize: 512, durability: 'none' })
  idx.insert('keep', 1)
  const bytes = fs.readFileSync(file)
  t.throws(() => idx.transaction(tx => {
    for (let i = 0; i < 200; i++) tx.insert(`k${i}`, i)
    t.equal([...tx.range()].length, 201)
    tx.insert('late', 1)
    throw new Error('rollback')
  }), { message: 'rollback' })
  t.equal(idx.sequence, 1)
  t.same([...idx.range()], [['keep', 1]])
  t.ok(fs.readFileSync(file).equals(bytes), 'nothing written')
  idx.close()
  t.end()
})
