/**
 * The asynchronous writes: insertAsync, deleteAsync and transactionAsync give the results and
 * errors of their synchronous twins; calls made while a commit is in flight share the next
 * commit (one sync), in call order; a failing call rejects alone; reads see a write once its
 * promise resolved, never before; flush, close, AbortSignal and option checks.
 */
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import type { Transaction, Vfs } from '../../lib/index.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'
import { MAX_GROUP_CALLS } from '../../lib/api/write-queue.ts'
import { ChangeLog } from '../../lib/tree/change-log.ts'
import { GatedVfs } from '../helpers/gated-vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'

/** The settled outcome of a promise: its value, or the code (or message) of its rejection. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p
  } catch (err) {
    return err instanceof TailrootError ? `rejected ${err.code}` : `rejected ${(err as Error).message}`
  }
}

function openGated(t: Test, o: { unique?: boolean } = {}): { idx: Index; vfs: GatedVfs; file: string } {
  const vfs = new GatedVfs()
  const file = path.join(tmpDir(t), 'a.idx')
  const idx = Index.open(file, { pageSize: 512, vfs, ...o })
  t.teardown(() => { vfs.release(); idx.close() })
  return { idx, vfs, file }
}

t.test('calls made together share one commit with one sync, applied in call order', async t => {
  const { idx, vfs } = openGated(t)
  idx.insert('old', 1)
  // The handle made the previous commit durable itself, so one sync suffices (FORMAT.md §8).
  const seq = idx.sequence
  const blocking = vfs.blockingSyncs
  const calls = [
    idx.insertAsync('a', 1), idx.deleteAsync('a', 1), idx.insertAsync('a', 1),
    idx.insertAsync('b', 1), idx.insertAsync('b', 1),
    idx.deleteAsync('old', 1), idx.deleteAsync('old', 1), idx.deleteAsync('never', 1),
    idx.transactionAsync(tx => [tx.has('a', 1), tx.has('b', 1), tx.has('old', 1), tx.count()]),
  ]
  t.same(await Promise.all(calls), [true, true, true, true, false, true, false, false, [true, true, false, 2]],
    'each call returns what the synchronous call would have, on the state the calls before it left')
  t.equal(idx.sequence, seq + 1, 'one commit')
  t.equal(vfs.asyncSyncs, 1, 'one sync, off the main thread')
  t.equal(vfs.blockingSyncs, blocking, 'and no blocking sync')
  t.same([...idx.range()], [['a', 1], ['b', 1]])
})

t.test('a call that fails rejects alone; the others of its group commit', async t => {
  const { idx } = openGated(t, { unique: true })
  const big = 'x'.repeat(idx.maxKeyBytes + 1)
  const boom = new Error('boom')
  let stashed: Transaction | null = null
  const calls = [
    idx.insertAsync('u', 1),
    idx.insertAsync('u', 2),
    idx.insertAsync('v', -1),
    idx.insertAsync(big, 1),
    idx.transactionAsync(tx => { tx.insert('t', 1); tx.insert('t2', 1); throw boom }),
    idx.transactionAsync(tx => { tx.insert('w', 1); tx.insert('u', 3) }),
    // The callback of an async transaction is synchronous too.
    idx.transactionAsync(tx => { tx.insert('p', 1); return Promise.resolve(1) }),
    idx.transactionAsync(tx => { stashed = tx; tx.delete('u', 1); tx.insert('u', 4); return tx.get('u') }),
    idx.insertAsync('u', 1),
  ]
  const out = await Promise.all(calls.map(outcome))
  t.same(out, [
    true, 'rejected UNIQUE_VIOLATION', 'rejected INVALID_ARGUMENT', 'rejected KEY_TOO_LARGE', 'rejected boom',
    'rejected UNIQUE_VIOLATION', 'rejected INVALID_ARGUMENT', [4], 'rejected UNIQUE_VIOLATION',
  ], 'unique violations, bad input and throwing callbacks reject only their own call')
  t.rejects(calls[4]! as Promise<void>, boom, 'a throwing callback rejects with what it threw')
  t.same([...idx.range()], [['u', 4]], 'the failed calls left nothing, not even the first half of a transaction')
  t.equal(idx.sequence, 1, 'one commit')
  t.throws(() => stashed!.insert('late', 1), { code: 'CLOSED' }, 'a transaction object is dead once its group ended')
})

t.test('transactionAsync: the meta option, result, and a group without changes commits nothing', async t => {
  const { idx } = openGated(t)
  t.equal(await idx.transactionAsync(tx => { tx.insert('m', 1); return 'result' }, { meta: Buffer.from('first') }), 'result')
  t.equal(idx.meta?.toString(), 'first')
  const before = idx.sequence
  t.equal(await idx.transactionAsync(tx => tx.count(), { meta: Buffer.from('second') }), 1)
  t.equal(idx.sequence, before + 1, 'given meta, a transaction that changed nothing else commits')
  t.equal(idx.meta?.toString(), 'second')
  await idx.transactionAsync(() => {}, { meta: null })
  t.equal(idx.meta, null, 'meta: null clears it, in a commit of its own')
  t.equal(idx.sequence, before + 2)
  const seq = idx.sequence
  t.same(await Promise.all([idx.insertAsync('m', 1), idx.deleteAsync('none', 1), idx.transactionAsync(tx => tx.count())]), [false, false, 1])
  t.equal(idx.sequence, seq, 'calls that change nothing make no commit')
})

t.test('reads during an in-flight commit see the state before its group; after it resolves, they see it', async t => {
  const { idx, vfs, file } = openGated(t)
  await idx.insertAsync('base', 1)
  const seq = idx.sequence
  vfs.hold()
  let firstDone = false
  const first = idx.insertAsync('k', 1).then(v => {
    firstDone = true
    // Within the same turn as the resolution: the handle reads the commit already.
    t.ok(idx.has('k', 1), 'the resolved write is visible at once')
    t.equal(idx.sequence, seq + 1)
    return v
  })
  await vfs.syncStarted(vfs.asyncSyncs + 1)
  // The group's pages and commit page are in the file; its sync has not returned.
  t.notOk(idx.has('k', 1), 'an in-flight write is not visible')
  t.equal(idx.sequence, seq, 'the handle still reads the commit before the group')
  t.equal(idx.count(), 1)
  t.notOk(idx.refresh(), 'refresh does not adopt the in-flight commit either')
  const snap = idx.snapshot()
  // Calls made now wait for the next group.
  const second = idx.insertAsync('k', 2)
  t.notOk(idx.has('k', 2), 'a queued write is not visible')
  t.notOk(firstDone)
  vfs.release()
  t.equal(await first, true)
  t.notOk(idx.has('k', 2), 'the next group has not committed yet')
  t.equal(await second, true)
  t.same(idx.get('k'), [1, 2])
  t.equal(idx.sequence, seq + 2, 'the call made during the commit went into the next one')
  t.same(snap.get('k'), [], 'a snapshot taken during the commit reads the state before it')
  snap.close()
  const other = Index.open(file, { readOnly: true })
  t.same(other.get('k'), [1, 2])
  other.close()
})

t.test('a group commit merges its changes into the pending log while it syncs; were that to fail, the commit stands', async t => {
  const { idx, file } = openGated(t)
  await idx.insertAsync('base', 1)
  const seq = idx.sequence
  // The merge cannot fail (each change is effective against the log it came from): make it fail
  // once, to check the handle then reads the commit from the file instead.
  const merge = ChangeLog.prototype.merge
  let armed = true
  ChangeLog.prototype.merge = function (this: ChangeLog, ...args: Parameters<ChangeLog['merge']>): ChangeLog {
    if (armed) { armed = false; throw new Error('internal error in the test') }
    return merge.apply(this, args)
  }
  t.teardown(() => { ChangeLog.prototype.merge = merge })
  t.same(await Promise.all([idx.insertAsync('k', 1), idx.insertAsync('k', 2), idx.deleteAsync('base', 1)]), [true, true, true])
  t.notOk(armed, 'the merge failed')
  t.equal(idx.sequence, seq + 1, 'the group committed')
  t.same(idx.get('k'), [1, 2])
  t.equal(idx.count(), 2)
  t.equal(await idx.insertAsync('k', 3), true, 'the next group starts from the commit')
  t.same(idx.get('k'), [1, 2, 3])
  const other = Index.open(file, { readOnly: true })
  t.same([...other.range()], [['k', 1], ['k', 2], ['k', 3]])
  other.close()
  t.ok(Index.verify(file).ok)
})

t.test('synchronous writes refuse to overtake queued asynchronous ones; flush waits for them', async t => {
  const { idx } = openGated(t)
  t.resolves(idx.flush(), 'flush with nothing queued')
  const p = idx.insertAsync('a', 1)
  const q = idx.insertAsync('a', 1)
  t.throws(() => idx.insert('b', 1), { code: 'INVALID_ARGUMENT' }, 'insert while async writes are queued')
  t.throws(() => idx.transaction(() => {}), { code: 'INVALID_ARGUMENT' }, 'transaction too')
  const bad = idx.insertAsync('c', 1.5)
  let flushed = false
  const f = idx.flush().then(() => { flushed = true })
  const late = idx.insertAsync('d', 1)
  await f
  t.ok(flushed)
  t.equal(await p, true)
  t.equal(await q, false)
  t.equal(await outcome(bad), 'rejected INVALID_ARGUMENT', 'flush resolves even when a queued write failed')
  await late
  t.equal(idx.insert('b', 1), true, 'once everything settled, synchronous writes work again')
  t.same([...idx.range()], [['a', 1], ['b', 1], ['d', 1]])
})

t.test('close(): queued writes reject with CLOSED, the commit in flight completes', async t => {
  const vfs = new GatedVfs()
  const file = path.join(tmpDir(t), 'c.idx')
  const idx = Index.open(file, { pageSize: 512, vfs })
  t.teardown(() => vfs.release())
  await idx.insertAsync('base', 1)
  vfs.hold()
  const inFlight = idx.insertAsync('a', 1)
  await vfs.syncStarted(vfs.asyncSyncs + 1)
  const queued = [idx.insertAsync('b', 1), idx.transactionAsync(tx => tx.insert('c', 1))]
  idx.close()
  t.throws(() => idx.count(), { code: 'CLOSED' }, 'reads throw CLOSED at once')
  t.equal(await outcome(idx.insertAsync('d', 1)), 'rejected CLOSED', 'calls after close reject')
  t.same(await Promise.all(queued.map(outcome)), ['rejected CLOSED', 'rejected CLOSED'], 'queued calls reject')
  vfs.release()
  t.equal(await inFlight, true, 'the commit in flight completes')
  const other = Index.open(file, { readOnly: true })
  t.same([...other.range()], [['a', 1], ['base', 1]], 'with exactly the in-flight group written')
  other.close()
  // The file was released after that commit: a writer can take the lock at once.
  const w = Index.open(file, { lockTimeoutMs: 0 })
  t.equal(w.insert('e', 1), true)
  w.close()

  const idx2 = Index.open(file)
  const never = [idx2.insertAsync('f', 1), idx2.deleteAsync('a', 1)]
  idx2.close()
  t.same(await Promise.all(never.map(outcome)), ['rejected CLOSED', 'rejected CLOSED'], 'calls not yet in a group reject')
  const r = Index.open(file, { readOnly: true })
  t.same(r.get('f'), [])
  t.same(r.get('a'), [1], 'nothing of them was written')
  r.close()
})

t.test('AbortSignal: rejects a call with ABORTED while it waits, not once its commit began', async t => {
  const { idx, vfs } = openGated(t)
  await idx.insertAsync('base', 1)
  t.equal(await outcome(idx.insertAsync('x', 1, { signal: AbortSignal.abort() })), 'rejected ABORTED', 'an aborted signal rejects at once')
  vfs.hold()
  const ac1 = new AbortController()
  const inFlight = idx.insertAsync('a', 1, { signal: ac1.signal })
  await vfs.syncStarted(vfs.asyncSyncs + 1)
  const ac2 = new AbortController()
  const queued = idx.insertAsync('b', 1, { signal: ac2.signal })
  const other = idx.insertAsync('c', 1)
  ac1.abort()
  ac2.abort(new Error('request gone'))
  const err = await queued.catch((e: unknown) => e)
  t.ok(err instanceof TailrootError && err.code === 'ABORTED', 'the queued call rejects with ABORTED')
  t.equal(((err as Error).cause as Error).message, 'request gone', 'carrying the reason as its cause')
  vfs.release()
  t.equal(await inFlight, true, 'aborting after the commit began changes nothing')
  t.equal(await other, true)
  t.same([...idx.range()], [['a', 1], ['base', 1], ['c', 1]])
})

t.test('refused calls: read-only handles, bad options, bad callbacks', async t => {
  const { idx, file } = openGated(t)
  await idx.insertAsync('a', 1)
  const ro = Index.open(file, { readOnly: true })
  t.equal(await outcome(ro.insertAsync('b', 1)), 'rejected READ_ONLY')
  t.equal(await outcome(ro.transactionAsync(() => 1)), 'rejected READ_ONLY')
  ro.close()
  const bad = (o: unknown): Promise<unknown> => outcome(idx.insertAsync('b', 1, o as never))
  t.equal(await bad({ nope: 1 }), 'rejected INVALID_ARGUMENT', 'unknown option')
  t.equal(await bad({ signal: {} }), 'rejected INVALID_ARGUMENT', 'a signal that is no AbortSignal')
  t.equal(await bad({ meta: Buffer.from('m') }), 'rejected INVALID_ARGUMENT', 'meta is for transactionAsync')
  t.equal(await bad(null), 'rejected INVALID_ARGUMENT')
  t.equal(await outcome(idx.transactionAsync(() => 1, { meta: 'text' as never })), 'rejected INVALID_ARGUMENT')
  t.equal(await outcome(idx.transactionAsync('fn' as never)), 'rejected INVALID_ARGUMENT')
  t.equal(await outcome(idx.transactionAsync(() => { idx.close() })), 'rejected INVALID_ARGUMENT', 'close() inside the callback')
  t.equal(await outcome(idx.transactionAsync(() => idx.insert('z', 1))), 'rejected INVALID_ARGUMENT', 'a synchronous write inside the callback')
  t.same([...idx.range()], [['a', 1]])
})

t.test('the event loop keeps running while a large group commit syncs', async t => {
  const { idx, vfs } = openGated(t)
  await idx.insertAsync('base', 1)
  const blocking = vfs.blockingSyncs
  const syncs = vfs.asyncSyncs
  const seq = idx.sequence
  // About 2.4 MB of change records: more than one write, and a commit synced twice.
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < 2000; i++) {
    calls.push(idx.transactionAsync(tx => { for (let j = 0; j < 20; j++) tx.insert(`${String(i).padStart(5, '0')}/${String(j).padStart(2, '0')}/${'p'.repeat(50)}`, j) }))
  }
  vfs.hold()
  await vfs.syncStarted(syncs + 1)
  // The sync is held: timers must keep firing and reads keep being served meanwhile.
  const counts: number[] = []
  await new Promise<void>(resolve => {
    const timer = setInterval(() => {
      counts.push(idx.count())
      if (counts.length === 10) { clearInterval(timer); resolve() }
    }, 2)
  })
  t.same(counts, Array(10).fill(1), 'ten timer ticks during the sync, each read served with the state before the group')
  vfs.release()
  await Promise.all(calls)
  t.equal(idx.sequence, seq + 1, 'the 2000 calls made one commit')
  t.equal(idx.count(), 40001)
  t.equal(vfs.asyncSyncs, syncs + 2, 'synced twice (a commit over 1 MiB), both off the main thread')
  t.equal(vfs.blockingSyncs, blocking, 'no blocking sync')
})

t.test('a long queue is committed in groups of at most MAX_GROUP_CALLS calls', async t => {
  const file = path.join(tmpDir(t), 'long.idx')
  const idx = Index.open(file, { durability: 'none' })
  t.teardown(() => idx.close())
  const calls: Promise<boolean>[] = []
  for (let i = 0; i < MAX_GROUP_CALLS + 10; i++) calls.push(idx.insertAsync(`k${i}`, i))
  t.ok((await Promise.all(calls)).every(v => v))
  t.equal(idx.sequence, 2, 'two commits')
  t.equal(idx.count(), MAX_GROUP_CALLS + 10)
})

t.test('a Vfs without datasyncAsync: group commits sync with its blocking datasync', async t => {
  let blocking = 0
  const plain: Vfs = {
    ...nodeVfs,
    open(file, writable) {
      const f = nodeVfs.open(file, writable)
      return {
        read: (b, p) => f.read(b, p), write: (b, p) => f.write(b, p), size: () => f.size(), identity: () => f.identity(),
        truncate: l => f.truncate(l), close: () => f.close(), datasync: () => { blocking++; f.datasync() },
      }
    },
  }
  const idx = Index.open(path.join(tmpDir(t), 'plain.idx'), { vfs: plain })
  t.teardown(() => idx.close())
  t.same(await Promise.all([idx.insertAsync('a', 1), idx.insertAsync('b', 1)]), [true, true])
  t.equal(idx.sequence, 1)
  t.ok(blocking >= 1, `synced with datasync() (${blocking} times)`)
})

t.test('two handles of one process writing asynchronously to one file take turns without blocking', async t => {
  const file = path.join(tmpDir(t), 'two.idx')
  const a = Index.open(file, { lockTimeoutMs: 30_000 })
  const b = Index.open(file, { lockTimeoutMs: 30_000 })
  t.teardown(() => { a.close(); b.close() })
  const calls: Promise<boolean>[] = []
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 10; i++) calls.push(a.insertAsync(`a${round}`, i), b.insertAsync(`b${round}`, i))
    await new Promise(resolve => setImmediate(resolve))
  }
  t.ok((await Promise.all(calls)).every(v => v), 'every call resolved true')
  // Each handle waits for the lock on timers while the other's group syncs.
  t.equal(a.count(), 400, 'handle a sees both handles\' writes')
  t.equal(b.count(), 400, 'so does handle b')
  t.ok(a.sequence < 400, `in fewer commits than calls (${a.sequence})`)
})
