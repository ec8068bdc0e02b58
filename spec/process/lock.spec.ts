// The write lock across processes and across handles of one process: a writer that cannot get
// the lock gives up with LOCKED after lockTimeoutMs (not much earlier, not much later), writes
// nothing, and succeeds once the lock is free; readers never wait for it. Every lock operation
// goes through the Vfs (fault injection reaches it, the in-memory Vfs locks too), and the lock
// follows an index file replaced under a writer. (The lock sidecar replaced under writers:
// lock-sidecar.spec.ts.)
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Index, TailrootError } from '../../lib/index.ts'
import type { FileIdentity, Vfs, VfsFile, VfsLock } from '../../lib/index.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'
import { MemVfs } from '../fuzz/mem-vfs.ts'
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
  // Compared byte for byte: a write into the zeros preallocated after the commit would not change the size.
  const bytes = fs.readFileSync(file)

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
  t.ok(fs.readFileSync(file).equals(bytes), 'the refused writes wrote nothing')
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

/** nodeVfs, recording every openLock call. */
class RecordingVfs implements Vfs {
  readonly lockOpens: [string, boolean][] = []
  open(file: string, writable: boolean): VfsFile { return nodeVfs.open(file, writable) }
  identity(file: string): FileIdentity | null { return nodeVfs.identity(file) }
  createExclusive(file: string, bytes: Buffer): boolean { return nodeVfs.createExclusive(file, bytes) }
  publish(tmp: string, file: string): boolean { return nodeVfs.publish(tmp, file) }
  openLock(file: string, create: boolean): VfsLock {
    this.lockOpens.push([path.basename(file), create])
    return nodeVfs.openLock(file, create)
  }
  remove(file: string): void { nodeVfs.remove(file) }
  replace(tmp: string, file: string): void { nodeVfs.replace(tmp, file) }
  list(dir: string): string[] { return nodeVfs.list(dir) }
}

t.test('the locks go through the Vfs: a crash injected there reaches them, and a crashed writer does not keep the lock', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'vfs.idx')
  const rec = new RecordingVfs()
  const w = Index.open(file, { vfs: rec })
  w.insert('a', 1)
  t.same(rec.lockOpens, [['vfs.idx.lock', true], ['vfs.idx', false]], 'the sidecar (created if missing) and the index file (never created) are opened through the Vfs')
  w.close()

  const vfs = new FaultyVfs()
  const f = Index.open(file, { vfs, lockTimeoutMs: 100 })
  f.insert('b', 2)
  // A crash in the middle of the commit's write: the commit page never becomes whole (40 bytes:
  // not all of its non-zero bytes, which over preallocated zeros would make it whole).
  vfs.arm({ op: 'write', nth: 1, kind: 'crash', partialBytes: 40 })
  t.throws(() => f.insert('lost', 1), { name: 'TailrootError' }, 'the crash fails the write')
  // Crashed: the lock calls throw too, as TailrootError IO, never as a foreign error.
  let err: unknown = null
  try { f.insert('after-crash', 1) } catch (e) { err = e }
  t.ok(err instanceof TailrootError && err.code === 'IO', `a write after the crash fails in the lock with IO: ${String(err)}`)
  t.match((err as Error).message, /vfs\.idx/, 'naming the file')

  const other = Index.open(file, { lockTimeoutMs: 100 })
  t.equal(other.insert('c', 3), true, 'another handle gets the lock at once: the crashed one released it')
  vfs.heal()
  t.equal(f.insert('d', 4), true, 'after heal() the crashed handle writes again')
  t.same([...other.range()].map(p => p[0]), ['a', 'b', 'c', 'd'])
  other.close()
  f.close()
  t.ok(Index.verify(file).ok)
  t.end()
})

t.test('the in-memory Vfs locks in memory, one holder per file', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'mem.idx')
  const disk = Index.open(file)
  disk.insert('a', 1)
  disk.close()
  const listing = fs.readdirSync(dir)
  const vfs = new MemVfs(true)
  vfs.set(file, fs.readFileSync(file))
  const a = Index.open(file, { vfs })
  const b = Index.open(file, { vfs, lockTimeoutMs: 100 })
  a.transaction(tx => {
    tx.insert('b', 2)
    const { err } = timedFailure(() => b.insert('c', 3))
    t.ok(err instanceof TailrootError && err.code === 'LOCKED', `the second handle gets LOCKED: ${describe(err)}`)
  })
  t.equal(b.insert('c', 3), true, 'then it writes')
  t.same([...a.range()].map(p => p[0]), ['a', 'b', 'c'])
  a.close()
  b.close()
  t.same(fs.readdirSync(dir), listing, 'nothing was created on disk')
  t.end()
})

/**
 * nodeVfs, except that once armed, it replaces the index file (same bytes, a new inode, by
 * rename) after the write lock was taken and checked, just before the handle opens the file the
 * path names (the handle switches files because the file it had was replaced before the write):
 * the handle then adopts a file the lock does not hold yet.
 */
class ReplacingVfs extends RecordingVfs {
  private readonly file: string
  armed = false
  /** 1: the index lock was taken while armed; the next open of the path replaces the file first. */
  private stage = 0

  constructor(file: string) {
    super()
    this.file = file
  }
  override open(file: string, writable: boolean): VfsFile {
    if (file === this.file && this.stage === 1) {
      this.stage = 0
      this.armed = false
      replaceByCopy(file)
    }
    return super.open(file, writable)
  }
  override openLock(file: string, create: boolean): VfsLock {
    const l = super.openLock(file, create)
    if (file !== this.file) return l
    return {
      tryLock: () => {
        const got = l.tryLock()
        if (got && this.armed) this.stage = 1
        return got
      },
      unlock: () => l.unlock(),
      identity: () => l.identity(),
      namedBy: f => l.namedBy?.(f) ?? false,
      close: () => l.close(),
    }
  }
}

/** Replaces `file` by a copy of itself (a new inode), as a restore or a compaction does. */
function replaceByCopy(file: string): void {
  const tmp = `${file}.replacement`
  fs.copyFileSync(file, tmp)
  fs.renameSync(tmp, file)
}

t.test('the index file replaced between taking the lock and the write: the lock moves to the new file', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'moved.idx')
  const vfs = new ReplacingVfs(file)
  const a = Index.open(file, { vfs })
  a.insert('x', 1)
  // Replaced while a is idle: a's next write locks the new file, then switches to the file the
  // path names, which ReplacingVfs replaces once more just before a opens it.
  replaceByCopy(file)
  const ino = fs.statSync(file).ino
  vfs.armed = true
  const b = Index.open(file, { lockTimeoutMs: 100 })
  let inner: unknown = 'not tried'
  a.transaction(tx => {
    tx.insert('y', 2)
    // b opens the file the path names now, which a's handle writes: b must wait.
    inner = timedFailure(() => b.insert('z', 3)).err
  })
  t.not(fs.statSync(file).ino, ino, 'the file was replaced during the write')
  t.ok(inner instanceof TailrootError && inner.code === 'LOCKED', `a second handle could not write during the first one's transaction: ${describe(inner)}`)
  t.equal(b.insert('z', 3), true, 'after it, it writes')
  a.close()
  b.close()
  const r = Index.open(file, { readOnly: true })
  t.same([...r.range()].map(p => p[0]), ['x', 'y', 'z'], 'every acknowledged write is in the file at the path')
  t.equal(r.sequence, 3)
  r.close()
  t.ok(Index.verify(file).ok)
  t.end()
})
