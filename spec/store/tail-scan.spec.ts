// The tail scan (lib/store/tail-scan.ts, FORMAT.md §8): linear in the pages it reads whatever
// the file holds, independent of the length of a zero tail, and strict about chains of unsynced
// ('none') commits, whose trees point into each other's pages.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { COMMIT_DATA_SYNCED } from '../../lib/format/constants.ts'
import { NO_LOG, decodeCommit, encodeCommit } from '../../lib/format/commit.ts'
import type { Commit } from '../../lib/format/commit.ts'
import { decodeHeader, isHeaderProblem } from '../../lib/format/header.ts'
import { tmpDir } from '../helpers/tmp.ts'

function fileIdOf(bytes: Buffer): Buffer {
  const h = decodeHeader(bytes)
  if (isHeaderProblem(h)) throw new Error(h.message)
  return h.fileId
}

/** Every well-formed commit page of a file, oldest first. */
function commitsOf(bytes: Buffer, P: number): Commit[] {
  const id = fileIdOf(bytes)
  const out: Commit[] = []
  for (let p = 1; p < bytes.length / P; p++) {
    const c = decodeCommit(bytes.subarray(p * P, (p + 1) * P), p, id)
    if (c) out.push(c)
  }
  return out
}

/** A commit page with the given fields, sealed (valid CRC), for this file. */
function craftedCommit(bytes: Buffer, P: number, c: Partial<Commit> & { page: number }): Buffer {
  const full: Commit = {
    sequence: 1, root: 0, height: 0, flags: 0, entryCount: 0, prevCommit: 0, firstDataPage: 1, dataCrc: 0,
    livePages: 0, timestamp: 0, meta: null, ...NO_LOG, ...c,
  }
  return encodeCommit(full, fileIdOf(bytes), P)
}

t.test('open is linear in the pages of a file full of commit pages whose data checksums fail', t => {
  const dir = tmpDir(t)
  const P = 512
  const pages = 8192 // 4 MiB
  const base = path.join(dir, 'base.idx')
  Index.open(base, { pageSize: P }).close()
  const header = fs.readFileSync(base)
  for (const shape of ['every commit claims all pages below it', 'every commit follows the one before it', 'commits with data pages between them'] as const) {
    const bytes = Buffer.alloc(pages * P)
    header.copy(bytes, 0, 0, P)
    for (let p = 1, seq = 1, prev = 0; p < pages; p++, seq++) {
      let c: Partial<Commit> & { page: number }
      if (shape === 'every commit claims all pages below it') c = { page: p, sequence: seq, firstDataPage: 1, prevCommit: 0, dataCrc: 12345 }
      else if (shape === 'every commit follows the one before it') c = { page: p, sequence: seq, firstDataPage: prev + 1, prevCommit: prev, dataCrc: 12345 }
      else {
        // three junk data pages, then a commit claiming them with a wrong checksum
        if (p % 4 !== 0) { bytes.fill(0xee, p * P, (p + 1) * P); continue }
        c = { page: p, sequence: seq, firstDataPage: prev + 1, prevCommit: prev, dataCrc: 12345 }
      }
      craftedCommit(bytes, P, c).copy(bytes, p * P)
      prev = p
    }
    const file = path.join(dir, 'crafted.idx')
    fs.writeFileSync(file, bytes)
    const idx = Index.open(file, { readOnly: true })
    t.equal(idx.sequence, 0, `no commit is valid (${shape})`)
    const reads = idx.stats().pageReads
    t.ok(reads <= 3 * pages, `open read ${reads} pages of ${pages} (${shape}); quadratic would be ~${(pages * pages / 2).toExponential(1)}`)
    // The rejected tail is unchanged since open: a look does not scan it again.
    t.notOk(idx.refresh(), `refresh finds nothing new (${shape})`)
    const more = idx.stats().pageReads - reads
    t.ok(more <= 2, `a look after open read ${more} more pages (${shape})`)
    idx.close()
    const v = Index.verify(file)
    t.notOk(v.ok, `verify reports the rejected commits (${shape})`)
  }
  t.end()
})

t.test('a long zero tail: open and refresh read O(log pages) pages', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'sparse.idx')
  const idx = Index.open(file, { pageSize: 4096 })
  idx.transaction(tx => { for (let i = 0; i < 500; i++) tx.insert(`key${i}`, i) })
  idx.insert('last', 1)
  const end = fs.statSync(file).size
  const TiB = 2 ** 40
  let size = TiB
  try {
    fs.truncateSync(file, TiB)
  } catch {
    size = 2 ** 36 // file systems with a smaller limit: 64 GiB still shows the difference
    fs.truncateSync(file, size)
  }
  const start = process.hrtime.bigint()
  const r = Index.open(file, { readOnly: true })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  t.comment(`open with a zero tail of ${(size / 2 ** 30).toFixed(0)} GiB took ${ms.toFixed(1)} ms, ${r.stats().pageReads} page reads`)
  t.equal(r.sequence, 2, 'the newest commit is found')
  t.same(r.get('last'), [1], 'and read')
  t.ok(r.stats().pageReads <= 80, `open reads O(log pages) pages: ${r.stats().pageReads}`)
  // Reading one page per 4 KiB of a terabyte took ~45 minutes; the bound is generous for a busy machine.
  t.ok(ms < 5000, `open took ${ms.toFixed(0)} ms`)

  // A reader that knows the last commit looks again after another handle commits.
  const before = r.stats().pageReads
  idx.insert('more', 2) // the writer cuts the zero tail under the lock, then appends
  t.equal(fs.statSync(file).size > end, true, 'the writer appended after cutting the zero tail')
  t.equal(r.refresh(), true, 'the reader adopts the new commit')
  t.same(r.get('more'), [2])
  t.ok(r.stats().pageReads - before < 80, 'and reads few pages doing so')
  // Zeros appended again after the newest commit (preallocation): a refresh stays cheap.
  fs.truncateSync(file, size)
  const b2 = r.stats().pageReads
  t.equal(r.refresh(), false, 'nothing new behind the zeros')
  t.ok(r.stats().pageReads - b2 < 80, `a refresh over the zero tail reads few pages: ${r.stats().pageReads - b2}`)
  r.close()
  idx.close()
  t.end()
})

t.test("durability 'none': a later commit is not trusted when the earlier pages its tree uses are lost", t => {
  const dir = tmpDir(t)
  const P = 512
  for (const base of ['no earlier commit', "a 'full' commit first"] as const) {
    const file = path.join(dir, `chain-${base === 'no earlier commit' ? 0 : 1}.idx`)
    let firstSeq = 0
    if (base !== 'no earlier commit') {
      const full = Index.open(file, { pageSize: P })
      full.insert('base', 0)
      full.close()
      firstSeq = 1
    }
    const idx = Index.open(file, { pageSize: P, durability: 'none' })
    idx.transaction(tx => { for (let i = 0; i < 40; i++) tx.insert(`a${String(i).padStart(3, '0')}`, i) })
    idx.insert('zzz', 1) // rewrites only the rightmost leaf and the root: other leaves stay shared
    idx.close()
    const bytes = fs.readFileSync(file)
    const cs = commitsOf(bytes, P)
    const [c1, c2] = cs.slice(-2) as [Commit, Commit]
    t.equal(c2.prevCommit, c1.page, 'the second none commit follows the first')
    // Zero a leaf of commit 1 that commit 2 still reaches (its first data page, the leftmost leaf).
    const victim = c1.firstDataPage
    bytes.fill(0, victim * P, (victim + 1) * P)
    fs.writeFileSync(file, bytes)
    const r = Index.open(file)
    t.equal(r.sequence, firstSeq, `the index opens at the newest commit all of whose pages are intact (${base})`)
    t.same(r.get('base'), firstSeq ? [0] : [], `and reads it (${base})`)
    t.same([...r.range()].length, firstSeq, `range works (${base})`)
    t.equal(r.insert('after', 9), true, `a new commit works (${base})`)
    t.equal(r.sequence, firstSeq + 1)
    r.close()
    t.ok(Index.verify(file).ok, `verify ok after the new commit (${base})`)
  }
  t.end()
})

t.test("a 'full' commit that appends no pages still syncs the 'none' commits below it first", t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'meta.idx')
  const none = Index.open(file, { pageSize: 512, durability: 'none' })
  none.insert('a', 1)
  none.close()
  const full = Index.open(file, { pageSize: 512 })
  full.transaction(() => {}, { meta: Buffer.from('m') })
  full.close()
  const bytes = fs.readFileSync(file)
  const cs = commitsOf(bytes, 512)
  const last = cs[cs.length - 1]!
  t.equal(last.firstDataPage, last.page, 'the metadata commit appended no pages')
  t.ok(last.flags & COMMIT_DATA_SYNCED, 'and is marked synced (the sync itself is checked in spec/crash/faults.spec.ts)')
  t.end()
})
