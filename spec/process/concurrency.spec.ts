// Several processes on one file: a transactional writer, an autocommit writer and three lock-free
// readers. Readers only ever see whole commits (invariants that hold at commit boundaries only),
// see many commits go by, and the final file holds every acknowledged write of both writers.
// Also: a readOnly handle never writes, never creates the lock file, and works on a file it
// cannot write.
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 runs the writers for 30 s instead of 5 s.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index, TailrootError } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { runChild, startTogether } from '../helpers/children/run.ts'
import type { Child } from '../helpers/children/run.ts'
import { SOAK } from '../helpers/soak.ts'

const DURATION_MS = SOAK ? 30_000 : 5_000

function badLines(c: Child): string[] {
  return c.lines.filter(l => !/^(ready|ack |done )/.test(l))
}

t.test('readers see only whole commits while two writers commit', async t => {
  const seed = Rng.seedFromEnv()
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun), writers run ${DURATION_MS} ms`)
  const dir = tmpDir(t)
  const file = path.join(dir, 'shared.idx')
  const go = path.join(dir, 'go')
  const stop = path.join(dir, 'stop')
  Index.open(file, { pageSize: 1024 }).close()

  const readers = [
    runChild('reader', [file, 'readOnly', go, stop]),
    runChild('reader', [file, 'writable', go, stop]),
    runChild('reader', [file, 'readOnly', go, stop]),
  ]
  const txw = runChild('pair-writer', [file, seed, DURATION_MS, go])
  const aw = runChild('auto-writer', [file, seed + 1, DURATION_MS, go])
  const all = [...readers, txw, aw]
  // Everyone is loaded: start together.
  if (!await startTogether(t, all, go, seed)) return
  const [txExit, awExit] = await Promise.all([txw.exited, aw.exited])
  fs.writeFileSync(stop, '')
  const readerExits = await Promise.all(readers.map(r => r.exited))

  for (const [name, c, exit] of [['transactional writer', txw, txExit], ['autocommit writer', aw, awExit]] as const) {
    t.same(badLines(c), [], `the ${name} reported no problem (seed ${seed}); stderr: ${c.stderr.slice(-1500)}`)
    t.equal(exit.code, 0, `the ${name} finished cleanly (seed ${seed})`)
  }
  // The model, from acknowledgements only.
  const txModel = new Set<number>()
  let txCommits = 0
  for (const l of txw.lines) {
    const m = /^ack ([+-])(\d+) (\d+)$/.exec(l)
    if (!m) continue
    txCommits++
    if (m[1] === '+') txModel.add(Number(m[2]))
    else txModel.delete(Number(m[2]))
  }
  const autoCommits = aw.lines.filter(l => l.startsWith('ack ')).length
  t.comment(`transactional writer: ${txCommits} commits, autocommit writer: ${autoCommits} commits`)
  t.ok(txCommits >= 5 && autoCommits >= 5, `both writers committed repeatedly (tx ${txCommits}, auto ${autoCommits}; seed ${seed})`)
  t.equal(txw.lines[txw.lines.length - 1], `done ${txCommits}`, `the transactional writer acknowledged every commit it made (seed ${seed})`)
  t.equal(aw.lines[aw.lines.length - 1], `done ${autoCommits}`, `the autocommit writer acknowledged every commit it made (seed ${seed})`)

  const finalSeq = txCommits + autoCommits
  for (const [i, r] of readers.entries()) {
    t.same(badLines(r), [], `reader ${i} saw only whole commits (seed ${seed}); stderr: ${r.stderr.slice(-1500)}`)
    t.equal(readerExits[i]!.code, 0, `reader ${i} finished cleanly (seed ${seed})`)
    const done = r.lines.find(l => l.startsWith('done '))
    const [distinct, iterations, last] = (done ?? 'done 0 0 0').slice(5).split(' ').map(Number)
    t.comment(`reader ${i}: ${distinct} distinct sequences in ${iterations} reads, last ${last}`)
    t.ok(distinct! >= 5, `reader ${i} observed many commits (${distinct}; seed ${seed})`)
    t.equal(last, finalSeq, `reader ${i} ends on the final commit (seed ${seed})`)
  }

  // Every acknowledged write of both writers is in the file, and nothing else.
  const idx = Index.open(file, { readOnly: true })
  const expectTx = [...txModel].sort((a, b) => a - b)
  t.same(idx.get('tx'), expectTx, `every acknowledged transaction is there (seed ${seed})`)
  t.same(idx.get('tx-mirror'), expectTx, `with its mirror (seed ${seed})`)
  t.same(idx.get('auto'), Array.from({ length: autoCommits }, (_, i) => i), `every acknowledged autocommit insert is there (seed ${seed})`)
  t.equal(idx.count(), 2 * expectTx.length + autoCommits, `and nothing else (seed ${seed})`)
  t.equal(idx.sequence, finalSeq, `one commit per acknowledged write, none lost (seed ${seed})`)
  idx.close()
  const v = Index.verify(file)
  t.ok(v.ok, `verify ok (seed ${seed}): ${JSON.stringify(v.errors).slice(0, 1000)}`)
})

t.test('a readOnly handle never writes and never creates the lock file', async t => {
  const dir = tmpDir(t)
  const sub = path.join(dir, 'ro')
  fs.mkdirSync(sub)
  const file = path.join(sub, 'ro.idx')
  const lock = `${file}.lock`
  const w = Index.open(file, { pageSize: 512 })
  for (let i = 0; i < 50; i++) w.transaction(tx => { tx.insert(`k${i % 7}`, i); tx.insert('all', i) })
  w.close()
  fs.rmSync(lock)
  // A torn tail, as a crashed writer leaves it: a writer would cut it, a reader must not.
  fs.appendFileSync(file, Buffer.alloc(700, 0xab))
  const before = fs.readFileSync(file)
  const stat0 = fs.statSync(file)
  fs.chmodSync(file, 0o444)
  fs.chmodSync(sub, 0o555)
  try {
    const root = process.getuid?.() === 0
    if (root) t.comment('running as root: permissions do not stop writes, so this checks that readOnly itself writes nothing')
    else {
      t.throws(() => Index.open(file), { name: 'TailrootError' }, 'a writable open of the unwritable file fails')
    }

    const idx = Index.open(file, { readOnly: true })
    t.equal(idx.readOnly, true)
    t.equal(idx.sequence, 50)
    t.same(idx.get('all'), Array.from({ length: 50 }, (_, i) => i))
    t.equal(idx.count(), 100)
    t.equal(idx.refresh(), false, 'refresh finds nothing new')
    const snap = idx.snapshot()
    t.equal([...snap.range({ gte: 'k', lt: 'l' })].length, 50)
    snap.close()
    t.ok(idx.stats().fileBytes === before.length, 'stats sees the file as it is')
    for (const write of [() => idx.insert('x', 1), () => idx.delete('all', 1), () => idx.transaction(() => 1)]) {
      let err: unknown = null
      try { write() } catch (e) { err = e }
      t.ok(err instanceof TailrootError && err.code === 'READ_ONLY', `writes are refused with READ_ONLY: ${String(err)}`)
    }
    idx.close()
    t.ok(Index.verify(file).ok, 'verify (read-only too) is ok')
    t.notOk(fs.existsSync(lock), 'no lock file was created')
    t.same(fs.readdirSync(sub), ['ro.idx'], 'nothing else was created next to the file')
    const after = fs.readFileSync(file)
    t.ok(after.equals(before), 'the file bytes, torn tail included, are unchanged')
    const stat1 = fs.statSync(file)
    t.equal(stat1.mtimeMs, stat0.mtimeMs, 'the file was not even touched')
    t.equal(stat1.mode & 0o777, 0o444)
  } finally {
    // Writable again, so the temporary directory can be removed.
    fs.chmodSync(sub, 0o755)
    fs.chmodSync(file, 0o644)
  }
})
