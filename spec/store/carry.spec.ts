// Carrying change records forward (FORMAT.md §10): the pure merge and difference against a model,
// and a file of single-change commits whose chain grows a page per CARRY_MAX_RECORDS changes,
// read by a follower that builds on what it knew (a bounded read per commit) and by fresh opens.
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Index } from '../../lib/index.ts'
import { CARRY_MAX_RECORDS, CMT_OFF_LOG_PREV } from '../../lib/format/constants.ts'
import type { Batch } from '../../lib/tree/batch.ts'
import { carry, difference } from '../../lib/tree/carry.ts'
import { CountingVfs } from '../helpers/counting-vfs.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'

/** A state: the set of pairs present, as "key\trowId". */
type State = Set<string>

const pair = (k: string, r: number): string => `${k}\t${r}`

/** Random net changes against `s` over a small universe of pairs, sorted. */
function changes(rng: Rng, s: State, n: number): Batch {
  const picked = new Map<string, [string, number]>()
  for (let i = 0; i < n; i++) {
    const k = `k${rng.int(6)}`
    const r = rng.int(4)
    picked.set(pair(k, r), [k, r])
  }
  const sorted = [...picked.values()].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1])
  return { keys: sorted.map(p => p[0]), ids: sorted.map(p => p[1]), ins: sorted.map(p => !s.has(pair(p[0], p[1]))) }
}

function apply(s: State, b: Batch): State {
  const out = new Set(s)
  for (let i = 0; i < b.keys.length; i++) {
    const p = pair(b.keys[i]!, b.ids[i]!)
    if (b.ins[i] ? out.has(p) : !out.has(p)) throw new Error(`record ${p} ${b.ins[i] ? 'inserts a present pair' : 'deletes an absent pair'}`)
    if (b.ins[i]) out.add(p)
    else out.delete(p)
  }
  return out
}

const same = (a: State, b: State): boolean => a.size === b.size && [...a].every(p => b.has(p))

t.test('carry and difference against a model', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  let failures = 0
  for (let round = 0; round < 2000 && failures < 5; round++) {
    const s0: State = new Set()
    for (let i = 0; i < 10; i++) s0.add(pair(`k${rng.int(6)}`, rng.int(4)))
    const h = changes(rng, s0, rng.int(8))
    const sh = apply(s0, h)
    const own = changes(rng, sh, 1 + rng.int(6))
    const sn = apply(sh, own)
    const carried = carry(h, own)
    // Net against s0, and sorted, each pair once.
    if (!same(apply(s0, carried), sn)) { failures++; t.fail(`round ${round}: carry(h, own) applied to the state before h is not the state after own (seed ${seed})`) }
    const keys = carried.keys.map((k, i) => pair(k, carried.ids[i]!))
    if (new Set(keys).size !== keys.length) { failures++; t.fail(`round ${round}: a pair twice (seed ${seed})`) }
    // The difference from h's state to the carried commit's is own, up to order.
    const d = difference(h, carried)
    if (!same(apply(sh, d), sn)) { failures++; t.fail(`round ${round}: difference(h, n) does not take h's state to n's (seed ${seed})`) }
    // And for two unrelated commits net against the same state.
    const m = changes(rng, s0, rng.int(8))
    if (!same(apply(sh, difference(h, m)), apply(s0, m))) { failures++; t.fail(`round ${round}: difference of siblings (seed ${seed})`) }
  }
  t.equal(failures, 0, `2000 rounds (seed ${seed})`)
  const ins: Batch = { keys: ['a'], ids: [1], ins: [true] }
  const del: Batch = { keys: ['a'], ids: [1], ins: [false] }
  t.throws(() => carry(ins, ins), { name: 'CarryConflict' }, 'an insert of a pair the head inserted')
  t.throws(() => carry(del, del), { name: 'CarryConflict' }, 'a delete of a pair the head deleted')
  t.same(carry(ins, del), { keys: [], ids: [], ins: [] }, 'a change undone leaves no record')
  t.throws(() => difference(ins, del), { name: 'CarryConflict' }, 'two commits against one state cannot insert and delete one pair')
})

t.test('single-change commits carry records forward: the chain grows a page per CARRY_MAX_RECORDS changes, and a follower reads a bounded amount per commit', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const file = path.join(tmpDir(t), 'carry.idx')
  const P = 4096
  const w = Index.open(file, { pageSize: P, durability: 'none' })
  const vfs = new CountingVfs()
  const follower = Index.open(file, { readOnly: true, vfs })
  const model = new Map<string, number[]>()
  const N = 1200
  let maxRead = 0
  let mismatches = 0
  for (let i = 0; i < N; i++) {
    const k = `key${String(rng.int(300)).padStart(4, '0')}`
    const ids = model.get(k) ?? []
    if (ids.length > 0 && rng.next() < 0.3) {
      const r = rng.pick(ids)
      t.equal(w.delete(k, r), true)
      model.set(k, ids.filter(x => x !== r))
    } else {
      const r = i
      w.insert(k, r)
      model.set(k, [...ids, r].sort((a, b) => a - b))
    }
    vfs.reset()
    follower.refresh()
    const got = follower.get(k)
    maxRead = Math.max(maxRead, vfs.readBytes)
    if (JSON.stringify(got) !== JSON.stringify(model.get(k))) mismatches++
  }
  t.equal(mismatches, 0, `the follower read every commit right (seed ${seed})`)
  // Adopting a commit reads the probe page, the new commit page and the head it carried (to check
  // it is still there): a few pages, however long the chain is.
  t.ok(maxRead <= 8 * P, `a follower's refresh read at most ${maxRead} bytes (seed ${seed})`)
  const s = w.stats()
  t.equal(s.height, 0, 'no fold: every pair is a pending change')
  // pendingChanges counts the chain's records: a delete of a pair inserted in an earlier page of the chain is a record too.
  t.ok(s.pendingChanges >= s.entries && s.pendingChanges <= N, `${s.pendingChanges} records pending for ${s.entries} pairs after ${N} commits`)
  // Each chain page but the newest holds CARRY_MAX_RECORDS records (fewer when changes cancelled
  // one another inside a carry); livePages counts all but the newest commit's own page.
  t.ok(s.pagesLive <= Math.ceil(N / 4), `the chain has ${s.pagesLive + 1} pages for ${N} commits`)
  t.ok(s.pagesLive >= Math.floor(s.entries / CARRY_MAX_RECORDS) - 1, `at least ${Math.floor(s.entries / CARRY_MAX_RECORDS)} pages for ${s.entries} pending pairs`)
  t.equal(Index.verify(file).ok, true, 'verify')
  const fresh = Index.open(file, { readOnly: true })
  const want = [...model].filter(([, ids]) => ids.length > 0).sort((a, b) => a[0] < b[0] ? -1 : 1).flatMap(([k, ids]) => ids.map(r => [k, r]))
  t.strictSame([...fresh.range()], want, 'a fresh open reads the model')
  fresh.close()
  follower.close()
  w.close()
  t.ok(fs.statSync(file).size > 0)
})

t.test('a damaged page that the chain still links to is reported, whether or not commits carried', async t => {
  const dir = tmpDir(t)
  for (const per of [1, Math.floor(CARRY_MAX_RECORDS / 2) + 1]) {
    const file = path.join(dir, `chain-${per}.idx`)
    const P = 512
    const idx = Index.open(file, { pageSize: P })
    for (let i = 0; i < 40; i++) idx.transaction(tx => { for (let j = 0; j < per; j++) tx.insert(`k${String(i * per + j).padStart(4, '0')}`, j) })
    idx.close()
    // The chain's pages below the newest commit: the commit pages its links name.
    const bytes = fs.readFileSync(file)
    const links: number[] = []
    let c = Index.open(file, { readOnly: true }).stats().commitPage
    for (let p = bytes.readUInt32LE(c * P + CMT_OFF_LOG_PREV); p !== 0 && p < c; p = bytes.readUInt32LE(p * P + CMT_OFF_LOG_PREV)) { links.push(p); c = p }
    if (per === 1) {
      t.ok(links.length >= 1 && links.length <= Math.ceil(40 / CARRY_MAX_RECORDS), `single-pair commits: ${links.length} linked pages for 40 commits`)
    } else {
      t.equal(links.length, 39, `commits of ${per} pairs link to every earlier one`)
    }
    const victim = links[0]!
    const fd = fs.openSync(file, 'r+')
    fs.writeSync(fd, Buffer.from([0xee]), 0, 1, victim * P + 200)
    fs.closeSync(fd)
    const v = Index.verify(file)
    t.ok(v.errors.some(e => e.page === victim && /pending chain|commit page|checksum/.test(e.message)), `per ${per}: verify reports the damaged chain page ${victim}: ${JSON.stringify(v.errors.slice(0, 2))}`)
    const r = Index.open(file, { readOnly: true })
    t.throws(() => r.count(), { code: 'CORRUPT' }, `per ${per}: reads give CORRUPT`)
    r.close()
  }
})
