// Asynchronous writes waiting for the write lock another process holds: the event loop keeps
// running (a timer keeps firing at its rate, reads are served), the wait ends with LOCKED after
// lockTimeoutMs or with ABORTED when the call's AbortSignal aborts, nothing is written then, and
// a call still waiting when the holder commits goes in on top of the holder's commit.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Index, TailrootError } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { runChild } from '../helpers/children/run.ts'

function codeOf(err: unknown): string {
  return err instanceof TailrootError ? err.code : String(err)
}

t.test('an async write waiting for a lock held by another process does not block the event loop', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'locked.idx')
  const release = path.join(dir, 'release')
  const w = Index.open(file, { lockTimeoutMs: 1000 })
  w.insert('before', 1)
  const holder = runChild('lock-holder', [file, release])
  t.teardown(() => holder.kill())
  await holder.waitFor(l => l === 'holding', 60_000, 'holding line')
  // Compared byte for byte: a write into the zeros preallocated after the commit would not change the size.
  const bytes = fs.readFileSync(file)

  // A 10 ms timer runs while the write waits its lockTimeoutMs of 1000 ms.
  let ticks = 0
  let reads = 0
  const timer = setInterval(() => {
    ticks++
    if (w.get('before').length === 1) reads++
  }, 10)
  const t0 = performance.now()
  let ran = false
  const group = [w.insertAsync('w', 1), w.transactionAsync(tx => { ran = true; tx.insert('w', 2) }), w.deleteAsync('before', 1)]
  const errs = await Promise.all(group.map(p => p.then(() => null, (e: unknown) => e)))
  const err = errs[0]
  const ms = performance.now() - t0
  clearInterval(timer)
  t.same(errs.map(codeOf), ['LOCKED', 'LOCKED', 'LOCKED'], 'every call of the group rejects with LOCKED')
  t.notOk(ran, 'the transaction callback never ran')
  t.match((err as Error).message, /1000/, 'the message names the timeout')
  t.ok(ms >= 900, `after about lockTimeoutMs (${ms.toFixed(0)} ms)`)
  // About 100 ticks are due; a busy machine may delay many, but a blocked loop would give ~0.
  t.ok(ticks >= Math.floor(ms / 10 / 5), `the timer kept firing: ${ticks} ticks in ${ms.toFixed(0)} ms`)
  t.equal(reads, ticks, 'and every tick read the index')
  t.ok(fs.readFileSync(file).equals(bytes), 'nothing was written')

  // An AbortSignal ends the wait long before the timeout.
  const patient = Index.open(file, { lockTimeoutMs: 60_000 })
  t.teardown(() => patient.close())
  const t1 = performance.now()
  const aborted = await patient.insertAsync('w', 2, { signal: AbortSignal.timeout(150) }).then(() => null, (e: unknown) => e)
  const ms1 = performance.now() - t1
  t.equal(codeOf(aborted), 'ABORTED', 'the signal aborts the wait')
  t.ok(ms1 >= 100 && ms1 < 10_000, `when it aborts (${ms1.toFixed(0)} ms), not after lockTimeoutMs`)
  t.ok(fs.readFileSync(file).equals(bytes), 'nothing was written')

  // A call waiting when the holder commits goes in after the holder's commit.
  const waiting = patient.insertAsync('w', 3)
  const alsoWaiting = patient.transactionAsync(tx => tx.get('held'))
  fs.writeFileSync(release, '')
  t.equal(await waiting, true, 'the waiting write commits once the lock is free')
  t.same(await alsoWaiting, [1], 'on top of the holder\'s commit')
  t.equal((await holder.exited).code, 0, `the holder finished cleanly; stderr: ${holder.stderr.slice(-1000)}`)
  t.same([...patient.range()], [['before', 1], ['held', 1], ['w', 3]])
  w.close()
})
