// A long-lived reader after a writer failed must end up reading exactly what a fresh handle
// reads, whatever the writer's failure left behind and the next writer did about it.
//
// 1. A crashed writer's torn tail is replaced by a commit that leaves the file exactly as long
//    as the torn tail did: refresh() must still adopt that commit.
// 2. A writer writes its commit page, then its final fdatasync fails (EIO) and it cuts the
//    commit off again. A reader that looked in between adopted that commit; the next writer
//    writes other pages at the same page numbers. The reader must not keep the retracted commit
//    nor its cached pages.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index, TailrootError } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'
import { describeDiff, listIndex } from './pair-set.ts'

for (const preallocate of [false, true]) {
  t.test(`refresh() adopts a commit that replaced a torn tail ${preallocate ? 'in preallocated space' : 'of the same size'}`, t => {
    const dir = tmpDir(t)
    const file = path.join(dir, 'tail.idx')
    const P = 512
    const base = Index.open(file, { pageSize: P, maxPendingChanges: 0, preallocate })
    for (let i = 0; i < 3; i++) base.insert(`k${i}`, i)
    t.equal(base.stats().height, 1, 'a one-leaf tree: an insert appends exactly one data page')
    const committedSize = base.stats().fileBytes
    const commitEnd = (base.stats().commitPage + 1) * P
    t.equal(committedSize > commitEnd, preallocate, `zeros follow the commit exactly when preallocating (${committedSize} bytes, commit ends at ${commitEnd})`)
    base.close()

    const explicit = Index.open(file, { readOnly: true })
    const implicit = Index.open(file, { readOnly: true, maxStalenessMs: 0 })
    t.equal(explicit.sequence, 3)
    t.equal(implicit.sequence, 3)

    // Writer A dies between its data page and its commit page.
    const vfs = new FaultyVfs()
    const a = Index.open(file, { vfs, maxPendingChanges: 0, preallocate })
    vfs.arm({ op: 'datasync', nth: 1, kind: 'crash' })
    t.throws(() => a.insert('lost', 1), TailrootError)
    const tornSize = fs.statSync(file).size
    const torn = fs.readFileSync(file).subarray(commitEnd)
    t.equal(tornSize, preallocate ? committedSize : committedSize + P, 'A left one torn data page after the last commit')
    t.ok(torn[0] !== 0 && torn.subarray(P).every(b => b === 0), 'a torn data page right after the commit, then only zeros')

    t.equal(explicit.refresh(), false, 'the reader sees nothing new in the torn tail')
    t.equal(implicit.sequence, 3)
    t.equal(explicit.refresh(), false, 'nor when it looks again')

    // Writer B removes the torn tail and commits one page.
    const b = Index.open(file, { preallocate })
    b.transaction(() => {}, { meta: Buffer.from('B') })
    t.equal(b.sequence, 4, 'B\'s commit is acknowledged')
    if (!preallocate) t.equal(fs.statSync(file).size, tornSize, 'the file has exactly the size it had with the torn tail')
    else t.ok(fs.readFileSync(file).subarray(commitEnd + P).every(b => b === 0), 'only zeros follow B\'s commit page')
    b.close()

    t.equal(explicit.refresh(), true, 'refresh() reports that the view moved')
    t.equal(explicit.sequence, 4, 'refresh() adopts B\'s commit')
    t.equal(explicit.meta?.toString(), 'B')
    t.equal(implicit.sequence, 4, 'a read with maxStalenessMs 0 adopts it too')
    explicit.close()
    implicit.close()
    a.close()
    t.end()
  })
}

t.test('a reader that saw a commit its writer then retracted (fdatasync EIO) follows the file', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'retracted.idx')
  const base = Index.open(file, { pageSize: 512, maxPendingChanges: 0 })
  base.transaction(tx => { for (let i = 0; i < 300; i++) tx.insert(`k${String(i).padStart(3, '0')}`, i) })
  t.equal(base.stats().height, 2, 'a two-level tree: commits touching different leaves write different nodes at the same page numbers')
  base.close()

  const reader = Index.open(file, { readOnly: true })
  const vfs = new FaultyVfs()
  const w = Index.open(file, { vfs, maxPendingChanges: 0 })
  let sawIt = false
  // The commit page is whole when the final fdatasync fails: a reader looking at that instant
  // adopts the commit (nothing tells it apart from a good one) and caches its pages.
  vfs.arm({ op: 'datasync', nth: 2, kind: 'EIO', onFire: () => { reader.refresh(); sawIt = reader.has('k000a', 1); listIndex(reader) } })
  t.throws(() => w.insert('k000a', 1), TailrootError, 'the commit fails')
  t.ok(sawIt, 'the reader had adopted the commit before it was cut off')
  vfs.heal()
  w.close()

  const w2 = Index.open(file, { maxPendingChanges: 0 })
  w2.insert('k150a', 2)
  let fresh = Index.open(file, { readOnly: true })
  reader.refresh()
  t.equal(reader.sequence, fresh.sequence, 'after refresh the reader is on the newest commit')
  t.equal(describeDiff(listIndex(fresh), listIndex(reader)), null, 'and reads what a fresh handle reads')
  fresh.close()

  w2.insert('k299a', 3)
  fresh = Index.open(file, { readOnly: true })
  reader.refresh()
  t.equal(reader.sequence, fresh.sequence, 'after another commit the reader is on the newest commit')
  t.same(reader.get('k150a'), fresh.get('k150a'), 'get agrees with a fresh handle')
  t.same(reader.get('k000a'), fresh.get('k000a'), 'the retracted pair is gone')
  t.equal(describeDiff(listIndex(fresh), listIndex(reader)), null, 'and everything else agrees')
  fresh.close()
  w2.close()
  reader.close()
  t.end()
})
