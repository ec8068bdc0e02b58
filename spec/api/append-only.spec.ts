/**
 * The append-only promise (FORMAT.md §1): after every commit, every byte of the file up to the
 * end of the previous commit page is unchanged, the file never shrinks, its size is a whole number
 * of pages, and anything after the newest commit page is zeros (preallocated, FORMAT.md §8). Writes that change nothing
 * (no-op calls, rolled-back transactions, refused inserts) leave the file byte for byte as it was.
 * Random workloads at page sizes 512 and 4096. TAILROOT_SEED=n replays one seed; TAILROOT_SOAK=n
 * runs n times as many operations.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import { KeyGen, Model, randomRowId, utf8Kind } from '../helpers/model.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { soakFactor } from '../helpers/soak.ts'

const soak = soakFactor
const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

class Rollback extends Error {}

for (const pageSize of [512, 4096]) {
  t.test(`P=${pageSize}: committed bytes never change`, async t => {
    const rng = new Rng(seed + pageSize)
    const dir = tmpDir(t)
    const file = path.join(dir, 'a.tailroot')
    const opts = { pageSize, durability: 'none' as const }
    let idx = Index.open(file, opts)
    // A second handle on the same file, writing in turn with the first.
    let other: Index | null = null
    const gen = new KeyGen(rng, utf8Kind, idx.maxKeyBytes, 60, 0.05)
    const m = new Model(utf8Kind)
    let committed = fs.readFileSync(file)
    let lastFile = committed
    const problems: string[] = []
    let commits = 0
    let unchangedOps = 0
    const ops = (pageSize === 512 ? 1000 : 600) * soak

    /** Checks the file against the bytes of the previous commit; returns the new committed bytes. */
    const check = (op: number, what: string, expectChange: boolean): void => {
      const now = fs.readFileSync(file)
      const where = `seed ${seed} op ${op} (${what})`
      if (now.length < lastFile.length) problems.push(`${where}: the file shrank from ${lastFile.length} to ${now.length} bytes`)
      if (now.length % pageSize !== 0) problems.push(`${where}: size ${now.length} is not a multiple of ${pageSize}`)
      const prefix = now.subarray(0, committed.length)
      if (!prefix.equals(committed)) {
        let i = 0
        while (i < prefix.length && prefix[i] === committed[i]) i++
        problems.push(`${where}: byte ${i} (page ${Math.floor(i / pageSize)}) of the previous commits changed`)
      }
      const st = idx.stats()
      const end = (st.commitPage + 1) * pageSize
      if (expectChange) {
        if (end <= committed.length) problems.push(`${where}: expected a new commit page after byte ${committed.length}, the newest is at ${end}`)
        commits++
      } else if (!now.equals(lastFile)) problems.push(`${where}: a write that changed nothing changed the file (${lastFile.length} -> ${now.length} bytes)`)
      else unchangedOps++
      if (now.subarray(end).some(b => b !== 0)) problems.push(`${where}: nonzero bytes after the newest commit page`)
      if (st.entries !== m.size) problems.push(`${where}: ${st.entries} entries, the model has ${m.size}`)
      committed = Buffer.from(now.subarray(0, Math.max(end, committed.length)))
      lastFile = now
    }

    for (let op = 1; op <= ops && problems.length === 0; op++) {
      const x = rng.next()
      // Grow towards a few thousand pairs, then shrink, so splits and merges both happen.
      const grow = Math.floor(op / 80) % 2 === 0
      if (x < 0.3) {
        const k = gen.next()
        const r = randomRowId(rng)
        const changed = m.insert(k, r)
        if (idx.insert(k, r) !== changed) problems.push(`seed ${seed} op ${op}: insert result`)
        check(op, `insert`, changed)
      } else if (x < 0.55) {
        const p = rng.next() < 0.8 ? m.randomPairByKey(rng) : null
        const [k, r] = p ?? [gen.next(), randomRowId(rng)]
        const changed = m.delete(k, r)
        if (idx.delete(k, r) !== changed) problems.push(`seed ${seed} op ${op}: delete result`)
        check(op, 'delete', changed)
      } else if (x < 0.8) {
        const n = 1 + Math.floor(300 * rng.next() ** 2)
        const rollback = rng.next() < 0.15
        // A transaction given meta commits even when it changed nothing else.
        const meta = rng.next() < 0.05 ? rng.bytes(rng.int(64)) : undefined
        const undo: (() => void)[] = []
        let changed = meta !== undefined
        try {
          idx.transaction(tx => {
            for (let i = 0; i < n; i++) {
              if (grow ? rng.next() < 0.8 : rng.next() < 0.2) {
                const k = gen.next()
                const r = randomRowId(rng)
                if (m.insert(k, r)) { undo.push(() => m.delete(k, r)); changed = true }
                tx.insert(k, r)
              } else {
                const p = m.randomPairByKey(rng)
                if (p === null) continue
                m.delete(p[0], p[1])
                undo.push(() => m.insert(p[0], p[1]))
                tx.delete(p[0], p[1])
                changed = true
              }
            }
            if (rollback) throw new Rollback()
          }, meta === undefined ? undefined : { meta })
        } catch (err) {
          if (!(err instanceof Rollback)) throw err
          for (let i = undo.length - 1; i >= 0; i--) undo[i]!()
          changed = false
        }
        check(op, `transaction of ${n}${rollback ? ', rolled back' : ''}`, changed)
      } else if (x < 0.85) {
        // Calls that all return false.
        idx.transaction(tx => {
          const p = m.randomPairByKey(rng)
          if (p) tx.insert(p[0], p[1])
          tx.delete('\u0000absent', 1)
        })
        check(op, 'no-op transaction', false)
      } else if (x < 0.88) {
        // Refused writes: a key over the maximum, a callback that returns a promise.
        try { idx.insert('x'.repeat(idx.maxKeyBytes + 1), 1) } catch (err) { if (!(err instanceof TailrootError)) throw err }
        try { idx.transaction(tx => { tx.insert('refused', 1); return Promise.resolve() }) } catch (err) { if (!(err instanceof TailrootError)) throw err }
        check(op, 'refused writes', false)
      } else if (x < 0.93) {
        idx.close()
        idx = Index.open(file, rng.next() < 0.5 ? opts : { durability: 'none' })
        check(op, 'reopen', false)
      } else {
        // The other handle commits (it adopts the first handle's commits under the lock).
        other ??= Index.open(file, { durability: 'none' })
        const k = gen.next()
        const r = randomRowId(rng)
        const changed = m.insert(k, r)
        if (other.insert(k, r) !== changed) problems.push(`seed ${seed} op ${op}: insert through the second handle`)
        idx.refresh()
        check(op, 'insert through a second handle', changed)
      }
      if (op % 40 === 0) {
        const v = Index.verify(file)
        if (!v.ok) problems.push(`seed ${seed} op ${op}: verify: ${v.errors.map(e => e.message).join('; ')}`)
      }
    }
    t.same(problems, [], `seed ${seed}: every commit kept the bytes before it`)
    t.ok(commits > ops / 3, `seed ${seed}: ${commits} commits checked`)
    t.ok(unchangedOps > 10, `seed ${seed}: ${unchangedOps} writes that changed nothing checked`)
    t.ok(committed.length > 50 * pageSize, `seed ${seed}: the file grew to ${committed.length} bytes`)
    other?.close()
    idx.close()
  })
}

t.test('a built index keeps its bytes as commits follow', async t => {
  const rng = new Rng(seed)
  const file = path.join(tmpDir(t), 'built.tailroot')
  const pairs: [string, number][] = []
  for (let i = 0; i < 5000; i++) pairs.push([`k${rng.int(2000)}`, rng.int(100000)])
  const idx = Index.build(file, pairs, { pageSize: 512, durability: 'none' })
  let committed = fs.readFileSync(file)
  t.equal(committed.length % 512, 0, 'the built file is a whole number of pages')
  t.equal(committed.length, (idx.stats().commitPage + 1) * 512, 'a build ends at its commit page (no preallocation)')
  const problems: string[] = []
  for (let i = 0; i < 100; i++) {
    idx.transaction(tx => {
      for (let j = 0; j < 1 + rng.int(50); j++) {
        if (rng.next() < 0.5) tx.insert(`k${rng.int(2000)}`, rng.int(100000))
        else tx.delete(pairs[rng.int(pairs.length)]![0], pairs[rng.int(pairs.length)]![1])
      }
    }, { meta: Buffer.from([i]) })
    const now = fs.readFileSync(file)
    const end = (idx.stats().commitPage + 1) * 512
    if (!now.subarray(0, committed.length).equals(committed)) problems.push(`seed ${seed} commit ${i}: earlier bytes changed`)
    if (end <= committed.length || now.length % 512 !== 0) problems.push(`seed ${seed} commit ${i}: commit end ${committed.length} -> ${end}, size ${now.length}`)
    if (now.subarray(end).some(b => b !== 0)) problems.push(`seed ${seed} commit ${i}: nonzero bytes after the newest commit page`)
    committed = now.subarray(0, end)
  }
  t.same(problems, [], 'every commit only added pages after the previous one, and only zeros follow it')
  t.same(Index.verify(file).errors, [], 'verify')
  idx.close()
})
