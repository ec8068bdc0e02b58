/**
 * How a writer checks that the path still names its file, and what it knows of the file's size,
 * without a stat of the index file in steady state (vfs.ts, namedBy; FORMAT.md §8 rule T, §9):
 * a stat of a file makes the next write's fdatasync slower on recent Linux.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Index } from '../../lib/index.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'
import { CountingVfs } from '../helpers/counting-vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'

const linuxProc = process.platform === 'linux' && fs.existsSync('/proc/self/fd')
const key = (i: number): string => `key-${String(i).padStart(6, '0')}`

t.test('namedBy: true exactly while the path names the open file', { skip: linuxProc ? false : 'needs /proc/self/fd (Linux)' }, async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'a.bin')
  fs.writeFileSync(file, 'a')
  const f = nodeVfs.open(file, true)
  const l = nodeVfs.openLock(file, false)
  t.teardown(() => { f.close(); l.close() })
  t.equal(f.namedBy!(file), true, 'the path it was opened by')
  t.equal(l.namedBy!(file), true, 'a lock open too')
  t.equal(f.namedBy!(path.relative(process.cwd(), file)), true, 'a relative path to it')
  t.equal(f.namedBy!(path.join(dir, 'x', '..', 'a.bin')), true, 'a path with .. in it')
  t.equal(f.namedBy!(path.join(dir, 'b.bin')), false, 'another path')

  const moved = path.join(dir, 'moved.bin')
  fs.renameSync(file, moved)
  t.equal(f.namedBy!(file), false, 'renamed away: not the old path')
  t.equal(f.namedBy!(moved), true, 'but the new one')
  fs.renameSync(moved, file)
  t.equal(f.namedBy!(file), true, 'renamed back')

  fs.writeFileSync(path.join(dir, 'other.bin'), 'b')
  fs.renameSync(path.join(dir, 'other.bin'), file)
  t.equal(f.namedBy!(file), false, 'another file renamed over it')
  t.equal(l.namedBy!(file), false, 'for the lock open too')

  const g = nodeVfs.open(file, false)
  t.teardown(() => g.close())
  fs.rmSync(file)
  t.equal(g.namedBy!(file), false, 'deleted')
  fs.writeFileSync(file, 'c')
  t.equal(g.namedBy!(file), false, 'deleted, and a new file created at the path')

  // Through a symbolic link the kernel's path differs: not known this way (the caller stats).
  const real = path.join(dir, 'real')
  fs.mkdirSync(real)
  fs.writeFileSync(path.join(real, 'i.bin'), 'd')
  fs.symlinkSync(real, path.join(dir, 'link'))
  const viaLink = path.join(dir, 'link', 'i.bin')
  const h = nodeVfs.open(viaLink, false)
  t.teardown(() => h.close())
  t.equal(h.namedBy!(viaLink), false, 'a path through a symbolic link is not known')
  t.equal(h.namedBy!(path.join(real, 'i.bin')), true, 'its real path is')
})

t.test('steady-state commits stat neither the index path nor the open file', { skip: linuxProc ? false : 'needs /proc/self/fd (Linux)' }, async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'quiet.idx')
  const vfs = new CountingVfs()
  const idx = Index.open(file, { vfs })
  idx.insert(key(0), 0)
  idx.insert(key(1), 1)
  vfs.reset()
  const seq0 = idx.sequence
  let n = 2
  // Single inserts, transactions, enough to extend the preallocated space several times.
  for (let i = 0; i < 300; i++) {
    if (i % 10 === 0) idx.transaction(tx => { for (let j = 0; j < 50; j++) tx.insert(key(n), n++) })
    else idx.insert(key(n), n++)
  }
  await idx.insertAsync(key(n), n++)
  await Promise.all([idx.insertAsync(key(n), n++), idx.transactionAsync(tx => tx.insert(key(n), n++))])
  t.equal(vfs.statsOf(file), 0, 'no stat of the index path')
  t.equal(vfs.sizes, 0, 'no fstat for the file size')
  t.equal(vfs.fileIdentities, 0, 'no fstat for an identity')
  t.equal(vfs.statsOf(`${file}.lock`), idx.sequence - seq0, 'the sidecar (never written) is checked with a stat, once per commit')
  t.equal(idx.count(), n)
  idx.close()
  t.ok(Index.verify(file).ok)
})

t.test('through a symbolic link the writer stats the path, and still refuses a file moved away', async t => {
  const dir = tmpDir(t)
  fs.mkdirSync(path.join(dir, 'real'))
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'))
  const file = path.join(dir, 'link', 'l.idx')
  const vfs = new CountingVfs()
  const idx = Index.open(file, { vfs })
  idx.insert(key(0), 0)
  vfs.reset()
  idx.insert(key(1), 1)
  t.ok(vfs.statsOf(file) >= 1, `the path is checked with a stat (${vfs.statsOf(file)})`)
  fs.renameSync(path.join(dir, 'real', 'l.idx'), path.join(dir, 'real', 'away.idx'))
  t.throws(() => idx.insert(key(2), 2), { name: 'TailrootError', code: 'NOT_FOUND' }, 'a write after the file moved away is refused')
  idx.close()
  const r = Index.open(path.join(dir, 'real', 'away.idx'), { readOnly: true })
  t.same([...r.range()].map(p => p[0]), [key(0), key(1)], 'the refused write is not in the file')
  r.close()
})

t.test('without a stat, a file moved away or replaced is still noticed under the lock', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'm.idx')
  const idx = Index.open(file)
  idx.insert(key(0), 0)
  fs.renameSync(file, path.join(dir, 'away.idx'))
  t.throws(() => idx.insert(key(1), 1), { name: 'TailrootError', code: 'NOT_FOUND' }, 'renamed away: NOT_FOUND')
  fs.renameSync(path.join(dir, 'away.idx'), file)
  t.equal(idx.insert(key(1), 1), true, 'back at its path: writes again')
  // Replaced by a copy holding one more pair (a restore): the writer adopts it.
  const other = path.join(dir, 'other.idx')
  fs.copyFileSync(file, other)
  const o = Index.open(other)
  o.insert(key(9), 9)
  o.close()
  fs.renameSync(other, file)
  t.equal(idx.insert(key(2), 2), true)
  t.same([...idx.range()].map(p => p[0]), [key(0), key(1), key(2), key(9)], 'the write went into the file at the path')
  idx.close()
  t.ok(Index.verify(file).ok)
})

/** The file's size in bytes and its newest commit page, read by a fresh handle. */
function shape(file: string): { fileBytes: number; commitPage: number } {
  const r = Index.open(file, { readOnly: true })
  const s = r.stats()
  r.close()
  return { fileBytes: s.fileBytes, commitPage: s.commitPage }
}

t.test('rule T without the size: the tail cut back, or extended with zeros, by another writer', async t => {
  const dir = tmpDir(t)
  for (const change of ['cut to the commit', 'extended with zeros'] as const) {
    const file = path.join(dir, `${change.replace(/ /g, '-')}.idx`)
    const idx = Index.open(file, { pageSize: 512 })
    let n = 0
    for (; n < 20; n++) idx.insert(key(n), n)
    const before = shape(file)
    t.ok(before.fileBytes > (before.commitPage + 1) * 512, `${change}: preallocated zeros follow the commit`)
    // What another writer may do under the lock without committing: cut a tail back to the end
    // of the newest commit (rule T), or preallocate and die before its first page.
    if (change === 'cut to the commit') fs.truncateSync(file, (before.commitPage + 1) * 512)
    else fs.appendFileSync(file, Buffer.alloc(64 * 512))
    for (let i = 0; i < 40; i++, n++) idx.insert(key(n), n)
    idx.transaction(tx => { for (let j = 0; j < 200; j++, n++) tx.insert(key(n), n) })
    idx.close()
    const after = shape(file)
    const buf = fs.readFileSync(file)
    t.ok(buf.subarray((after.commitPage + 1) * 512).every(b => b === 0), `${change}: only zeros follow the newest commit`)
    t.ok(Index.verify(file).ok, `${change}: verify ok`)
    const r = Index.open(file, { readOnly: true })
    t.equal(r.count(), n, `${change}: every pair is there`)
    r.close()
  }
})
