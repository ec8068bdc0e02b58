// I/O faults during an asynchronous group commit (spec/helpers/faulty-vfs.ts): the whole group
// is rejected with IO, every call in it, including calls that would have succeeded and calls that
// would have failed on their own. A fault before the commit page is written (a page write, the
// sync before the commit page) leaves the file byte for byte as it was up to its newest commit,
// with only zeros after it. A fault at the sync after the commit page, or a short write that
// leaves the commit page whole over preallocated zeros, leaves a whole commit page, which is never
// cut (faults.spec.ts): the group is then wholly there or wholly absent, never in part. Either
// way the handle goes on committing once the fault is gone, and the file verifies.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index, TailrootError } from '../../lib/index.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'
import type { FaultRule } from '../helpers/faulty-vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { listIndex } from './pair-set.ts'

const GROUP = 30

/** A file with some commits, and a fresh handle on it through a FaultyVfs. */
function setup(t: Tap, name: string): { file: string; vfs: FaultyVfs; idx: Index } {
  const file = path.join(tmpDir(t), `${name}.idx`)
  const w = Index.open(file, { preallocate: true, pageSize: 512, unique: true })
  for (let i = 0; i < 20; i++) w.insert(`base${String(i).padStart(2, '0')}`, i)
  w.close()
  const vfs = new FaultyVfs()
  const idx = Index.open(file, { preallocate: true, pageSize: 512, vfs })
  t.teardown(() => idx.close())
  return { file, vfs, idx }
}
type Tap = { teardown(fn: () => void): void }

/** Queues one group: inserts, a transaction, a delete, and a call that fails on its own. */
function queueGroup(idx: Index, tag: string): Promise<unknown>[] {
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < GROUP; i++) calls.push(idx.insertAsync(`${tag}${String(i).padStart(2, '0')}`, i))
  calls.push(idx.transactionAsync(tx => { tx.insert(`${tag}-tx`, 1); tx.delete('base00', 0) }))
  calls.push(idx.insertAsync('base01', 99)) // a unique violation
  return calls
}

async function outcomes(calls: Promise<unknown>[]): Promise<string[]> {
  return Promise.all(calls.map(p => p.then(v => `resolved ${String(v)}`, (e: unknown) => `rejected ${e instanceof TailrootError ? e.code : String(e)}`)))
}

const BEFORE_COMMIT_PAGE: { what: string; rule: FaultRule }[] = [
  { what: 'EIO at the sync before the commit page', rule: { op: 'datasync', nth: 1, kind: 'EIO' } },
  { what: 'ENOSPC writing the pages', rule: { op: 'write', nth: 1, kind: 'ENOSPC' } },
  // 40 bytes: the page header and part of the commit fields, not its fileId, so not a whole
  // commit page even when the first write is the commit page itself (records inline).
  { what: 'a short write of the pages', rule: { op: 'write', nth: 1, kind: 'short', partialBytes: 40 } },
]

for (const { what, rule } of BEFORE_COMMIT_PAGE) {
  t.test(`${what}: the whole group rejects and the file is as it was`, async t => {
    const { file, vfs, idx } = setup(t, 'before')
    const bytes = fs.readFileSync(file)
    const end = (idx.stats().commitPage + 1) * 512
    const seq = idx.sequence
    // A fresh handle does not know the last commit durable, so its first commit syncs twice.
    vfs.arm(rule)
    const out = await outcomes(queueGroup(idx, 'g'))
    t.equal(vfs.fired, 1, 'the fault fired')
    t.same(new Set(out), new Set(['rejected IO']), `every call of the group rejects with IO: ${[...new Set(out)].join(', ')}`)
    const now = fs.readFileSync(file)
    t.ok(now.subarray(0, end).equals(bytes.subarray(0, end)), 'the file is byte for byte as it was up to its newest commit')
    t.ok(now.subarray(end).every(b => b === 0), 'and only zeros follow it')
    t.equal(idx.sequence, seq)
    t.equal(idx.count(), 20, 'the handle reads the state before the group')
    vfs.heal()
    const again = await outcomes(queueGroup(idx, 'h'))
    t.same(again, [...Array<string>(GROUP).fill('resolved true'), 'resolved undefined', 'rejected UNIQUE_VIOLATION'], 'after the fault the next group commits')
    t.equal(idx.sequence, seq + 1)
    t.ok(Index.verify(file).ok, 'the file verifies')
  })
}

t.test('a fault at the sync after the commit page: the group rejects, and is wholly there or wholly absent', async t => {
  for (const kind of ['EIO', 'crash'] as const) {
    const { file, vfs, idx } = setup(t, `after-${kind}`)
    t.equal((await outcomes(queueGroup(idx, 'a'))).filter(o => o.startsWith('resolved')).length, GROUP + 1, `${kind}: a first group commits`)
    const before = listIndex(idx)
    // The handle made the last commit durable: the next one is written with a single sync.
    vfs.arm({ op: 'datasync', nth: 1, kind })
    const out = await outcomes(queueGroup(idx, 'g'))
    t.same(new Set(out), new Set(['rejected IO']), `${kind}: every call of the group rejects with IO`)
    t.match(vfs.log, [{ op: 'write' }, { op: 'datasync', failed: true }], `${kind}: one write (pages and commit page), then the failed sync`)
    const fresh = Index.open(file, { preallocate: true, readOnly: true })
    const now = listIndex(fresh)
    fresh.close()
    const withGroup = listIndex({ range: () => idxAfter(before).values() })
    t.ok(JSON.stringify(now) === JSON.stringify(before) || JSON.stringify(now) === JSON.stringify(withGroup), `${kind}: the file holds the state before the group or after all of it`)
    vfs.heal()
    t.equal(await idx.insertAsync('later', 1), true, `${kind}: the handle commits again once the fault is gone`)
    const v = Index.verify(file)
    t.ok(v.ok, `${kind}: the file verifies`)
  }
})

t.test('a short write that leaves the commit page whole over preallocated zeros: the group rejects, in doubt, and is wholly there', async t => {
  const { file, vfs, idx } = setup(t, 'whole')
  const before = listIndex(idx)
  const end = (idx.stats().commitPage + 1) * 512
  t.ok(fs.statSync(file).size > end, 'the setup left preallocated zeros after its newest commit')
  // A fresh handle syncs twice: the sync, then the commit page (the records fit in it) as the
  // first write, of which all but the last byte lands. That byte is zero: the page is whole.
  vfs.arm({ op: 'write', nth: 1, kind: 'short', partialBytes: 511 })
  const calls = queueGroup(idx, 'g')
  const errors = await Promise.all(calls.map(p => p.then(() => null, (e: unknown) => e)))
  t.match(vfs.log, [{ op: 'datasync' }, { op: 'write', position: end, length: 512, failed: true }], 'the sync, then the failed write of the commit page')
  t.ok(errors.every(e => e instanceof TailrootError && e.code === 'IO' && /may or may not be durable/.test(e.message)), 'every call of the group rejects with IO, the outcome in doubt')
  const fresh = Index.open(file, { preallocate: true, readOnly: true })
  const now = listIndex(fresh)
  fresh.close()
  t.same(now, listIndex({ range: () => idxAfter(before).values() }), 'the commit page is whole, so the group is wholly there')
  vfs.heal()
  t.equal(await idx.insertAsync('later', 1), true, 'the handle commits again once the fault is gone')
  const s = idx.stats()
  t.ok(fs.readFileSync(file).subarray((s.commitPage + 1) * 512).every(b => b === 0), 'only zeros follow the newest commit')
  t.ok(Index.verify(file).ok, 'the file verifies')
})

/** The pairs after queueGroup(idx, 'g') applied whole to `before` (the unique violation fails). */
function idxAfter(before: string[]): [string, number][] {
  const pairs = before.map(l => { const i = l.indexOf('\t'); return [l.slice(0, i), Number(l.slice(i + 1))] as [string, number] })
  const out = pairs.filter(([k, r]) => !(k === 'base00' && r === 0))
  for (let i = 0; i < GROUP; i++) out.push([`g${String(i).padStart(2, '0')}`, i])
  out.push(['g-tx', 1])
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))
}
