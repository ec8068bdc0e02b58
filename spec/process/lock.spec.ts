// The write lock across processes and across handles of one process: a writer that cannot get
// the lock gives up with LOCKED after lockTimeoutMs (not much earlier, not much later), writes
// nothing, and succeeds once the lock is free; readers never wait for it.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Index, TailrootError } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { runChild } from '../helpers/children/run.ts'

/** Runs fn, which must throw; returns the error and how long fn took. */
function timedFailure(fn: () => unknown): { err: unknown; ms: number } {
  const t0 = performance.now()
  try {
    fn()
  } catch (err) {
    return { err, ms: performance.now() - t0 }
  }
  return { err: null, ms: performance.now() - t0 }
}

function describe(err: unknown): string {
  return err instanceof TailrootError ? `${err.code}: ${err.message}` : String(err)
}

t.test('another process holds a transaction open: LOCKED after the timeout, then success', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'locked.idx')
  const release = path.join(dir, 'release')
  const w = Index.open(file, { lockTimeoutMs: 300 })
  w.insert('before', 1)
  const holder = runChild('lock-holder', [file, release])
  t.teardown(() => holder.kill())
  await holder.waitFor(l => l === 'holding', 60_000, 'holding line')
  const size = fs.statSync(file).size

  // Readers do not take the lock: a read-only handle and the writer's own reads go on.
  const r = Index.open(file, { readOnly: true })
  const t0 = performance.now()
  t.same(r.get('before'), [1], 'a reader reads while the lock is held')
  t.equal(w.count(), 1, 'so does the blocked writer handle')
  // The lock stays held until the file below is created, so a read that needed it would hang or
  // fail; the bound is loose only to tolerate a loaded machine.
  t.ok(performance.now() - t0 < 2000, 'without waiting for the lock')
  r.close()

  let ran = false
  for (const attempt of [
    { what: 'an autocommit insert', run: () => w.insert('w', 1) },
    { what: 'a transaction', run: () => w.transaction(tx => { ran = true; tx.insert('w', 2) }) },
  ]) {
    ran = false
    const { err, ms } = timedFailure(attempt.run)
    t.ok(err instanceof TailrootError && err.code === 'LOCKED', `${attempt.what} fails with LOCKED: ${describe(err)}`)
    t.ok(ms >= 250, `after waiting about lockTimeoutMs (${ms.toFixed(0)} ms >= 250)`)
    t.ok(ms < 1000, `and well under a second (${ms.toFixed(0)} ms < 1000)`)
    t.match((err as Error).message, /\b\d+ ?ms\b/, `the message says how long it waited: ${(err as Error).message}`)
    t.match((err as Error).message, /300/, 'and names the timeout')
    t.notOk(ran, 'the transaction callback never ran')
  }
  t.equal(fs.statSync(file).size, size, 'the refused writes wrote nothing')
  t.equal(w.count('w'), 0)

  fs.writeFileSync(release, '')
  const committed = await holder.waitFor(l => l.startsWith('committed '), 60_000, 'committed line')
  const exit = await holder.exited
  t.equal(exit.code, 0, `the holder finished cleanly; stderr: ${holder.stderr.slice(-1000)}`)
  t.equal(committed, 'committed 2', 'the holder committed on top of the first commit')
  t.equal(w.insert('w', 1), true, 'once the lock is free the write succeeds')
  t.same(w.get('held'), [1], 'on top of the holder\'s commit')
  t.equal(w.sequence, 3)
  w.close()
  t.ok(Index.verify(file).ok)
})

t.test('two handles in one process: the second waits for the first one\'s transaction and times out', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'two.idx')
  const a = Index.open(file)
  const b = Index.open(file, { lockTimeoutMs: 300 })
  a.transaction(tx => {
    tx.insert('a', 1)
    // flock belongs to the open file description, so b's lock file descriptor is refused while
    // a's is locked, as if b were another process. But everything here is synchronous: a's
    // transaction cannot go on while b waits inside it, so b can only time out, never get the lock.
    const { err, ms } = timedFailure(() => b.insert('b', 1))
    t.ok(err instanceof TailrootError && err.code === 'LOCKED', `the second handle gets LOCKED: ${describe(err)}`)
    t.ok(ms >= 250 && ms < 1000, `after about lockTimeoutMs (${ms.toFixed(0)} ms)`)
    t.equal(b.count(), 0, 'the second handle still reads (the first transaction is not committed yet)')
  })
  t.equal(b.insert('b', 1), true, 'after the transaction the second handle writes')
  t.same([...b.range()], [['a', 1], ['b', 1]], 'on top of the first handle\'s commit')
  t.equal(a.sequence, 2, 'and the first handle sees it')
  a.close()
  b.close()
  t.ok(Index.verify(file).ok)
  t.end()
})
