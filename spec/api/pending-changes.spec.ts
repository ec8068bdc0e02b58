/**
 * A transaction's unmerged changes (lib/api/pending.ts) against a model: random effective inserts
 * and deletes (of absent and present pairs of a pretend tree), with every answer checked after
 * each change. Randomised: prints its seed; TAILROOT_SEED=n replays one.
 */
import t from 'tap'
import { Pending } from '../../lib/api/pending.ts'
import { comparePair } from '../../lib/format/node.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}: rerun with TAILROOT_SEED=${seed}`)

t.test('Pending answers as a map of pair states', t => {
  const rng = new Rng(seed)
  const rounds = SOAK ? 400 : 60
  for (let round = 0; round < rounds; round++) {
    const keys = 1 + rng.int(rng.next() < 0.4 ? 3 : 40)
    const ids = 1 + rng.int(rng.next() < 0.4 ? 3 : 30)
    const inTree = (k: string, r: number): boolean => (k.length + k.charCodeAt(1) + r) % 2 === 0
    // pair -> +1 inserted, -1 deleted (absent: untouched)
    const model = new Map<string, [string, number, number]>()
    const p = new Pending()
    const fail = (what: string): void => { t.fail(`round ${round}: ${what} (seed ${seed})`) }
    for (let step = rng.int(200); step >= 0 && t.counts.fail === 0; step--) {
      const k = `k${rng.int(keys)}`
      const r = rng.int(ids)
      const id = `${k}\u0000${r}`
      const m = model.get(id)
      const present = m !== undefined ? m[2] > 0 : inTree(k, r)
      if (rng.next() < 0.05) { p.clear(); model.clear(); continue }
      if (present) {
        p.delete(k, r)
        if (m !== undefined) model.delete(id); else model.set(id, [k, r, -1])
      } else {
        p.insert(k, r)
        if (m !== undefined) model.delete(id); else model.set(id, [k, r, 1])
      }
      const all = [...model.values()].sort((a, b) => comparePair(a[0], a[1], b[0], b[1]))
      if (p.ops !== all.length) { fail(`ops ${p.ops} != ${all.length}`); break }
      if (p.empty !== (all.length === 0)) { fail('empty'); break }
      if (p.delta !== all.reduce((s, e) => s + e[2], 0)) { fail('delta'); break }
      const b = p.toBatch()
      if (JSON.stringify(b) !== JSON.stringify({ keys: all.map(e => e[0]), ids: all.map(e => e[1]), ins: all.map(e => e[2] > 0) })) { fail('toBatch'); break }
      for (let i = 0; i < keys; i++) {
        const kk = `k${i}`
        const of = all.filter(e => e[0] === kk)
        if (p.keyDelta(kk) !== of.reduce((s, e) => s + e[2], 0)) { fail(`keyDelta(${kk})`); break }
        const c = p.changes(kk)
        const ins = of.filter(e => e[2] > 0).map(e => e[1])
        const del = of.filter(e => e[2] < 0).map(e => e[1])
        const got = c === undefined ? { ins: [], del: [] } : { ins: [...(c.ins ?? [])].sort((a, b) => a - b), del: [...(c.del ?? [])].sort((a, b) => a - b) }
        if (JSON.stringify(got) !== JSON.stringify({ ins, del })) { fail(`changes(${kk})`); break }
        for (let rr = 0; rr < ids; rr++) {
          const e = model.get(`${kk}\u0000${rr}`)
          if (p.state(kk, rr) !== (e?.[2] ?? 0)) { fail(`state(${kk}, ${rr})`); break }
        }
      }
    }
    if (t.counts.fail > 0) break
  }
  t.pass('every answer matched')
  t.end()
})
