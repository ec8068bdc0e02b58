/**
 * Pending changes (FORMAT.md §10) through the public API: what a commit writes, folding, reopen,
 * handles that follow other handles' commits, snapshots across folds, verify, version 1 files.
 * Randomised parts print their seed; TAILROOT_SEED=n replays one.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import { MAX_PENDING_BYTES } from '../../lib/format/constants.ts'
import { CARRY_MAX_RECORDS } from '../../lib/format/constants.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}: rerun with TAILROOT_SEED=${seed}`)

const key = (i: number): string => `key-${String(i).padStart(7, '0')}`

t.test('a single-pair commit appends only its commit page', async t => {
  const file = path.join(tmpDir(t), 'single.idx')
  const idx = Index.build(file, Array.from({ length: 20000 }, (_, i) => [key(i), i] as [string, number]))
  t.ok(idx.stats().height >= 2, 'a tree of height ≥ 2')
  const P = idx.pageSize
  // The end of the newest commit, and only zeros after it (preallocated space, FORMAT.md §8).
  const end = (): number => {
    const e = (idx.stats().commitPage + 1) * P
    t.ok(fs.readFileSync(file).subarray(e).every(b => b === 0), 'only zeros follow the newest commit')
    return e
  }
  for (let i = 0; i < 50; i++) {
    const before = end()
    t.equal(idx.insert(key(i * 397 + 1), 1_000_000 + i), true)
    t.equal(end() - before, P, `insert ${i} added one page`)
  }
  const before = end()
  t.equal(idx.delete(key(5), 5), true)
  t.equal(end() - before, P, 'a delete too')
  t.equal(idx.count(), 20000 + 50 - 1)
  t.same([idx.stats().pendingChanges, idx.stats().entries], [51, 20049], 'stats: 51 change records pending, not in the tree')
  idx.close()
  t.ok(Index.verify(file).ok)
})

t.test('a batch of random inserts writes a fraction of a page per pair', async t => {
  const file = path.join(tmpDir(t), 'batch.idx')
  const rng = new Rng(seed)
  const idx = Index.build(file, Array.from({ length: 50000 }, (_, i) => [key(i * 2), i] as [string, number]))
  const end = (): number => (idx.stats().commitPage + 1) * idx.pageSize
  const before = end()
  const commits = 20
  for (let c = 0; c < commits; c++) {
    idx.transaction(tx => { for (let i = 0; i < 1000; i++) tx.insert(key(rng.int(100000) * 2 + 1), c * 1000 + i) })
  }
  const perPair = (end() - before) / (commits * 1000)
  t.ok(perPair < 40, `${perPair.toFixed(1)} bytes written per inserted pair (a rewrite per leaf would be thousands)`)
  idx.close()
  t.ok(Index.verify(file).ok)
})

t.test('folds, reopens and a following handle agree with a model', async t => {
  const dir = tmpDir(t)
  const rng = new Rng(seed + 1)
  for (const maxPendingChanges of [0, 7, 150, 100000]) {
    const file = path.join(dir, `fold-${maxPendingChanges}.idx`)
    const w = Index.open(file, { pageSize: 512, maxPendingChanges, durability: 'none' })
    const r = Index.open(file, { readOnly: true })
    const model = new Set<string>()
    const snaps: { snap: ReturnType<Index['snapshot']>; pairs: string[] }[] = []
    let folds = 0
    for (let c = 0; c < 120; c++) {
      const n = rng.pick([1, 1, 3, 40, 300])
      w.transaction(tx => {
        for (let i = 0; i < n; i++) {
          const k = key(rng.int(400))
          const id = rng.int(5)
          const p = `${k}\t${id}`
          if (model.has(p) && rng.next() < 0.6) { tx.delete(k, id); model.delete(p) } else if (!model.has(p)) { tx.insert(k, id); model.add(p) }
        }
      }, { meta: Buffer.from(`c${c}`) })
      if (w.stats().height > 0 && rng.next() < 0.1) snaps.push({ snap: w.snapshot(), pairs: [...model].sort() })
      // The following handle adopts each commit, building on the pending changes it knows.
      if (rng.next() < 0.7) {
        const got = [...r.range()].map(([k, id]) => `${k}\t${id}`)
        if (JSON.stringify(got) !== JSON.stringify([...model].sort())) { t.fail(`maxPendingChanges ${maxPendingChanges}, commit ${c}: the reader differs`); break }
      }
      if (w.stats().commitPage > 0 && readLogHead(file, w.stats().commitPage, w.pageSize) === 0) folds++
    }
    const sorted = [...model].sort()
    t.same([...w.range()].map(([k, id]) => `${k}\t${id}`), sorted, `maxPendingChanges ${maxPendingChanges}: the writer`)
    t.equal(r.count(), model.size, 'the reader counts')
    for (const s of snaps) t.same([...s.snap.range()].map(([k, id]) => `${k}\t${id}`), s.pairs, 'a snapshot keeps its view across later commits and folds')
    for (const s of snaps) s.snap.close()
    w.close()
    r.close()
    const again = Index.open(file, { readOnly: true })
    t.same([...again.range()].map(([k, id]) => `${k}\t${id}`), sorted, 'a reopen replays the pending changes')
    t.same([...again.range({ reverse: true, offset: 3, limit: 50 })].map(([k, id]) => `${k}\t${id}`), sorted.slice().reverse().slice(3, 53), 'reverse, offset, limit')
    again.close()
    const v = Index.verify(file)
    t.ok(v.ok, `verify (${JSON.stringify(v.errors).slice(0, 300)})`)
    t.equal(v.entries, model.size)
    if (maxPendingChanges === 0) t.equal(folds, 120, 'maxPendingChanges 0: every commit rewrites the tree')
    else if (maxPendingChanges === 100000) t.ok(folds <= 1, `a large bound folds at most once here (${folds})`)
    else t.ok(folds > 1 && folds < 120, `folds now and then (${folds})`)
  }
})

function readLogHead(file: string, commitPage: number, P: number): number {
  const fd = fs.openSync(file, 'r')
  try {
    const b = Buffer.alloc(4)
    fs.readSync(fd, b, 0, 4, commitPage * P + 80)
    return b.readUInt32LE(0)
  } finally {
    fs.closeSync(fd)
  }
}

t.test('a chain of small commits folds before its pages pass MAX_PENDING_BYTES', async t => {
  const file = path.join(tmpDir(t), 'bytes.idx')
  const P = 512
  const idx = Index.open(file, { pageSize: P, durability: 'none' })
  const budget = MAX_PENDING_BYTES / P // pages
  // More than half of CARRY_MAX_RECORDS changes each, so that no commit carries the records of
  // the one before (spec/store/carry.spec.ts): each commit is one commit page of the chain.
  const per = Math.floor(CARRY_MAX_RECORDS / 2) + 1
  let firstFold = -1
  for (let i = 0; i < budget + 100 && firstFold < 0; i++) {
    idx.transaction(tx => { for (let j = 0; j < per; j++) tx.insert(key(i * per + j), i) })
    const last = idx.stats().commitPage
    if (i > 0 && readLogHead(file, last, P) === 0) firstFold = i
  }
  const end = (idx.stats().commitPage + 1) * P
  t.ok(fs.readFileSync(file).subarray(end).every(b => b === 0), 'only zeros follow the newest commit')
  // The fold comes just before the budget.
  t.ok(firstFold > budget - 16 && firstFold <= budget, `the first fold at commit ${firstFold + 1} (budget ${budget} pages)`)
  t.equal(idx.count(), (firstFold + 1) * per)
  idx.close()
  t.ok(Index.verify(file).ok)
})

t.test('a unique index checks pending pairs', async t => {
  const file = path.join(tmpDir(t), 'unique.idx')
  const idx = Index.open(file, { unique: true })
  idx.insert('a', 1)
  t.throws(() => idx.insert('a', 2), { code: 'UNIQUE_VIOLATION' })
  idx.delete('a', 1)
  t.equal(idx.insert('a', 2), true, 'after the pending delete the key is free')
  t.same(idx.get('a'), [2])
  idx.close()
})

t.test('a version 1 file is written without change records', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'v1.tailroot')
  fs.copyFileSync(new URL('../../fixtures/v1-small.tailroot', import.meta.url), file)
  const idx = Index.open(file)
  const before = idx.count()
  idx.insert('v1 insert', 5)
  t.equal(idx.count(), before + 1)
  idx.close()
  const bytes = fs.readFileSync(file)
  t.equal(bytes.readUInt16LE(24), 1, 'still format version 1')
  const v = Index.verify(file)
  t.ok(v.ok, 'verify')
  t.equal(v.entries, before + 1)
})

t.test('maxPendingChanges is checked', async t => {
  const file = path.join(tmpDir(t), 'opt.idx')
  for (const bad of [-1, 1.5, 2 ** 31, Number.NaN, '10']) {
    try {
      Index.open(file, { maxPendingChanges: bad as number }).close()
      t.fail(`accepted ${String(bad)}`)
    } catch (err) {
      t.ok(err instanceof TailrootError && err.code === 'INVALID_ARGUMENT' && /maxPendingChanges/.test(err.message), `refused ${String(bad)}: ${String(err)}`)
    }
  }
})
