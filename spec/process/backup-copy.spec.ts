// Backing up an index while it is written to (README, "Files next to an index, and backups"): a
// copy of the file is a prefix of its history, so a copy cut inside a commit opens at the commit
// before it, with exactly that commit's pairs, and `tailroot verify` accepts it. First with copies
// cut at chosen points of every kind of commit (one sync, two syncs, durability 'none', a commit
// of one page); then with real copies, made in odd-sized chunks and with copyFileSync, while two
// writer processes commit. spec/crash/power-cut.spec.ts cuts files at every page boundary and
// inside every page; this spec checks the backup procedures the README gives. With preallocation
// (preallocate: true, the default) a plain copy made while a commit writes may also lack pages of
// that commit (read while still zeros): verify refuses such a copy, and the procedure copies
// again. Index.backup copies up to a commit page it found first, so its copies never need that.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Index, TailrootError } from '../../lib/index.ts'
import { COMMIT_DATA_SYNCED, COMMIT_PREV_DURABLE } from '../../lib/format/constants.ts'
import { Rng } from '../helpers/rng.ts'
import { runChild, startTogether } from '../helpers/children/run.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { cli } from '../cli/run-cli.ts'

const CMT_FLAGS = 29 // FORMAT.md §8

function pairsOf(idx: Index): string[] {
  return [...idx.range()].map(([k, r]) => `${k}\t${r}`)
}

t.test('a copy cut inside a commit opens at the commit before it, and verify accepts it', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'live.idx')
  const P = 4096
  const a = Index.open(file, { pageSize: P })
  const b = Index.open(file)
  const c = Index.open(file, { durability: 'none' })
  interface Step { sequence: number; end: number; pairs: string[]; flags: number }
  const steps: Step[] = [{ sequence: 0, end: fs.statSync(file).size, pairs: [], flags: 0 }]
  /** Records the commit `idx` has just made. */
  const record = (idx: Index): void => {
    const s = idx.stats()
    const bytes = fs.readFileSync(file)
    steps.push({ sequence: s.sequence, end: (s.commitPage + 1) * P, pairs: pairsOf(idx), flags: bytes[s.commitPage * P + CMT_FLAGS]! })
  }
  const batch = (idx: Index, tag: string, n: number): void => {
    idx.transaction(tx => { for (let i = 0; i < n; i++) tx.insert(`${tag}/${String(i).padStart(5, '0')}/${'x'.repeat(40)}`, i) })
  }
  batch(a, 'a1', 400); record(a) // the file's first commit: one write and one sync
  batch(a, 'a2', 400); record(a) // after its own commit: one sync
  batch(b, 'b1', 400); record(b) // after another handle's commit: two syncs
  c.transaction(tx => { tx.delete(`a1/00007/${'x'.repeat(40)}`, 7); for (let i = 0; i < 400; i++) tx.insert(`c1/${i}/${'x'.repeat(40)}`, i) }); record(c) // durability 'none'
  batch(a, 'a3', 400); record(a) // two syncs, making the 'none' commit durable
  a.insert('one', 1); record(a) // a commit of one page: its records fit in the commit page
  for (const idx of [a, b, c]) idx.close()

  t.ok(steps.some(s => s.flags & COMMIT_DATA_SYNCED), 'a commit written with two syncs')
  t.ok(steps.some(s => s.flags & COMMIT_PREV_DURABLE), 'a commit written with one sync')
  t.ok(steps.some(s => s.sequence > 0 && (s.flags & (COMMIT_DATA_SYNCED | COMMIT_PREV_DURABLE)) === 0), "a commit written with durability 'none'")
  t.ok(steps.some((s, i) => i > 0 && s.end - steps[i - 1]!.end === P), 'a commit of one page')

  const bytes = fs.readFileSync(file)
  const copy = path.join(dir, 'copy.idx')
  for (let i = 1; i < steps.length; i++) {
    const before = steps[i - 1]!
    const s = steps[i]!
    const cuts = new Set([before.end + 1, before.end + P, Math.floor((before.end + s.end) / 2), s.end - P, s.end - P + 100, s.end - 1].filter(x => x > before.end && x < s.end))
    for (const cut of cuts) {
      fs.writeFileSync(copy, bytes.subarray(0, cut))
      const idx = Index.open(copy, { readOnly: true })
      t.equal(idx.sequence, before.sequence, `a copy cut at byte ${cut} of commit ${s.sequence} (bytes ${before.end}..${s.end}) opens at commit ${before.sequence}`)
      t.strictSame(pairsOf(idx), before.pairs, `with the pairs of commit ${before.sequence}`)
      idx.close()
      const v = await cli(['verify', copy])
      t.equal(v.code, 0, `tailroot verify accepts it: ${v.stdout}${v.stderr}`)
    }
    fs.writeFileSync(copy, bytes.subarray(0, s.end))
    const whole = Index.open(copy, { readOnly: true })
    t.equal(whole.sequence, s.sequence, `a copy that ends with commit ${s.sequence} opens at it`)
    t.strictSame(pairsOf(whole), s.pairs)
    whole.close()
  }
  // A copy is an index like any other: writing to it continues its history.
  fs.writeFileSync(copy, bytes.subarray(0, steps[3]!.end - 1))
  const restored = Index.open(copy)
  t.equal(restored.insert('after', 1), true)
  t.equal(restored.sequence, steps[2]!.sequence + 1, 'the next commit follows the commit the copy holds')
  restored.close()
  t.equal(Index.verify(copy).ok, true, 'the copy verifies after a write')
})

t.test('with preallocation, a copy that read a commit\'s first pages while still zeros is whole at an older commit, or refused by verify', async t => {
  const dir = tmpDir(t)
  const P = 4096
  let refused = 0
  let cases = 0
  // A few layouts: the zero-tail search of such a copy may stop in the hole (and the copy opens
  // at the commit before) or above the commit (and the copy lacks pages of the commit it opens at).
  for (const lead of [0, 1, 2, 3]) {
    const file = path.join(dir, `skew-${lead}.idx`)
    const a = Index.open(file, { pageSize: P, maxPendingChanges: 0, preallocate: true })
    for (let i = 0; i <= lead; i++) a.insert(`first${i}`, i)
    const base = a.stats()
    const basePairs = pairsOf(a)
    a.close()
    const before = fs.readFileSync(file)
    t.ok(before.length > (base.commitPage + 1) * P, `zeros are preallocated after the newest commit (lead ${lead})`)
    // A new handle's commit: two syncs (COMMIT_DATA_SYNCED), so opening trusts its data pages.
    const b = Index.open(file, { maxPendingChanges: 0, preallocate: true })
    b.transaction(tx => { for (let i = 0; i < 400; i++) tx.insert(`b/${String(i).padStart(5, '0')}/${'x'.repeat(40)}`, i) })
    const s = b.stats()
    const afterPairs = pairsOf(b)
    b.close()
    const after = fs.readFileSync(file)
    const first = base.commitPage + 1
    t.equal(after.length, before.length, `the commit went into the preallocated zeros (lead ${lead})`)
    t.ok(s.commitPage - first >= 4 && (after[s.commitPage * P + CMT_FLAGS]! & COMMIT_DATA_SYNCED) !== 0, `a commit of ${s.commitPage - first} data pages, written with two syncs (lead ${lead})`)
    // A copy that passed pages first..m-1 before the commit wrote them (zeros), and read the rest
    // after: unlike a prefix, it may hold the commit page without all of the commit's pages.
    const copy = path.join(dir, `copy-${lead}.idx`)
    for (let m = first + 1; m <= s.commitPage; m++) {
      fs.writeFileSync(copy, Buffer.concat([before.subarray(0, m * P), after.subarray(m * P)]))
      const where = `lead ${lead}: pages ${first}..${m - 1} of ${first}..${s.commitPage - 1} read as zeros`
      const v = await cli(['verify', copy])
      const idx = Index.open(copy, { readOnly: true })
      let pairs: string[] | string
      try { pairs = pairsOf(idx) } catch (err) { pairs = err instanceof TailrootError ? err.code : String(err) }
      const sequence = idx.sequence
      idx.close()
      cases++
      if (v.code === 0) {
        t.same([sequence, pairs], [base.sequence, basePairs], `verify accepts it only whole, at the commit before (${where})`)
      } else {
        refused++
        t.equal(v.code, 1, `verify refuses it as damaged (${where}): ${v.stdout.split('\n')[0]}`)
        t.ok(pairs === 'CORRUPT' || JSON.stringify(pairs) === JSON.stringify(basePairs), `reading it gives CORRUPT, never a mix of commits (${where}): ${typeof pairs === 'string' ? pairs : `${pairs.length} pairs`}`)
      }
    }
    fs.copyFileSync(file, copy)
    t.equal((await cli(['verify', copy])).code, 0, `a copy made again verifies (lead ${lead})`)
    const idx = Index.open(copy, { readOnly: true })
    t.same(pairsOf(idx), afterPairs, `with the pairs of the newest commit (lead ${lead})`)
    idx.close()
  }
  t.ok(refused > 0 && refused < cases, `verify refused ${refused} of ${cases} such copies (copy again then) and accepted the others, whole at the commit before`)
})

for (const preallocate of [false, true]) {
  t.test(`copies made while two writer processes commit (preallocate: ${preallocate}) open at one of their commits and verify; Index.backup copies verify the first time`, async t => {
    const seed = Rng.seedFromEnv()
    const rng = new Rng(seed)
    t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
    const dir = tmpDir(t)
    const file = path.join(dir, 'live.idx')
    Index.open(file).close()
    const go = path.join(dir, 'go')
    // Two processes take turns, so most commits are written with two syncs; each keeps an invariant
    // that holds at every commit (pair-writer: 'tx' and 'tx-mirror' hold the same rowIds;
    // auto-writer: 'auto' holds 0..n-1).
    const pre = preallocate ? 'on' : 'off'
    const writers = [runChild('pair-writer', [file, seed, 4000, go, pre]), runChild('auto-writer', [file, seed + 1, 4000, go, pre])]
    if (!await startTogether(t, writers, go, seed)) return
    await Promise.all(writers.map(w => w.waitFor(l => l.startsWith('ack '), 60_000, 'a first commit')))

    const copies: string[] = []
    const backups: string[] = []
    const running = (): boolean => writers.some(w => w.proc.exitCode === null && w.proc.signalCode === null)
    /** One copy, made as a slow `cp` (chunks that end inside pages, pauses between them) or with copyFileSync. */
    const copyOnce = async (copy: string, slow: boolean): Promise<void> => {
      if (!slow) return fs.copyFileSync(file, copy)
      const src = await fs.promises.open(file, 'r')
      const dst = await fs.promises.open(copy, 'w')
      const chunk = Buffer.alloc(16 * 4096 + 517)
      for (let pos = 0; ;) {
        const { bytesRead } = await src.read(chunk, 0, chunk.length, pos)
        if (bytesRead === 0) break
        await dst.write(chunk, 0, bytesRead, pos)
        pos += bytesRead
        if (rng.next() < 0.3) await sleep(rng.int(3))
      }
      await src.close()
      await dst.close()
    }
    // The README's procedure for a plain copy: copy, verify, and copy again when verify refuses
    // it. With preallocation a commit can write pages both behind a copy in progress (read while
    // still zeros) and ahead of it; verify finds the pages such a copy lacks (the spec above shows
    // it). Without, no copy may need taking again (checked below). Index.backup never needs it.
    let retaken = 0
    let backupsRefused = 0
    while (running() && copies.length < 40) {
      const copy = path.join(dir, `copy-${copies.length}.idx`)
      for (let attempt = 0; attempt < 5; attempt++) {
        if (attempt > 0) fs.rmSync(copy)
        await copyOnce(copy, copies.length % 2 === 0)
        if (Index.verify(copy).ok) break
        retaken++
      }
      copies.push(copy)
      const backup = path.join(dir, `backup-${backups.length}.idx`)
      const r = Index.backup(file, backup)
      if (!Index.verify(backup).ok) backupsRefused++
      t.equal(fs.statSync(backup).size, r.bytes, `${path.basename(backup)} is ${r.bytes} bytes, as Index.backup says`)
      backups.push(backup)
      await sleep(50 + rng.int(50)) // copies spread over the writers' run
    }
    for (const w of writers) {
      const e = await w.exited
      t.equal(e.code, 0, `${w.name} ends cleanly: ${w.stderr.slice(-500)}`)
    }
    const final = Index.open(file, { readOnly: true })
    const finalSequence = final.sequence
    final.close()

    let torn = 0
    let earlier = 0
    for (const copy of [...copies, ...backups]) {
      const idx = Index.open(copy, { readOnly: true })
      const s = idx.stats()
      const bytes = fs.readFileSync(copy)
      // Zeros preallocated after the newest commit are not a torn commit; anything else is.
      if (bytes.subarray((s.commitPage + 1) * s.pageSize).some(b => b !== 0)) torn++
      if (backups.includes(copy)) t.equal(bytes.length, (s.commitPage + 1) * s.pageSize, `${path.basename(copy)} ends at its commit page`)
      if (idx.sequence < finalSequence) earlier++
      t.strictSame(idx.get('tx'), idx.get('tx-mirror'), `${path.basename(copy)} (commit ${idx.sequence}): 'tx' and 'tx-mirror' agree (seed ${seed})`)
      const auto = idx.get('auto')
      t.ok(auto.every((r, i) => r === i), `${path.basename(copy)}: 'auto' holds 0..${auto.length - 1} (seed ${seed})`)
      idx.close()
      const v = Index.verify(copy)
      t.ok(v.ok, `${path.basename(copy)} verifies (seed ${seed}): ${JSON.stringify(v.errors).slice(0, 500)}`)
    }
    t.ok(copies.length >= 4, `${copies.length} copies made while the writers ran`)
    t.ok(earlier > 0, `${earlier} copies hold an earlier commit than the file's last (${finalSequence})`)
    t.equal(backupsRefused, 0, 'every Index.backup copy verified the first time')
    if (!preallocate) t.equal(retaken, 0, 'the writers do not preallocate, so every plain copy verified the first time')
    t.comment(`${copies.length} copies (${retaken} retaken after verify refused them), ${backups.length} backups, ${earlier} at an earlier commit, ${torn} with non-zero bytes after their newest whole commit`)
  })
}
