/**
 * The ChangeLog on its own, against a sorted-array model: many merges of small and large sorted
 * batches (as group commits make them, with inserts that cancel deletes and deletes that cancel
 * inserts), then every accessor at every position, and every earlier log still as it was.
 * Randomised: prints its seed; TAILROOT_SEED=n replays one.
 */
import t from 'tap'
import { comparePair } from '../../lib/format/node.ts'
import type { Batch } from '../../lib/tree/batch.ts'
import { ChangeLog, LogConflict } from '../../lib/tree/change-log.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}: rerun with TAILROOT_SEED=${seed}`)

/** A model entry: key, rowId, sign. */
type Entry = [string, number, number]

const pairId = (k: string, r: number): string => `${k}\u0000${r}`

function batchOf(changes: [string, number, boolean][]): Batch {
  changes.sort((x, y) => comparePair(x[0], x[1], y[0], y[1]))
  return { keys: changes.map(c => c[0]), ids: changes.map(c => c[1]), ins: changes.map(c => c[2]) }
}

/** Every accessor of `log` against `model` (sorted); returns the first difference, or null. */
function differs(log: ChangeLog, model: Entry[], rng: Rng): string | null {
  if (log.size !== model.length) return `size ${log.size} != ${model.length}`
  const net = model.reduce((s, e) => s + e[2], 0)
  if (log.net !== net) return `net ${log.net} != ${net}`
  if (log.empty !== (model.length === 0)) return 'empty'
  let before = 0
  for (let n = 0; n < model.length; n++) {
    const [k, r, s] = model[n]!
    if (log.keyAt(n) !== k || log.idAt(n) !== r || log.signAt(n) !== s) return `entry ${n}`
    if (log.netBefore(n) !== before) return `netBefore(${n})`
    if (log.state(k, r) !== s) return `state(${k}, ${r})`
    if (log.lowerBound(k, r) !== n) return `lowerBound(${k}, ${r})`
    if (log.netBelow(k, r) !== before) return `netBelow(${k}, ${r})`
    before += s
  }
  if (log.netBefore(model.length) !== net) return 'netBefore(size)'
  const b = log.toBatch()
  if (JSON.stringify(b) !== JSON.stringify({ keys: model.map(e => e[0]), ids: model.map(e => e[1]), ins: model.map(e => e[2] > 0) })) return 'toBatch'
  // Probes between, before and after the entries, and whole keys.
  for (let i = 0; i < 40; i++) {
    const k = `k${String(rng.int(60)).padStart(2, '0')}`
    const r = rng.pick([-1, Infinity, rng.int(50), rng.int(50) + 0.5])
    const below = model.filter(e => comparePair(e[0], e[1], k, r) < 0)
    if (log.lowerBound(k, r) !== below.length) return `lowerBound(${k}, ${r}) probe`
    if (log.netBelow(k, r) !== below.reduce((s, e) => s + e[2], 0)) return `netBelow(${k}, ${r}) probe`
    const e = model.find(x => x[0] === k && x[1] === r)
    if (log.state(k, r) !== (e?.[2] ?? 0)) return `state(${k}, ${r}) probe`
    const of = model.filter(x => x[0] === k)
    const want = of.length === 0 ? null : { ins: of.filter(x => x[2] > 0).map(x => x[1]), del: of.filter(x => x[2] < 0).map(x => x[1]) }
    if (JSON.stringify(log.keyChanges(k)) !== JSON.stringify(want)) return `keyChanges(${k})`
  }
  return null
}

t.test('merges of random batches equal the model, and old logs stay as they were', t => {
  const rng = new Rng(seed)
  const rounds = SOAK ? 200 : 30
  for (let round = 0; round < rounds; round++) {
    const keys = 1 + rng.int(rng.next() < 0.3 ? 4 : 60)
    const ids = 1 + rng.int(rng.next() < 0.3 ? 4 : 50)
    // The state the log describes changes against: pairs in the tree (a delete's target) or not.
    const inTree = (k: string, r: number): boolean => (k.charCodeAt(2) + r) % 3 === 0
    const model = new Map<string, Entry>()
    let log = ChangeLog.EMPTY
    const history: { log: ChangeLog; model: Entry[] }[] = []
    for (let b = 1 + rng.int(40); b > 0; b--) {
      const changes = new Map<string, [string, number, boolean]>()
      const size = rng.next() < 0.7 ? rng.int(8) : rng.int(400)
      for (let i = 0; i < size; i++) {
        const k = `k${String(rng.int(keys)).padStart(2, '0')}`
        const r = rng.int(ids)
        const id = pairId(k, r)
        if (changes.has(id)) continue
        // Effective: present (in the tree without a -1, or a +1) is deleted, absent is inserted.
        const e = model.get(id)
        const present = e !== undefined ? e[2] > 0 : inTree(k, r)
        changes.set(id, [k, r, !present])
      }
      for (const [id, [k, r, ins]] of changes) {
        if (model.has(id)) model.delete(id)
        else model.set(id, [k, r, ins ? 1 : -1])
      }
      log = log.merge(batchOf([...changes.values()]))
      history.push({ log, model: [...model.values()].sort((x, y) => comparePair(x[0], x[1], y[0], y[1])) })
    }
    for (const [i, h] of history.entries()) {
      const d = differs(h.log, h.model, rng)
      if (d !== null) { t.fail(`round ${round}, log ${i} of ${history.length}: ${d} (seed ${seed})`); break }
    }
    if (t.counts.fail > 0) break
    t.pass(`round ${round}: ${history.length} merges, last log of ${log.size}`)
  }
  t.end()
})

t.test('a merge into a part of a batch, and conflicts leave the log as it was', t => {
  const b = batchOf([['a', 1, true], ['b', 1, true], ['c', 1, false], ['d', 1, true]])
  const part = ChangeLog.EMPTY.merge(b, 1, 3)
  t.same(part.toBatch(), { keys: ['b', 'c'], ids: [1, 1], ins: [true, false] })
  t.equal(part.net, 0)
  t.equal(ChangeLog.EMPTY.merge(b, 2, 2), ChangeLog.EMPTY, 'an empty range is the same log')
  const big: [string, number, boolean][] = []
  for (let i = 0; i < 300; i++) big.push([`k${String(i).padStart(3, '0')}`, i, true])
  const log = ChangeLog.EMPTY.merge(batchOf(big))
  let err: unknown = null
  try { log.merge(batchOf([['k000', 0, false], ['k150', 150, true]])) } catch (e) { err = e }
  t.ok(err instanceof LogConflict, 'insert over an insert, after an effective change')
  t.equal(log.size, 300)
  t.equal(log.net, 300)
  t.equal(log.state('k000', 0), 1, 'the log is unchanged')
  t.end()
})

t.test('logs merged from one log, in turns and past the key filter\'s rebuilds, answer as the model', t => {
  // Merges from a shared log add keys to a filter they share; each log must still answer only
  // for its own entries (a superset of keys costs a search, never an answer).
  const rng = new Rng(seed ^ 0x5eed)
  const key = (i: number): string => `key${String(i).padStart(5, '0')}`
  type Model = Map<string, Entry>
  const logs: { log: ChangeLog; model: Model }[] = [{ log: ChangeLog.EMPTY, model: new Map() }]
  const failures: string[] = []
  for (let step = 0; step < 400 && failures.length < 5; step++) {
    // Mostly the newest log; now and then an older one (a rollback, a snapshot's log).
    const from = rng.next() < 0.8 ? logs[logs.length - 1]! : rng.pick(logs)
    const model: Model = new Map(from.model)
    const changes = new Map<string, [string, number, boolean]>()
    const n = rng.next() < 0.9 ? 1 + rng.int(20) : rng.int(600)
    for (let i = 0; i < n; i++) {
      const k = key(rng.int(rng.next() < 0.5 ? 200 : 20_000))
      const r = rng.int(4)
      const id = pairId(k, r)
      if (changes.has(id)) continue
      // Pairs with r < 2 are in the tree: present unless deleted, or inserted.
      const e = model.get(id)
      const present = e !== undefined ? e[2] > 0 : r < 2
      changes.set(id, [k, r, !present])
    }
    for (const [id, [k, r, ins]] of changes) {
      if (model.has(id)) model.delete(id)
      else model.set(id, [k, r, ins ? 1 : -1])
    }
    const log = from.log.merge(batchOf([...changes.values()]))
    logs.push({ log, model })
    if (step % 20 !== 19) continue
    for (const [i, h] of logs.entries()) {
      if (rng.next() < 0.7 && i !== logs.length - 1) continue
      if (h.log.size !== h.model.size) failures.push(`step ${step}, log ${i}: size ${h.log.size} != ${h.model.size}`)
      for (let p = 0; p < 300; p++) {
        const k = key(rng.int(rng.next() < 0.5 ? 200 : 20_000))
        const r = rng.int(4)
        const want = h.model.get(pairId(k, r))?.[2] ?? 0
        if (h.log.state(k, r) !== want) failures.push(`step ${step}, log ${i}: state(${k}, ${r}) ${h.log.state(k, r)} != ${want}`)
        const of = [...h.model.values()].filter(e => e[0] === k).sort((x, y) => x[1] - y[1])
        const wantChanges = of.length === 0 ? null : { ins: of.filter(x => x[2] > 0).map(x => x[1]), del: of.filter(x => x[2] < 0).map(x => x[1]) }
        if (JSON.stringify(h.log.keyChanges(k)) !== JSON.stringify(wantChanges)) failures.push(`step ${step}, log ${i}: keyChanges(${k})`)
      }
      for (const [, [k, r, s]] of h.model) if (h.log.state(k, r) !== s) failures.push(`step ${step}, log ${i}: state(${k}, ${r}) of an entry`)
    }
  }
  t.same(failures.slice(0, 5), [], `every log answers as its model (seed ${seed})`)
  const largest = Math.max(...logs.map(l => l.log.size))
  t.ok(largest > 500, `the largest log holds ${largest} entries`)
  t.end()
})
