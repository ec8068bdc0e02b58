/**
 * Model-based random test of IndexSet (FORMAT.md §12): three named indexes of different key
 * encodings and uniqueness in one file (city: utf8; email: binary, unique; name: typed, created
 * inside a transaction part-way through), random transactions across them (committed, rolled
 * back by a throw or a unique violation), autocommit writes, reads inside transactions, close and
 * reopen, a second handle that must follow, and pinned snapshots that keep seeing every index at
 * their commit; every read call of every index is compared with a reference Model per index.
 * TAILROOT_SEED=n replays one seed; TAILROOT_SOAK scales the operations (spec/helpers/soak.ts).
 */
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Index, IndexSet, TailrootError } from '../../lib/index.ts'
import type { IndexView, Key, NamedIndex, SetSnapshot, SetTransaction } from '../../lib/index.ts'
import { Divergence, KeyGen, Model, binaryKind, describeQuery, expectSame, randomRange, randomRowId, showPairs, utf8Kind } from '../helpers/model.ts'
import type { KeyKind, RangeQuery } from '../helpers/model.ts'
import { Rng } from '../helpers/rng.ts'
import { soakFactor } from '../helpers/soak.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { typedKind } from '../helpers/typed-kind.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

interface Spec {
  name: string
  kind: KeyKind<unknown>
  unique: boolean
}

const SPECS: Spec[] = [
  { name: 'city', kind: utf8Kind as KeyKind<unknown>, unique: false },
  { name: 'email', kind: binaryKind as KeyKind<unknown>, unique: true },
  { name: 'name', kind: typedKind as KeyKind<unknown>, unique: false },
]

/** The read calls of a named index, a transaction's index or a snapshot's. */
type Reader = Pick<IndexView<Key>, 'get' | 'has' | 'count' | 'countRange' | 'range'>

type Models = Map<string, Model<unknown>>

function cloneAll(m: Models): Models {
  return new Map([...m].map(([k, v]) => [k, v.clone()]))
}

class Rollback extends Error {}

function run(t: Test, pageSize: number, maxPendingChanges: number, ops: number): void {
  const rng = new Rng(seed ^ pageSize)
  const file = path.join(tmpDir(t), 'table.set')
  const open = (): IndexSet => IndexSet.open(file, { pageSize, durability: 'none', maxPendingChanges })
  let set = open()
  const other = IndexSet.open(file, { durability: 'none' })
  t.teardown(() => { set.close(); other.close() })
  let models: Models = new Map()
  const gens = new Map<string, KeyGen<unknown>>()
  const handle = (s: IndexSet, sp: Spec): NamedIndex<Key> => s.index(sp.name, { keyEncoding: sp.kind.encoding, unique: sp.unique })
  // city and email exist from the start, each created by its own commit; name comes later.
  for (const sp of SPECS.slice(0, 2)) {
    const h = handle(set, sp)
    models.set(sp.name, new Model(sp.kind, sp.unique))
    gens.set(sp.name, new KeyGen(rng, sp.kind, h.maxKeyBytes))
  }
  const live = (): Spec[] => SPECS.filter(s => models.has(s.name))
  const snaps: { snap: SetSnapshot; models: Models; seq: number; until: number }[] = []
  let reads = 0

  const compare = (what: string, r: Reader, m: Model<unknown>, gen: KeyGen<unknown>, n: number): void => {
    const kind = m.kind
    for (let i = 0; i < n; i++) {
      reads++
      const x = rng.next()
      if (x < 0.2) {
        const k = rng.next() < 0.7 ? m.randomKey(rng) ?? gen.next() : gen.next()
        expectSame(t, r.get(k as Key), m.get(k), () => `${what}: get(${kind.show(k)})`)
      } else if (x < 0.35) {
        const p = m.randomPairByKey(rng)
        const k = p !== null && rng.next() < 0.7 ? p[0] : gen.next()
        const id = p !== null && rng.next() < 0.7 ? p[1] : randomRowId(rng)
        expectSame(t, r.has(k as Key, id), m.has(k, id), () => `${what}: has(${kind.show(k)}, ${id})`)
      } else if (x < 0.5) {
        expectSame(t, r.count(), m.size, `${what}: count()`)
      } else if (x < 0.65) {
        const q = randomRange(rng, gen, m, true)
        expectSame(t, r.countRange(q as never), m.countRange(q), () => `${what}: countRange(${describeQuery(kind, q)})`)
      } else {
        const q = randomRange(rng, gen, m, false) as RangeQuery<unknown>
        expectSame(t, showPairs(kind, r.range(q as never)), showPairs(kind, m.range(q)), () => `${what}: range(${describeQuery(kind, q)})`)
      }
    }
  }

  const compareAll = (what: string, view: (sp: Spec) => Reader, ms: Models, n: number): void => {
    for (const sp of live()) if (ms.has(sp.name)) compare(`${what} ${sp.name}`, view(sp), ms.get(sp.name)!, gens.get(sp.name)!, n)
  }

  /** One random change to index sp through `w`, mirrored in model m; false when nothing changed. */
  const change = (w: { insert(k: Key, r: number): boolean; delete(k: Key, r: number): boolean }, sp: Spec, m: Model<unknown>, label: string): void => {
    const gen = gens.get(sp.name)!
    if (rng.next() < 0.35 && m.size > 0) {
      const p = m.randomPairByKey(rng)!
      expectSame(t, w.delete(p[0] as Key, p[1]), m.delete(p[0], p[1]), `${label}: delete`)
      return
    }
    const k = gen.next()
    const id = randomRowId(rng)
    if (m.violates(k, id)) {
      let thrown: unknown = null
      try { w.insert(k as Key, id) } catch (err) { thrown = err }
      expectSame(t, (thrown as TailrootError | null)?.code, 'UNIQUE_VIOLATION', `${label}: insert of a second rowId of a unique key`)
      throw thrown
    }
    expectSame(t, w.insert(k as Key, id), m.insert(k, id), `${label}: insert(${sp.kind.show(k)}, ${id})`)
  }

  try {
    for (let op = 0; op < ops; op++) {
      const x = rng.next()
      if (x < 0.45) {
        // A transaction across the indexes: commits, or rolls back as a whole.
        const next = cloneAll(models)
        const ending = rng.next()
        const creates = !models.has('name') && rng.next() < 0.1
        const before = set.sequence
        try {
          set.transaction((tx: SetTransaction) => {
            if (creates) {
              const sp = SPECS[2]!
              tx.index(sp.name, { keyEncoding: 'typed', unique: sp.unique })
              next.set(sp.name, new Model(sp.kind, sp.unique))
              if (!gens.has(sp.name)) gens.set(sp.name, new KeyGen(rng, sp.kind, set.index('city').maxKeyBytes))
            }
            const n = 1 + rng.int(8)
            for (let i = 0; i < n; i++) {
              const sp = rng.pick(SPECS.filter(s => next.has(s.name)))
              change(tx.index(sp.name, { keyEncoding: sp.kind.encoding }), sp, next.get(sp.name)!, `op ${op} tx`)
              if (rng.next() < 0.15) compareAll(`op ${op} inside tx`, s => tx.index(s.name, { keyEncoding: s.kind.encoding }), next, 1)
            }
            if (ending < 0.1) throw new Rollback()
          })
          if (creates) {
            expectSame(t, set.names().includes('name'), true, `op ${op}: the index created in the transaction exists after it`)
          }
          models = next
        } catch (err) {
          if (!(err instanceof Rollback) && !(err instanceof TailrootError && err.code === 'UNIQUE_VIOLATION')) throw err
          expectSame(t, set.sequence, before, `op ${op}: a rolled-back transaction commits nothing`)
          if (creates) expectSame(t, set.names().includes('name'), false, `op ${op}: an index created in a rolled-back transaction does not exist`)
        }
      } else if (x < 0.65) {
        const sp = rng.pick(live())
        try {
          change(handle(set, sp), sp, models.get(sp.name)!, `op ${op} autocommit ${sp.name}`)
        } catch (err) {
          if (!(err instanceof TailrootError && err.code === 'UNIQUE_VIOLATION')) throw err
        }
      } else if (x < 0.72) {
        snaps.push({ snap: set.snapshot(), models: cloneAll(models), seq: set.sequence, until: op + 5 + rng.int(60) })
      } else if (x < 0.75) {
        set.close()
        set = open()
        expectSame(t, set.names(), live().map(s => s.name).sort(), `op ${op}: names after reopening`)
      } else if (x < 0.8) {
        compareAll(`op ${op} second handle`, sp => other.index(sp.name), models, 2)
        expectSame(t, other.sequence, set.sequence, `op ${op}: the second handle is at the newest commit`)
      } else {
        compareAll(`op ${op}`, sp => handle(set, sp), models, 1)
      }
      for (let i = snaps.length - 1; i >= 0; i--) {
        const s = snaps[i]!
        if (rng.next() < 0.3) {
          expectSame(t, s.snap.sequence, s.seq, `op ${op}: snapshot sequence`)
          compareAll(`op ${op} snapshot at ${s.seq}`, sp => s.snap.index(sp.name), s.models, 1)
        }
        if (op >= s.until) { s.snap.close(); snaps.splice(i, 1) }
      }
    }
    for (const s of snaps) s.snap.close()
    compareAll('at the end', sp => handle(set, sp), models, 30)
    set.close()
    set = open()
    compareAll('after reopening', sp => handle(set, sp), models, 30)
    const v = Index.verify(file)
    t.same(v.errors, [], 'the set file verifies')
    t.equal(v.entries, [...models.values()].reduce((n, m) => n + m.size, 0) + models.size, 'entries: every index\'s pairs and one catalog pair each')
    t.pass(`${ops} operations, ${reads} reads, ${set.sequence} commits`)
  } catch (err) {
    if (!(err instanceof Divergence)) throw err
  }
}

t.test('three named indexes, P=512, change records folded often', async t => run(t, 512, 40, 1500 * soakFactor))
t.test('three named indexes, P=1024, every commit rewrites the tree', async t => run(t, 1024, 0, 800 * soakFactor))
