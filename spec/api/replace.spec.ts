// A file replaced at its path (as compaction will do: write a new file, rename it over the old
// one) is detected by refresh() and by writers, and reopened; snapshots keep reading the old file.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import type { Vfs, VfsFile } from '../../lib/index.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'
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

t.test('a writer whose index file was deleted or renamed away refuses to write into the orphan', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'x.idx')
  for (const how of ['unlink', 'rename'] as const) {
    const idx = Index.open(file)
    idx.insert('before', 1)
    const away = path.join(dir, 'away.idx')
    if (how === 'unlink') fs.unlinkSync(file)
    else fs.renameSync(file, away)
    t.throws(() => idx.insert('orphan', 2), { name: 'TailrootError', code: 'NOT_FOUND', message: /deleted or renamed away/ }, `the write fails with a clear error (${how})`)
    t.same(idx.get('before'), [1], `the handle still reads what it had (${how})`)
    if (how === 'rename') {
      const moved = Index.open(away, { readOnly: true })
      t.equal(moved.sequence, 1, 'nothing was written into the renamed file')
      moved.close()
      fs.unlinkSync(away)
    }
    // Another process recreates the path: the handle adopts the new file, and writes land there.
    const other = Index.open(file)
    other.insert('other', 3)
    other.close()
    t.equal(idx.insert('after', 4), true, `writes go to the recreated file (${how})`)
    const fresh = Index.open(file, { readOnly: true })
    t.same([...fresh.range()], [['after', 4], ['other', 3]], `every acknowledged write of the new file is there (${how})`)
    fresh.close()
    idx.close()
    fs.rmSync(file)
  }
  t.end()
})

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length
}

t.test('a failed reopen leaves the handle on its old file and leaks no descriptor', { skip: fs.existsSync('/proc/self/fd') ? false : 'no /proc/self/fd' }, t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'x.idx')
  const idx = Index.build(file, pairs('old', 200), { durability: 'none' })
  const reader = Index.open(file, { readOnly: true })
  idx.insert('old0200', 200) // the writer's lock descriptors are open from here on
  t.equal(reader.refresh(), true)
  const fds = openFds()
  const original = path.join(dir, 'original.idx')
  fs.linkSync(file, original)
  const bad: [string, () => void, string][] = [
    ['other settings', () => Index.build(`${file}.next`, pairs('new', 10), { durability: 'none', unique: true }).close(), 'INVALID_ARGUMENT'],
    ['not an index', () => fs.writeFileSync(`${file}.next`, Buffer.alloc(8192, 7)), 'NOT_AN_INDEX'],
    ['a damaged header', () => { const b = fs.readFileSync(original); b[40] ^= 1; fs.writeFileSync(`${file}.next`, b) }, 'CORRUPT'],
  ]
  for (const [what, make, code] of bad) {
    make()
    fs.renameSync(`${file}.next`, file)
    t.throws(() => reader.refresh(), { name: 'TailrootError', code }, `refresh throws (${what})`)
    t.equal(openFds(), fds, `no descriptor is left open (${what})`)
    t.same(reader.get('old0007'), [7], `the handle still reads its old file (${what})`)
    t.equal(reader.count(), 201, `with its old commit (${what})`)
    t.same([...reader.range({ limit: 1 })], [['old0000', 0]], `range reads the old file (${what})`)
    t.throws(() => idx.insert('x', 1), { name: 'TailrootError' }, `a writer refuses to write too (${what})`)
    t.same(idx.get('old0001'), [1], `and still reads its old file (${what})`)
  }
  fs.rmSync(file)
  fs.linkSync(original, file)
  Index.build(`${file}.next`, pairs('new', 10), { durability: 'none' }).close()
  fs.renameSync(`${file}.next`, file)
  t.equal(reader.refresh(), true, 'a good replacement is adopted afterwards')
  t.equal(reader.count(), 10)
  t.equal(openFds(), fds, 'one descriptor for the new file, the old one released')
  reader.close()
  idx.close()
  t.end()
})

t.test('a reopen whose tail scan fails (EIO) leaves the handle on its old file', { skip: fs.existsSync('/proc/self/fd') ? false : 'no /proc/self/fd' }, t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'x.idx')
  Index.build(file, pairs('old', 200), { durability: 'none' }).close()
  // Reads past the header of any file opened while `failing` is set throw EIO.
  let failing = false
  const vfs: Vfs = {
    ...nodeVfs,
    open(f: string, writable: boolean): VfsFile {
      const inner = nodeVfs.open(f, writable)
      const poisoned = failing
      return {
        ...inner,
        read: (buf: Buffer, pos: number) => {
          if (poisoned && pos > 0) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' })
          return inner.read(buf, pos)
        },
        write: (b: Buffer, pos: number) => inner.write(b, pos),
        datasync: () => inner.datasync(),
        size: () => inner.size(),
        identity: () => inner.identity(),
        truncate: (n: number) => inner.truncate(n),
        close: () => inner.close(),
      }
    },
  }
  const reader = Index.open(file, { readOnly: true, vfs })
  t.same(reader.get('old0007'), [7])
  const fds = openFds()
  Index.build(`${file}.next`, pairs('new', 10), { durability: 'none' }).close()
  fs.renameSync(`${file}.next`, file)
  failing = true
  t.throws(() => reader.refresh(), { name: 'TailrootError', code: 'IO' }, 'the scan of the new file fails')
  failing = false
  t.equal(openFds(), fds, 'the new file\'s descriptor was released')
  t.same(reader.get('old0007'), [7], 'get reads the old file through the old commit')
  t.same(reader.get('new0007'), [], 'and not the new file')
  t.same([...reader.range({ limit: 1 })], [['old0000', 0]], 'range reads the old file')
  t.equal(reader.refresh(), true, 'a later refresh adopts the new file')
  t.same(reader.get('new0007'), [7])
  t.equal(openFds(), fds, 'the old descriptor is released then')
  reader.close()
  t.end()
})

t.test('an iterator keeps reading its commit after refresh() switched to a replacement file', { skip: fs.existsSync('/proc/self/fd') ? false : 'no /proc/self/fd' }, t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'x.idx')
  Index.build(file, pairs('old', 3000), { durability: 'none', pageSize: 512 }).close()
  const reader = Index.open(file, { readOnly: true })
  const fds = openFds()
  const whole = reader.range()
  const broken = reader.range({ reverse: true })
  const first = whole.next().value
  t.same(first, ['old0000', 0])
  t.same(broken.next().value, ['old2999', 2999])
  Index.build(`${file}.next`, pairs('new', 10), { durability: 'none', pageSize: 512 }).close()
  fs.renameSync(`${file}.next`, file)
  t.equal(reader.refresh(), true, 'the handle switched files')
  t.equal(reader.count(), 10)
  t.equal(openFds(), fds + 1, 'the old file stays open for its iterators')
  const rest = [...whole]
  t.equal(rest.length, 2999, 'the iterator read its whole commit, across many pages of the old file')
  t.same(rest[rest.length - 1], ['old2999', 2999])
  t.equal(openFds(), fds + 1, 'an unfinished iterator still holds it')
  broken.return!(undefined)
  t.equal(openFds(), fds, 'released once every iterator ended')
  reader.close()
  t.end()
})
