// The write lock when the file at the index path is replaced while a writer holds the lock on the
// old file, and another process holds the new file's lock: the blocking resetGate() waits for it
// (up to the timeout), while inside withoutBlocking() (the asynchronous writes' look under the
// lock) it makes one attempt and throws LockMovedError at once, holding nothing, so the caller can
// wait again on timers.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Index, TailrootError } from '../../lib/index.ts'
import { LockMovedError, WriteLock } from '../../lib/store/lock.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { runChild } from '../helpers/children/run.ts'

/**
 * Two index files, a.idx and b.idx, and a child process holding b.idx's write lock (until the
 * release file exists); a WriteLock of a.idx, not taken yet.
 */
async function scene(t: { teardown(fn: () => void): void }): Promise<{ file: string; other: string; release: string; holder: ReturnType<typeof runChild>; lock: WriteLock }> {
  const dir = tmpDir(t)
  const file = path.join(dir, 'a.idx')
  const other = path.join(dir, 'b.idx')
  for (const p of [file, other]) {
    const idx = Index.open(p)
    idx.insert(path.basename(p), 1)
    idx.close()
  }
  const release = path.join(dir, 'release')
  const holder = runChild('lock-holder', [other, release])
  t.teardown(() => holder.kill())
  await holder.waitFor(l => l === 'holding', 60_000, 'holding line')
  const lock = new WriteLock(nodeVfs, `${file}.lock`, file)
  t.teardown(() => lock.close())
  return { file, other, release, holder, lock }
}

t.test('resetGate() after the path was replaced by a file another process has locked', async t => {
  const { file, other, release, holder, lock } = await scene(t)
  // Waits that would end only by timing out, if they waited: 60 s for the non-blocking one.
  lock.acquire(60_000)
  fs.renameSync(other, file)

  const t0 = performance.now()
  const err = (() => { try { lock.withoutBlocking(() => lock.resetGate()); return null } catch (e) { return e } })()
  const ms = performance.now() - t0
  t.ok(err instanceof LockMovedError, `withoutBlocking: LockMovedError (${String(err)})`)
  t.equal((err as TailrootError).code, 'LOCKED', 'a TailrootError with code LOCKED')
  t.match((err as Error).message, /replaced/, 'the message says the file was replaced')
  t.ok(ms < 30_000, `without waiting for the 60 s timeout (${ms.toFixed(0)} ms)`)

  // It holds nothing: once the holder is done, the lock can be taken on the new file.
  fs.writeFileSync(release, '')
  t.equal((await holder.exited).code, 0, `the holder committed and exited; stderr: ${holder.stderr.slice(-500)}`)
  lock.acquire(60_000)
  lock.release()
  const idx = Index.open(file)
  t.same([...idx.range()], [['b.idx', 1], ['held', 1]], 'the new file holds its own pair and the holder\'s commit')
  idx.close()
})

t.test('the blocking resetGate() waits for the new file\'s lock up to the timeout', async t => {
  const { file, other, release, holder, lock } = await scene(t)
  lock.acquire(300)
  fs.renameSync(other, file)
  const t0 = performance.now()
  t.throws(() => lock.resetGate(), { code: 'LOCKED' }, 'LOCKED once the timeout passed')
  const ms = performance.now() - t0
  t.ok(ms >= 250, `after waiting about the timeout of 300 ms (${ms.toFixed(0)} ms)`)
  t.notOk((() => { try { lock.withoutBlocking(() => lock.resetGate()); return false } catch { return true } })(), 'not holding the lock, resetGate() has nothing to move')
  fs.writeFileSync(release, '')
  t.equal((await holder.exited).code, 0, 'the holder exited')
})
