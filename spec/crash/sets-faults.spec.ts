// Crash atomicity of a set of named indexes (FORMAT.md §12): a transaction over three indexes
// (city, email unique, [last, first] typed) meets an I/O fault at each I/O step of its commit
// (each write, fdatasync and truncate; EIO, ENOSPC, a short write, or a crash after which all I/O
// of the handle fails, spec/helpers/faulty-vfs.ts). Afterwards a fresh handle sees either every
// index with the transaction's changes or every index without them, never one index ahead of
// another, and the file verifies. Both shapes of commit are tried: change records (a small
// commit) and a folded tree rewrite over several pages.
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Index, IndexSet, TailrootError } from '../../lib/index.ts'
import type { SetTransaction } from '../../lib/index.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'
import type { FaultKind, FaultOp } from '../helpers/faulty-vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'

const P = 512
const KINDS: FaultKind[] = ['EIO', 'ENOSPC', 'short', 'crash']
const OPS: FaultOp[] = ['write', 'datasync', 'truncate']

function row(tx: SetTransaction, i: number, del = false): void {
  const city = tx.index('city')
  const email = tx.index('email', { unique: true })
  const name = tx.index<[string, string]>('name', { keyEncoding: 'typed' })
  const f = del ? 'delete' : 'insert'
  city[f](`city-${i % 17}`, i)
  email[f](`user${i}@example.com`, i)
  name[f]([`Last${i % 31}`, `First${i}`], i)
}

/** Every index's pairs, as one comparable string per index. */
function listing(file: string): Record<string, string> {
  const set = IndexSet.open(file, { readOnly: true })
  try {
    const out: Record<string, string> = {}
    for (const n of set.names()) out[n] = JSON.stringify([...set.index(n).range()])
    return out
  } finally {
    set.close()
  }
}

interface Shape {
  name: string
  maxPendingChanges: number
  /** The transaction under test. */
  run(tx: SetTransaction): void
  /** Whether it outgrows the zeros preallocated after the base's newest commit, so it preallocates more. */
  grows: boolean
}

const SHAPES: Shape[] = [
  { name: 'change records', maxPendingChanges: 100000, run: tx => { row(tx, 1000); row(tx, 3, true) }, grows: false },
  { name: 'a folded tree rewrite', maxPendingChanges: 0, run: tx => { for (let i = 1000; i < 1060; i++) row(tx, i); for (let i = 0; i < 40; i += 3) row(tx, i, true) }, grows: true },
]

t.test('a transaction over three indexes is all or nothing at every I/O fault', async t => {
  const dir = tmpDir(t)
  for (const shape of SHAPES) {
    const base = path.join(dir, `base-${shape.maxPendingChanges}.set`)
    const set = IndexSet.open(base, { pageSize: P, maxPendingChanges: shape.maxPendingChanges, durability: 'none' })
    set.index('city')
    set.index('email', { unique: true })
    set.index('name', { keyEncoding: 'typed' })
    for (let i = 0; i < 300; i += 10) set.transaction(tx => { for (let j = i; j < i + 10; j++) row(tx, j) })
    set.close()
    const before = listing(base)
    const good = path.join(dir, 'good.set')
    fs.copyFileSync(base, good)
    const g = IndexSet.open(good, { maxPendingChanges: shape.maxPendingChanges })
    g.transaction(shape.run)
    g.close()
    const after = listing(good)
    t.not(JSON.stringify(after), JSON.stringify(before), `${shape.name}: the transaction changes every index`)
    for (const n of Object.keys(before)) t.not(after[n], before[n], `${shape.name}: it changes ${n}`)
    const outcomes = { none: 0, all: 0, zeros: 0 }
    for (const op of OPS) {
      for (const kind of KINDS) {
        for (let nth = 1; ; nth++) {
          const file = path.join(dir, 'x.set')
          fs.copyFileSync(base, file)
          const vfs = new FaultyVfs(undefined, true)
          const s = IndexSet.open(file, { vfs, maxPendingChanges: shape.maxPendingChanges })
          vfs.arm({ op, nth, kind })
          let err: unknown = null
          try { s.transaction(shape.run) } catch (e) { err = e }
          const fired = vfs.fired > 0
          const failed = vfs.log.find(r => r.failed)
          // No room for preallocated zeros refuses the preallocation, not the commit (FORMAT.md §8).
          const onZeros = failed !== undefined && failed.op === 'write' && failed.data!.every(b => b === 0) && kind !== 'EIO'
          vfs.heal()
          s.close()
          const label = `${shape.name}, ${kind} at ${op} #${nth}`
          if (!fired) {
            t.equal(err, null, `${label}: no fault, the commit succeeds`)
            break
          }
          if (onZeros && err === null) {
            t.same(listing(file), after, `${label}: the fault hit the preallocated zeros; the commit went on without them`)
            outcomes.zeros++
            t.ok(Index.verify(file).ok, `${label}: the file verifies`)
            fs.rmSync(file)
            fs.rmSync(`${file}.lock`, { force: true })
            continue
          }
          t.ok(err instanceof TailrootError && err.code === 'IO', `${label}: the commit fails with IO`)
          const now = listing(file)
          const state = JSON.stringify(now) === JSON.stringify(before) ? 'none' : JSON.stringify(now) === JSON.stringify(after) ? 'all' : 'mixed'
          if (state === 'mixed') t.same(now, before, `${label}: every index with the transaction or every index without it`)
          else outcomes[state]++
          const v = Index.verify(file)
          if (!v.ok) t.same(v.errors, [], `${label}: the file verifies`)
          fs.rmSync(file)
          fs.rmSync(`${file}.lock`, { force: true })
        }
      }
    }
    t.ok(outcomes.none > 0, `${shape.name}: failed commits left every index as it was (${outcomes.none} cases)`)
    t.ok(outcomes.all > 0, `${shape.name}: a fault after the commit page was written left every index changed (${outcomes.all} cases)`)
    if (shape.grows) t.ok(outcomes.zeros > 0, `${shape.name}: a commit whose preallocation found no room went on without it (${outcomes.zeros} cases)`)
  }
})
