// Index.verify reports every damaged reachable page, not only the first, and never throws for
// damage. On crafted files it visits each page once, lists at most 100 errors (counting the rest),
// and reports a height that does not match the tree instead of following it. The crafted files
// that used to make it run for hours run in a child process with a time limit.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { PAGE_INTERNAL, PAGE_LEAF } from '../../lib/format/constants.ts'
import { sharedChildFile, twoLeafFile } from '../fuzz/craft.ts'
import { runCrafted } from '../fuzz/crafted-run.ts'
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
  t.equal(r.omittedErrors, 0)
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
  // Flip a byte of the file id (random: setting it to a fixed value would leave it unchanged 1 time in 256).
  const fd = fs.openSync(file, 'r+')
  const b = Buffer.alloc(1)
  fs.readSync(fd, b, 0, 1, 40)
  b[0] = b[0]! ^ 0x77
  fs.writeSync(fd, b, 0, 1, 40)
  fs.closeSync(fd)
  const r = Index.verify(file)
  t.equal(r.ok, false)
  t.equal(r.errors[0]!.page, 0)
  t.throws(() => Index.verify(file + '.missing'), { code: 'NOT_FOUND' })
  t.end()
})

t.test('more than 100 errors: the first 100 are listed and the rest counted', t => {
  const file = path.join(tmpDir(t), 'v.idx')
  const entries = Array.from({ length: 9000 }, (_, i) => [`key${String(i).padStart(5, '0')}`, i] as [string, number])
  Index.build(file, entries, { pageSize: P }).close()
  const leaves = pageTypes(file).flatMap((ty, i) => ty === PAGE_LEAF ? [i] : [])
  t.ok(leaves.length > 150, `${leaves.length} leaves`)
  const fd = fs.openSync(file, 'r+')
  for (const p of leaves.slice(0, 150)) fs.writeSync(fd, Buffer.from([0xff]), 0, 1, p * P + 100)
  fs.closeSync(fd)
  const r = Index.verify(file)
  t.equal(r.ok, false)
  t.equal(r.errors.length, 100, 'the list stops at 100')
  t.equal(r.omittedErrors, 51, '150 damaged leaves and the data checksum: 51 left out')
  t.end()
})

interface CraftedVerify { ok: boolean; errors: number; omittedErrors: number; secondVisits: number }

function verifyInChild(t: Test, file: string, what: string): CraftedVerify | null {
  const r = runCrafted(file, 'verify')
  t.equal(r.status, 0, `${what}: verify finishes (signal ${r.signal}): ${r.out.slice(0, 300)}`)
  const m = /^ok (.*)$/m.exec(r.out)
  t.ok(m, `${what}: verify returns a result`)
  return m ? JSON.parse(m[1]!) as CraftedVerify : null
}

t.test('shared children: each page is visited once, a page reached twice is reported', t => {
  const dir = tmpDir(t)
  // Height 40, every internal node pointing twice at one child: 2^39 paths, 40 pages.
  const dag = path.join(dir, 'dag40.idx')
  fs.writeFileSync(dag, sharedChildFile(40))
  const a = verifyInChild(t, dag, 'height 40')
  if (a) {
    t.equal(a.ok, false)
    t.equal(a.secondVisits, 39, 'one page reached twice below each of the 39 internal nodes')
    t.equal(a.omittedErrors, 0)
  }
  // Fan-out 8: more errors than the list keeps.
  const wide = path.join(dir, 'wide.idx')
  fs.writeFileSync(wide, sharedChildFile(16, 8))
  const b = verifyInChild(t, wide, 'fan-out 8')
  if (b) {
    t.equal(b.errors, 100, 'the list stops at 100')
    t.ok(b.omittedErrors > 0 && b.errors + b.omittedErrors <= 16 * 8 * 2, `${b.omittedErrors} errors left out, a few per page`)
  }
  // The deepest tree a commit can name: recursion as deep as the height, and no deeper.
  const deep = path.join(dir, 'dag255.idx')
  fs.writeFileSync(deep, sharedChildFile(255))
  const c = verifyInChild(t, deep, 'height 255')
  if (c) t.ok(c.ok === false && c.errors + c.omittedErrors <= 255 * 4, `${c.errors + c.omittedErrors} errors for 255 pages`)
  t.end()
})

t.test('a commit height that does not match the tree is reported, not followed', t => {
  const dir = tmpDir(t)
  const good = path.join(dir, 'good.idx')
  fs.writeFileSync(good, twoLeafFile(2))
  const g = Index.verify(good)
  t.same([g.ok, g.errors, g.entries, g.pages], [true, [], 6, 3], 'the crafted tree itself is valid')
  for (const height of [1, 3, 255]) {
    const file = path.join(dir, `h${height}.idx`)
    fs.writeFileSync(file, twoLeafFile(height))
    const r = Index.verify(file)
    t.equal(r.ok, false, `height ${height}: not ok`)
    t.same(r.errors.map(e => e.page), [3], `height ${height}: one error, on the root page`)
    t.match(r.errors[0]?.message, /page 3: is a node at level 1 where level \d+ was expected/)
    const idx = Index.open(file, { readOnly: true })
    t.throws(() => idx.get('a'), { code: 'CORRUPT', page: 3 }, `height ${height}: reads say CORRUPT`)
    t.throws(() => [...idx.range()], { code: 'CORRUPT', page: 3 })
    idx.close()
  }
  t.end()
})
