// A file replaced at its path (as compaction will do: write a new file, rename it over the old
// one) is detected by refresh() and by writers, and reopened; snapshots keep reading the old file.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'

function pairs(prefix: string, n: number): [string, number][] {
  return Array.from({ length: n }, (_, i) => [`${prefix}${String(i).padStart(4, '0')}`, i] as [string, number])
}

t.test('refresh reopens a replaced file; a snapshot keeps the old one', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'x.idx')
  const idx = Index.build(file, pairs('old', 500), { durability: 'none' })
  const reader = Index.open(file, { readOnly: true })
  const snap = reader.snapshot()
  t.equal(snap.count(), 500)

  // Replace: a new index with other content, renamed over the path.
  const next = path.join(dir, 'x.idx.next')
  Index.build(next, pairs('new', 300), { durability: 'none' }).close()
  fs.renameSync(next, file)

  t.equal(reader.count(), 500, 'implicit checks look at the old file size only')
  t.equal(reader.refresh(), true, 'refresh sees the replacement')
  t.equal(reader.count(), 300)
  t.same(reader.get('new0007'), [7])
  t.same(reader.get('old0007'), [], 'the new file does not have the old keys')

  t.equal(snap.count(), 500, 'the snapshot still reads the old file')
  t.same(snap.get('old0007'), [7])
  t.same([...snap.range({ limit: 2 })], [['old0000', 0], ['old0001', 1]])
  snap.close()

  // The writer that had the old file open notices the replacement under the lock.
  t.equal(idx.insert('new9999', 9999), true)
  t.equal(idx.count(), 301, 'the write went to the new file')
  reader.refresh()
  t.same(reader.get('new9999'), [9999])
  t.ok(Index.verify(file).ok)
  idx.close()
  reader.close()
  t.end()
})

t.test('a replaced file with other settings is refused on refresh', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'y.idx')
  const reader = Index.build(file, pairs('a', 10), { durability: 'none' })
  const next = path.join(dir, 'y.next')
  Index.build(next, pairs('b', 10), { durability: 'none', unique: true }).close()
  fs.renameSync(next, file)
  t.throws(() => reader.refresh(), { code: 'INVALID_ARGUMENT' })
  t.equal(reader.count(), 10, 'the handle still reads the file it had')
  reader.close()
  t.end()
})
