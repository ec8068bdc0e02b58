// Index.verify reports every damaged reachable page, not only the first, and never throws for
// damage.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { PAGE_INTERNAL, PAGE_LEAF } from '../../lib/format/constants.ts'
import { tmpDir } from '../helpers/tmp.ts'

const P = 512

function build(file: string): void {
  const entries = Array.from({ length: 3000 }, (_, i) => [`key${String(i).padStart(5, '0')}`, i] as [string, number])
  Index.build(file, entries, { pageSize: P }).close()
}

function pageTypes(file: string): number[] {
  const buf = fs.readFileSync(file)
  return Array.from({ length: buf.length / P }, (_, i) => buf[i * P]!)
}

t.test('a clean file verifies', t => {
  const file = path.join(tmpDir(t), 'v.idx')
  build(file)
  const r = Index.verify(file)
  t.equal(r.ok, true)
  t.same(r.errors, [])
  t.equal(r.entries, 3000)
  t.end()
})

t.test('every damaged leaf is reported', t => {
  const file = path.join(tmpDir(t), 'v.idx')
  build(file)
  const types = pageTypes(file)
  const leaves = types.flatMap((ty, i) => ty === PAGE_LEAF ? [i] : [])
  const victims = [leaves[3]!, leaves[40]!, leaves[leaves.length - 2]!]
  const fd = fs.openSync(file, 'r+')
  for (const p of victims) fs.writeSync(fd, Buffer.from([0xff]), 0, 1, p * P + 100)
  fs.closeSync(fd)
  const r = Index.verify(file)
  t.equal(r.ok, false)
  // One error per damaged page, naming it, and one on the commit page: its data checksum (over
  // the pages the build appended) no longer matches.
  const commitPage = types.length - 1
  t.same(r.errors.map(e => e.page).sort((a, b) => a! - b!), [...victims, commitPage])
  for (const e of r.errors) t.match(e.message, e.page === commitPage ? /data checksum/ : /page \d+: checksum mismatch/)
  t.end()
})

t.test('a damaged internal page and a leaf elsewhere are both reported', t => {
  const file = path.join(tmpDir(t), 'v.idx')
  build(file)
  const types = pageTypes(file)
  const internals = types.flatMap((ty, i) => ty === PAGE_INTERNAL ? [i] : [])
  const leaves = types.flatMap((ty, i) => ty === PAGE_LEAF ? [i] : [])
  // The first internal page covers the first leaves; damage it and the last leaf.
  const victims = [internals[0]!, leaves[leaves.length - 1]!]
  const fd = fs.openSync(file, 'r+')
  for (const p of victims) fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, p * P + 20)
  fs.closeSync(fd)
  const r = Index.verify(file)
  t.equal(r.ok, false)
  t.same(r.errors.map(e => e.page).sort((a, b) => a! - b!), [...victims.sort((a, b) => a - b), types.length - 1])
  t.end()
})

t.test('a whole commit whose data fails its checksum is reported', t => {
  const file = path.join(tmpDir(t), 'v.idx')
  const entries = Array.from({ length: 3000 }, (_, i) => [`key${String(i).padStart(5, '0')}`, i] as [string, number])
  // durability 'none' commits carry no "data synced" flag, so their data checksum is checked.
  Index.build(file, entries, { pageSize: P, durability: 'none' }).close()
  const commitPage = pageTypes(file).length - 1
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 4 * P + 100)
  fs.closeSync(fd)
  const r = Index.verify(file)
  t.equal(r.ok, false)
  t.equal(r.sequence, 0, 'the index falls back to the state before the commit')
  t.same(r.errors.map(e => e.page), [commitPage])
  t.match(r.errors[0]!.message, /do not match its checksum/)
  const idx = Index.open(file, { readOnly: true })
  t.equal(idx.sequence, 0)
  t.equal(idx.count(), 0)
  idx.close()
  t.end()
})

t.test('verify does not throw for a damaged header, but does for a missing file', t => {
  const file = path.join(tmpDir(t), 'v.idx')
  build(file)
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.from([0x77]), 0, 1, 40)
  fs.closeSync(fd)
  const r = Index.verify(file)
  t.equal(r.ok, false)
  t.equal(r.errors[0]!.page, 0)
  t.throws(() => Index.verify(file + '.missing'), { code: 'NOT_FOUND' })
  t.end()
})
