/**
 * The pending-change log and merged reads (tree + log) against a plain sorted-array model: random
 * trees (built in memory with applyBatch), random effective changes merged into the log in random
 * batches, then every count, rank, membership, rowId list and walk from every rank, both ways.
 * Randomised: prints its seed; TAILROOT_SEED=n replays one.
 */
import t from 'tap'
import type { Test } from 'tap'
import { comparePair } from '../../lib/format/node.ts'
import { applyBatch } from '../../lib/tree/apply.ts'
import type { Batch } from '../../lib/tree/batch.ts'
import { ChangeLog, LogConflict } from '../../lib/tree/change-log.ts'
import { mergedCount, mergedCountLess, mergedHas, mergedIdsOf, mergedWalk } from '../../lib/tree/merged.ts'
import type { MergedTree } from '../../lib/tree/merged.ts'
import type { ChildRef, MemNode } from '../../lib/tree/node-ref.ts'
import type { NodeSource, TreeRoot } from '../../lib/tree/source.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}: rerun with TAILROOT_SEED=${seed}`)

/** Every node is in memory: load returns it. */
const mem: NodeSource = {
  load(ref: ChildRef, _level: number): MemNode {
    if (typeof ref === 'number') throw new Error('no pages in memory')
    return ref
  },
}

type Pair = [string, number]
const key = (p: Pair): string => `${p[0]}\u0000${p[1]}`

function sortPairs(a: Pair[]): Pair[] {
  return a.sort((x, y) => comparePair(x[0], x[1], y[0], y[1]))
}

function batchOf(changes: [string, number, boolean][]): Batch {
  changes.sort((x, y) => comparePair(x[0], x[1], y[0], y[1]))
  return { keys: changes.map(c => c[0]), ids: changes.map(c => c[1]), ins: changes.map(c => c[2]) }
}

function randomPair(rng: Rng, keys: number, ids: number): Pair {
  return [`k${String(rng.int(keys)).padStart(3, '0')}`, rng.int(ids)]
}

t.test('merged reads equal the model', t => {
  const rng = new Rng(seed)
  const rounds = SOAK ? 400 : 60
  for (let round = 0; round < rounds; round++) {
    const keys = 1 + rng.int(rng.next() < 0.3 ? 5 : 200)
    const ids = 1 + rng.int(rng.next() < 0.3 ? 3 : 100)
    const pageSize = rng.pick([512, 1024, 4096])
    // The tree.
    const treeSet = new Map<string, Pair>()
    for (let i = rng.int(1500); i > 0; i--) { const p = randomPair(rng, keys, ids); treeSet.set(key(p), p) }
    const tb = batchOf([...treeSet.values()].map(p => [p[0], p[1], true]))
    const res = applyBatch(mem, { root: 0, height: 0, count: 0 }, tb, pageSize)
    const tree: TreeRoot = { root: res.root, height: res.height, count: res.count }
    // The log, in several batches of effective changes.
    const model = new Map(treeSet)
    let log = ChangeLog.EMPTY
    const snapshots: { log: ChangeLog; pairs: Pair[] }[] = []
    for (let b = 1 + rng.int(6); b > 0; b--) {
      const changes = new Map<string, [string, number, boolean]>()
      for (let i = rng.int(rng.next() < 0.2 ? 3 : 700); i > 0; i--) {
        const p = randomPair(rng, keys, ids)
        const k = key(p)
        if (changes.has(k)) continue
        changes.set(k, [p[0], p[1], !model.has(k)])
      }
      for (const [k, c] of changes) { if (c[2]) model.set(k, [c[0], c[1]]); else model.delete(k) }
      log = log.merge(batchOf([...changes.values()]))
      snapshots.push({ log, pairs: sortPairs([...model.values()]) })
    }
    // Every earlier log still reads as it did (persistence).
    for (const s of snapshots) check(t, { src: mem, tree, log: s.log }, s.pairs, rng, `round ${round}`)
    if (t.counts.fail > 0) break
  }
  t.end()
})

function check(t: Test, m: MergedTree, pairs: Pair[], rng: Rng, what: string): void {
  const fail = (msg: string): void => { t.fail(`${what}: ${msg}`) }
  if (mergedCount(m) !== pairs.length) return fail(`count ${mergedCount(m)} != ${pairs.length}`)
  const all = [...mergedWalk(m, 0, Infinity, false)]
  if (JSON.stringify(all) !== JSON.stringify(pairs)) return fail('forward walk differs')
  const back = [...mergedWalk(m, pairs.length - 1, Infinity, true)]
  if (JSON.stringify(back) !== JSON.stringify(pairs.slice().reverse())) return fail('reverse walk differs')
  for (let i = 0; i < 20 && pairs.length > 0; i++) {
    const s = rng.int(pairs.length)
    const n = 1 + rng.int(10)
    const f = [...mergedWalk(m, s, n, false)]
    if (JSON.stringify(f) !== JSON.stringify(pairs.slice(s, s + n))) return fail(`walk from ${s} n ${n} differs`)
    const r = [...mergedWalk(m, s, n, true)]
    if (JSON.stringify(r) !== JSON.stringify(pairs.slice(Math.max(0, s - n + 1), s + 1).reverse())) return fail(`reverse walk from ${s} differs`)
  }
  for (let i = 0; i < 30; i++) {
    const [k, r] = randomPair(rng, 210, 110)
    const below = pairs.filter(p => comparePair(p[0], p[1], k, r) < 0).length
    if (mergedCountLess(m, k, r) !== below) return fail(`countLess(${k}, ${r})`)
    const has = pairs.some(p => p[0] === k && p[1] === r)
    if (mergedHas(m, k, r) !== has) return fail(`has(${k}, ${r})`)
    const ids = pairs.filter(p => p[0] === k).map(p => p[1])
    if (JSON.stringify(mergedIdsOf(m, k)) !== JSON.stringify(ids)) return fail(`idsOf(${k})`)
  }
  t.pass(`${what}: ${pairs.length} pairs, log of ${m.log.size}`)
}

t.test('an ineffective change is a conflict', t => {
  const log = ChangeLog.EMPTY.merge(batchOf([['a', 1, true], ['b', 2, false]]))
  const conflict = (f: () => unknown): unknown => { try { f(); return null } catch (err) { return err } }
  t.ok(conflict(() => log.merge(batchOf([['a', 1, true]]))) instanceof LogConflict, 'insert over an insert')
  t.ok(conflict(() => log.merge(batchOf([['b', 2, false]]))) instanceof LogConflict, 'delete over a delete')
  t.ok(conflict(() => ChangeLog.EMPTY.merge({ keys: ['b', 'a'], ids: [1, 1], ins: [true, true] })) instanceof LogConflict, 'out of order')
  const undone = log.merge(batchOf([['a', 1, false], ['b', 2, true]]))
  t.equal(undone.size, 0, 'opposite changes cancel')
  t.equal(undone.net, 0)
  t.equal(log.size, 2, 'the old log is unchanged')
  t.end()
})
