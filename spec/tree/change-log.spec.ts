/**
 * The ChangeLog on its own, against a sorted-array model: many merges of small and large sorted
 * batches (as group commits make them, with inserts that cancel deletes and deletes that cancel
 * inserts), then every accessor at every position, and every earlier log still as it was. Its
 * two levels (a chunked base, a flat delta flushed into it): batches of 1 to thousands of changes
 * mixed, so that flushes happen at many points, with cancels and conflicts in either level, the
 * model tracking which level holds each pair; and, with counts rather than times, that merges into
 * a large log copy far fewer entries than merges into the chunks alone.
 * Randomised: prints its seed; TAILROOT_SEED=n replays one.
 */
import t from 'tap'
import { comparePair } from '../../lib/format/node.ts'
import type { Batch } from '../../lib/tree/batch.ts'
import { ChangeLog, flushAt, LogConflict, logCopies } from '../../lib/tree/change-log.ts'
import { keyHash } from '../../lib/format/pair-hash.ts'
import { chunkCopies, LogChunks } from '../../lib/tree/log-chunks.ts'
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

/**
 * Every accessor of `log` against `model` (sorted); returns the first difference, or null. The
 * positional accessors are read in a forward walk (with the searches for each entry between), a
 * backward walk, a walk that starts where lowerBound() lands (as a merged walk does), and at
 * random positions. With `every` false, only `every`-like checks at 300 random positions, the
 * walks and the probes.
 */
function differs(log: ChangeLog, model: Entry[], rng: Rng, every = true, keyOf = (i: number): string => `k${String(i).padStart(2, '0')}`, keys = 60, ids = 50): string | null {
  if (log.size !== model.length) return `size ${log.size} != ${model.length}`
  const nets: number[] = [0]
  for (const e of model) nets.push(nets[nets.length - 1]! + e[2])
  const net = nets[model.length]!
  if (log.net !== net) return `net ${log.net} != ${net}`
  if (log.empty !== (model.length === 0)) return 'empty'
  const entry = (n: number): string | null => {
    const [k, r, s] = model[n]!
    if (log.keyAt(n) !== k || log.idAt(n) !== r || log.signAt(n) !== s) return `entry ${n}`
    if (log.netBefore(n) !== nets[n]) return `netBefore(${n})`
    return null
  }
  const searches = (n: number): string | null => {
    const [k, r, s] = model[n]!
    if (log.state(k, r) !== s) return `state(${k}, ${r})`
    if (log.lowerBound(k, r) !== n) return `lowerBound(${k}, ${r})`
    if (log.netBelow(k, r) !== nets[n]) return `netBelow(${k}, ${r})`
    return null
  }
  if (every) {
    for (let n = 0; n < model.length; n++) {
      const d = entry(n) ?? searches(n)
      if (d !== null) return d
    }
  } else {
    for (let i = 0; i < 300 && model.length > 0; i++) {
      const n = rng.int(model.length)
      const d = searches(n) ?? entry(n)
      if (d !== null) return `${d} (at random)`
    }
  }
  // Walks with nothing between the steps, both ways; then a few steps either way from where
  // lowerBound() lands; then random positions.
  const walk = every ? model.length : Math.min(model.length, 2000)
  const start = model.length - walk
  for (let n = start; n < model.length; n++) { const d = entry(n); if (d !== null) return `${d} (walking forward)` }
  for (let n = model.length - 1; n >= start; n--) { const d = entry(n); if (d !== null) return `${d} (walking backward)` }
  for (let i = 0; i < 100 && model.length > 0; i++) {
    const e = model[rng.int(model.length)]!
    const at = log.lowerBound(e[0], rng.pick([-1, e[1], e[1] + 0.5]))
    const dir = rng.next() < 0.5 ? 1 : -1
    for (let n = dir > 0 ? at : at - 1, steps = 0; n >= 0 && n < model.length && steps < 20; n += dir, steps++) {
      const d = entry(n)
      if (d !== null) return `${d} (walking ${dir > 0 ? 'forward' : 'backward'} from lowerBound)`
    }
  }
  for (let i = 0; i < 200 && model.length > 0; i++) {
    const n = rng.int(model.length)
    const d = entry(n)
    if (d !== null) return `${d} (at random)`
  }
  if (log.netBefore(model.length) !== net) return 'netBefore(size)'
  const b = log.toBatch()
  if (JSON.stringify(b) !== JSON.stringify({ keys: model.map(e => e[0]), ids: model.map(e => e[1]), ins: model.map(e => e[2] > 0) })) return 'toBatch'
  // Probes between, before and after the entries, and whole keys.
  for (let i = 0; i < 40; i++) {
    const k = keyOf(rng.int(keys))
    const r = rng.pick([-1, Infinity, rng.int(ids), rng.int(ids) + 0.5])
    const below = lowerIndex(model, k, r)
    if (log.lowerBound(k, r) !== below) return `lowerBound(${k}, ${r}) probe`
    if (log.netBelow(k, r) !== nets[below]) return `netBelow(${k}, ${r}) probe`
    const e = below < model.length && model[below]![0] === k && model[below]![1] === r ? model[below] : undefined
    if (log.state(k, r) !== (e?.[2] ?? 0)) return `state(${k}, ${r}) probe`
    const of: Entry[] = []
    for (let n = lowerIndex(model, k, -1); n < model.length && model[n]![0] === k; n++) of.push(model[n]!)
    const want = of.length === 0 ? null : { ins: of.filter(x => x[2] > 0).map(x => x[1]), del: of.filter(x => x[2] < 0).map(x => x[1]) }
    if (JSON.stringify(log.keyChanges(k)) !== JSON.stringify(want)) return `keyChanges(${k})`
  }
  return null
}

/** Entries of the sorted model below (k, r). */
function lowerIndex(model: Entry[], k: string, r: number): number {
  let lo = 0
  let hi = model.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (comparePair(model[mid]![0], model[mid]![1], k, r) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
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

t.test('two levels: batches of 1 to thousands of changes, flushes at many points, cancels and conflicts in either level, and old logs as they were', t => {
  const rng = new Rng(seed ^ 0x2f1e)
  const rounds = SOAK ? 12 : 3
  const keyOf = (i: number): string => `key${String(i).padStart(5, '0')}`
  const stats = { flushes: 0, baseCancels: 0, deltaCancels: 0, baseConflicts: 0, deltaConflicts: 0, orderConflicts: 0, bigThenSingles: 0 }
  const sorted = (m: Map<string, Entry>): Entry[] => [...m.values()].sort((x, y) => comparePair(x[0], x[1], y[0], y[1]))
  // A log, its model, and the pairs the model puts in the delta (the others are in the base).
  interface State { log: ChangeLog; model: Map<string, Entry>; delta: Set<string> }
  const failures: string[] = []
  const check = (what: string, h: State, every: boolean): void => {
    const want = { base: h.model.size - h.delta.size, delta: h.delta.size }
    if (JSON.stringify(h.log.levels) !== JSON.stringify(want)) failures.push(`${what}: levels ${JSON.stringify(h.log.levels)} != ${JSON.stringify(want)}`)
    const d = differs(h.log, sorted(h.model), rng, every, keyOf, 5000, 8)
    if (d !== null) failures.push(`${what}: ${d}`)
  }
  for (let round = 0; round < rounds && failures.length === 0; round++) {
    const keys = rng.pick([50, 500, 5000])
    const ids = rng.pick([2, 8])
    // The state the log describes changes against: pairs in the tree (a delete's target) or not.
    const inTree = (k: string, r: number): boolean => (k.charCodeAt(7) + r) % 3 === 0
    const history: State[] = [{ log: ChangeLog.EMPTY, model: new Map(), delta: new Set() }]
    let cur = history[0]!
    let singles = 0
    for (let step = 0; step < 80 && failures.length === 0; step++) {
      // Now and then from an older log (a rollback, a snapshot's log): logs share levels and filters.
      if (rng.next() < 0.08 && history.length > 2) cur = rng.pick(history)
      let size: number
      if (singles > 0) { size = 1; singles-- }
      else if (step === 40) size = 3000 + rng.int(2000)
      else {
        const x = rng.next()
        size = x < 0.35 ? 1 : x < 0.55 ? 2 + rng.int(20) : x < 0.8 ? 20 + rng.int(300) : x < 0.95 ? 300 + rng.int(2700) : 3000 + rng.int(2000)
      }
      // A big batch, then single changes: the delta is flushed or left nearly full by the big one.
      if (size >= 3000) { singles = 1 + rng.int(12); stats.bigThenSingles++ }
      const baseIds = [...cur.model.keys()].filter(id => !cur.delta.has(id))
      const deltaIds = [...cur.delta]
      // Changes to base entries, to delta entries, and to pairs without one, each effective.
      const changes = new Map<string, [string, number, boolean]>()
      for (let i = 0; i < size; i++) {
        const x = rng.next()
        let k: string
        let r: number
        if (x < 0.15 && baseIds.length > 0) [k, r] = cur.model.get(rng.pick(baseIds))!
        else if (x < 0.3 && deltaIds.length > 0) [k, r] = cur.model.get(rng.pick(deltaIds))!
        else { k = keyOf(rng.int(keys)); r = rng.int(ids) }
        const id = pairId(k, r)
        if (changes.has(id)) continue
        const e = cur.model.get(id)
        const present = e !== undefined ? e[2] > 0 : inTree(k, r)
        changes.set(id, [k, r, !present])
      }
      // Conflicts first: a batch with one change that cannot be effective, at an entry of either
      // level, or changes out of order. Either throws and leaves the log as it was.
      if (rng.next() < 0.3) {
        const level = rng.next() < 0.5 ? baseIds : deltaIds
        const some = [...changes.values()].filter(() => rng.next() < 0.5)
        if (level.length > 0) {
          const [k, r, s] = cur.model.get(rng.pick(level))!
          if (!changes.has(pairId(k, r))) {
            let err: unknown = null
            try { cur.log.merge(batchOf([...some, [k, r, s > 0]])) } catch (e) { err = e }
            if (!(err instanceof LogConflict) || err.key !== k || err.rowId !== r) failures.push(`step ${step}: no conflict for (${k}, ${r}, ${s}) in the ${level === baseIds ? 'base' : 'delta'}`)
            else if (level === baseIds) stats.baseConflicts++
            else stats.deltaConflicts++
          }
        }
        if (some.length >= 2) {
          const b = batchOf(some)
          const i = rng.int(some.length - 1)
          for (const a of [b.keys, b.ids, b.ins] as unknown[][]) [a[i], a[i + 1]] = [a[i + 1], a[i]]
          let err: unknown = null
          try { cur.log.merge(b) } catch (e) { err = e }
          if (!(err instanceof LogConflict) || err.message !== 'changes out of order') failures.push(`step ${step}: changes out of order merged`)
          else stats.orderConflicts++
        }
        check(`round ${round}, step ${step}, after conflicts`, cur, false)
      }
      // The model: a change to an entry cancels it, in its level; any other adds an entry to the
      // delta, which is flushed into the base when it would pass flushAt(changes).
      const model = new Map(cur.model)
      const delta = new Set(cur.delta)
      let toDelta = 0
      for (const [id, [k, r, ins]] of changes) {
        if (model.has(id)) {
          model.delete(id)
          if (delta.delete(id)) { stats.deltaCancels++; toDelta++ } else stats.baseCancels++
        } else {
          model.set(id, [k, r, ins ? 1 : -1])
          delta.add(id)
          toDelta++
        }
      }
      if (cur.delta.size + toDelta > flushAt(changes.size, cur.model.size - cur.delta.size)) { delta.clear(); stats.flushes++ }
      const next: State = { log: cur.log.merge(batchOf([...changes.values()])), model, delta }
      check(`round ${round}, step ${step} (${changes.size} changes)`, next, model.size <= 3000)
      history.push(next)
      cur = next
    }
    // Every earlier log, after the merges and flushes made from it and from later ones.
    for (const [i, h] of history.entries()) {
      if (failures.length > 0) break
      check(`round ${round}, log ${i} of ${history.length}, at the end`, h, false)
    }
    t.pass(`round ${round}: ${history.length - 1} merges, last log of ${cur.log.size} (${JSON.stringify(cur.log.levels)})`)
  }
  t.same(failures.slice(0, 5), [], `every log answers as its model (seed ${seed})`)
  for (const [what, n] of Object.entries(stats)) t.ok(n > 0, `${what}: ${n}`)
  t.end()
})

t.test('the delta level: merges of many changes into a large log copy a fraction of the entries merges into the chunks copy', t => {
  const rng = new Rng(seed ^ 0xc0b1)
  const key = (): string => `k${String(rng.int(1e12)).padStart(12, '0')}`
  let id = 0
  const batch = (n: number): Batch => {
    const changes: [string, number, boolean][] = []
    for (let j = 0; j < n; j++) changes.push([key(), id++, true])
    return batchOf(changes)
  }
  // A log of 50,000 entries, all in the base, then 100 batches of 1,000 new pairs.
  const first = batch(50_000)
  let log = ChangeLog.EMPTY.merge(first)
  t.same(log.levels, { base: 50_000, delta: 0 })
  const batches: Batch[] = []
  for (let i = 0; i < 100; i++) batches.push(batch(1000))
  const before = logCopies()
  let largestDelta = 0
  let flushes = 0
  for (const b of batches) {
    const delta = log.levels.delta
    log = log.merge(b)
    if (log.levels.delta < delta) flushes++
    largestDelta = Math.max(largestDelta, log.levels.delta)
  }
  const after = logCopies()
  // The same merges straight into the chunks, as every merge made them before the delta.
  const hashesOf = (b: Batch): number[] => b.keys.map(k => keyHash(k))
  let chunks = LogChunks.EMPTY.merge(first, 0, first.keys.length, hashesOf(first))
  const c0 = { ...chunkCopies }
  for (const b of batches) chunks = chunks.merge(b, 0, b.keys.length, hashesOf(b))
  const changes = 100 * 1000
  const perChange = (after.entries - before.entries) / changes
  const chunksPerChange = (chunkCopies.entries - c0.entries) / changes
  t.equal(log.size, 150_000)
  t.ok(flushes >= 5, `the delta was flushed into the base ${flushes} times: ${JSON.stringify(log.levels)}`)
  t.ok(largestDelta <= flushAt(1000, log.size), `the delta never held more than flushAt(1000, ${log.size}) = ${flushAt(1000, log.size)} entries: at most ${largestDelta}`)
  t.ok(chunksPerChange > 25, `into the chunks alone, a change copied ${chunksPerChange.toFixed(1)} entries`)
  t.ok(perChange < 20 && perChange < 0.6 * chunksPerChange, `a change copied ${perChange.toFixed(1)} entries`)
  const refs = (after.refs - before.refs) / changes
  const chunkRefs = (chunkCopies.refs - c0.refs) / changes
  t.ok(refs * 4 < chunkRefs, `a change copied ${refs.toFixed(2)} chunk references (into the chunks alone: ${chunkRefs.toFixed(2)})`)
  // Single changes into the large log: a copy of the small delta each, not of a chunk and the chunk list.
  const c1 = logCopies()
  for (let i = 0; i < 1000; i++) log = log.merge(batch(1))
  const c2 = logCopies()
  t.ok((c2.refs - c1.refs) / 1000 < log.size / 48 / 10, `a single change copied ${((c2.refs - c1.refs) / 1000).toFixed(1)} chunk references, of ${Math.ceil(log.size / 48)} chunks or more`)
  t.ok((c2.entries - c1.entries) / 1000 <= flushAt(1, log.size), `a single change copied ${((c2.entries - c1.entries) / 1000).toFixed(1)} entries`)
  t.end()
})
