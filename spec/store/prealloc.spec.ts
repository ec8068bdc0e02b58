/**
 * Preallocation (FORMAT.md §8, "Preallocation and the tail" and "Following the tail"): the chunk
 * policy, what the file holds after commits, the cost of reopening and of following the tail
 * (counted through a Vfs), and the removal of a torn tail with a hole in preallocated space.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Index, IndexSet } from '../../lib/index.ts'
import { PREALLOC_MAX_BYTES, PREALLOC_MIN_PAGES, preallocEnd } from '../../lib/store/commit-writer.ts'
import { CMT_OFF_FIRST_DATA, MAX_PAGE_NO, PAGE_COMMIT } from '../../lib/format/constants.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'
import type { OpRecord } from '../helpers/faulty-vfs.ts'
import { CountingVfs } from '../helpers/counting-vfs.ts'

const key = (i: number): string => `key-${String(i).padStart(8, '0')}`

/** Every byte from `offset` on is zero. */
function zerosFrom(file: string, offset: number): boolean {
  return fs.readFileSync(file).subarray(offset).every(b => b === 0)
}

t.test('the chunk policy: an eighth of the file, from 16 pages to 64 MiB', async t => {
  t.equal(preallocEnd(3, 4096), 3 + PREALLOC_MIN_PAGES, 'a small file gets the minimum (64 KiB at 4 KiB pages)')
  t.equal(preallocEnd(8 * 1000, 4096), 8000 + 1000, 'a larger one an eighth of itself')
  t.equal(preallocEnd(8 * 100, 4096), 800 + 100, 'from 16 × 8 pages on, an eighth of itself')
  t.equal(preallocEnd(1 << 22, 4096), (1 << 22) + PREALLOC_MAX_BYTES / 4096, 'a 16 GiB file at most 64 MiB')
  t.equal(preallocEnd(100, 65536), 100 + PREALLOC_MIN_PAGES, 'the minimum is in pages (1 MiB at 64 KiB pages)')
  t.equal(preallocEnd(MAX_PAGE_NO - 10, 512), MAX_PAGE_NO + 1, 'never past the last page number')
})

t.test('commits overwrite preallocated zeros; the file grows in chunks; only zeros follow the newest commit', async t => {
  const dir = tmpDir(t)
  for (const durability of ['full', 'none'] as const) {
    const file = path.join(dir, `grow-${durability}.idx`)
    const P = 512
    const idx = Index.open(file, { preallocate: true, pageSize: P, durability })
    const sizes = new Set<number>()
    let extensions = 0
    let last = fs.statSync(file).size
    for (let i = 0; i < 1500; i++) {
      idx.transaction(tx => { for (let j = 0; j < 3; j++) tx.insert(key(i * 3 + j), i) })
      const s = idx.stats()
      const end = (s.commitPage + 1) * P
      if (s.fileBytes !== last) {
        extensions++
        // An extension reaches exactly the chunk the policy gives for the commit that needed it.
        if (s.fileBytes !== preallocEnd(s.commitPage + 1, P) * P) t.fail(`commit ${s.sequence}: the file grew to ${s.fileBytes}, expected ${preallocEnd(s.commitPage + 1, P) * P}`)
        last = s.fileBytes
      }
      if (s.tailBytes !== s.fileBytes - end) t.fail(`commit ${s.sequence}: tailBytes ${s.tailBytes}, expected ${s.fileBytes - end}`)
      sizes.add(s.fileBytes)
    }
    const s = idx.stats()
    t.ok(zerosFrom(file, (s.commitPage + 1) * P), `only zeros follow the newest commit (${durability})`)
    t.ok(s.tailBytes > 0, `there are preallocated bytes after it (${durability}): ${s.tailBytes}`)
    t.ok(extensions >= 2 && extensions < s.sequence / 20, `the file grew ${extensions} times in ${s.sequence} commits (${durability})`)
    idx.close()
    t.ok(Index.verify(file).ok, `verify (${durability})`)
    const again = Index.open(file, { preallocate: true, readOnly: true })
    t.equal(again.count(), 4500, `a fresh handle reads every pair (${durability})`)
    again.close()
  }
})

t.test('asynchronous group commits preallocate as synchronous ones do: zeros before the commit page, synced by its sync', async t => {
  const dir = tmpDir(t)
  const P = 512
  for (const durability of ['full', 'none'] as const) {
    const file = path.join(dir, `async-${durability}.idx`)
    const vfs = new FaultyVfs(undefined, true)
    const idx = Index.open(file, { preallocate: true, pageSize: P, durability, vfs })
    let last = fs.statSync(file).size
    let extensions = 0
    for (let g = 0; g < 300; g++) {
      vfs.arm()
      const calls: Promise<boolean>[] = []
      for (let j = 0; j < 5; j++) calls.push(idx.insertAsync(key(g * 5 + j), g))
      await Promise.all(calls)
      const s = idx.stats()
      const end = (s.commitPage + 1) * P
      if (s.tailBytes !== s.fileBytes - end) t.fail(`group ${g}: tailBytes ${s.tailBytes}, expected ${s.fileBytes - end}`)
      if (s.fileBytes === last) continue
      extensions++
      const where = `${durability}, group ${g}, commit page ${s.commitPage}`
      t.equal(s.fileBytes, preallocEnd(s.commitPage + 1, P) * P, `the extension reaches the chunk the policy gives (${where})`)
      last = s.fileBytes
      // The zeros from the commit page on, then the write that carries the commit page, then
      // (durability 'full') the commit's sync last: no sync of their own.
      const log = vfs.log
      const isZeros = (r: OpRecord): boolean => r.op === 'write' && r.data!.every(b => b === 0)
      const zeroAt = log.findIndex(isZeros)
      const pageAt = log.findIndex(r => r.op === 'write' && r.position <= s.commitPage * P && r.position + r.length >= end && !isZeros(r))
      const shape = log.map(r => `${r.op}@${r.position / P}+${r.length / P}${isZeros(r) ? ' (zeros)' : ''}`).join(', ')
      t.ok(zeroAt >= 0 && log[zeroAt]!.position === s.commitPage * P, `the zeros start at the commit page (${where}): ${shape}`)
      t.ok(pageAt > zeroAt, `they are written before the commit page (${where}): ${shape}`)
      t.equal(log.slice(zeroAt, pageAt).some(r => r.op === 'datasync'), false, `no sync between the zeros and the commit page (${where}): ${shape}`)
      if (durability === 'full') t.match(log.at(-1), { op: 'datasync' }, `the commit's sync comes last and covers them (${where}): ${shape}`)
      else t.equal(log.some(r => r.op === 'datasync'), false, `no sync with durability 'none' (${where}): ${shape}`)
    }
    const s = idx.stats()
    t.ok(zerosFrom(file, (s.commitPage + 1) * P) && s.tailBytes > 0, `only zeros follow the newest commit (${durability})`)
    // Each extension adds at least PREALLOC_MIN_PAGES (16) pages, and the groups write one to
    // three pages each: the file grows every ten groups or less often.
    t.ok(extensions >= 2 && extensions < s.sequence / 10, `the file grew ${extensions} times in ${s.sequence} group commits (${durability})`)
    idx.close()
    t.ok(Index.verify(file).ok, `verify (${durability})`)
    const again = Index.open(file, { preallocate: true, readOnly: true })
    t.equal(again.count(), 1500, `a fresh handle reads every pair (${durability})`)
    again.close()
  }
})

t.test('asynchronous group commits keep rule T: another writer\'s torn pages after the commit are removed first', async t => {
  const file = path.join(tmpDir(t), 'async-knew.idx')
  const P = 512
  const a = Index.open(file, { preallocate: true, pageSize: P, maxPendingChanges: 0 })
  for (let i = 0; i < 5; i++) await a.insertAsync(key(i), i)
  const size = fs.statSync(file).size
  // Writer B dies after writing its data pages, before its commit page: inside A's preallocated zeros.
  const vfs = new FaultyVfs()
  const b = Index.open(file, { preallocate: true, vfs, maxPendingChanges: 0 })
  vfs.arm({ op: 'datasync', nth: 1, kind: 'crash' })
  t.throws(() => b.transaction(tx => { for (let i = 0; i < 40; i++) tx.insert(`b-${i}`.padEnd(30, 'b'), i) }))
  t.equal(fs.statSync(file).size, size, 'B wrote inside the preallocated space')
  t.ok(!zerosFrom(file, (a.stats().commitPage + 1) * P), 'B left pages after A\'s commit')
  // A's group sees the same commit and file size: only the page after its commit tells.
  await Promise.all([a.insertAsync('~a', 1), a.insertAsync('~b', 2)])
  const s = a.stats()
  t.ok(zerosFrom(file, (s.commitPage + 1) * P), 'A removed B\'s pages: only zeros follow its commit')
  await a.insertAsync('~c', 3)
  a.close()
  b.close()
  const fresh = Index.open(file, { preallocate: true, readOnly: true })
  t.equal(fresh.sequence, 7, 'a fresh open finds A\'s newest commit')
  t.same([fresh.get('~a'), fresh.get('~b'), fresh.get('~c'), fresh.get('b-0'.padEnd(30, 'b'))], [[1], [2], [3], []])
  fresh.close()
  t.ok(Index.verify(file).ok)
})

t.test('a set file preallocates too; preallocated zeros are neither live nor garbage', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'set.idx')
  const set = IndexSet.open(file, { preallocate: true })
  const city = set.index('city')
  set.transaction(tx => { tx.index(city).insert('Lyon', 1); tx.index(city).insert('Paris', 2) })
  city.insert('Nice', 3)
  const s = set.stats()
  set.close()
  t.ok(s.tailBytes >= PREALLOC_MIN_PAGES * 4096 - 4 * 4096, `zeros follow the newest commit: ${s.tailBytes} bytes`)
  t.equal(s.fileBytes, s.pagesTotal * 4096 + s.tailBytes, 'the pages up to the newest commit, then the tail')
  t.ok(zerosFrom(file, s.pagesTotal * 4096), 'only zeros follow it')
  // Of the 4 pages up to the newest commit (header, two earlier commit pages, the newest), the
  // two earlier ones are garbage: the last commit carried the records of the one before forward.
  t.equal(s.pagesTotal, 4)
  t.equal(s.garbageRatio, 0.5, `the garbage ratio counts only the pages up to the newest commit: ${s.garbageRatio}`)
  // A fresh file with one folded commit: the header, a leaf and the commit page, all live.
  const one = path.join(dir, 'one.idx')
  const idx = Index.open(one, { preallocate: true, maxPendingChanges: 0 })
  idx.insert('k', 1)
  const o = idx.stats()
  idx.close()
  t.same([o.pagesTotal, o.liveBytes, o.garbageRatio, o.tailBytes, o.fileBytes], [3, 3 * 4096, 0, PREALLOC_MIN_PAGES * 4096, (3 + PREALLOC_MIN_PAGES) * 4096], 'a freshly preallocated file has no garbage')
  const v = Index.verify(one)
  t.same([v.ok, v.pagesTotal, v.garbageRatio, v.tailBytes], [true, 3, 0, PREALLOC_MIN_PAGES * 4096], 'verify gives the same figures')
})

t.test('preallocate: false: the file ends at the newest commit page', async t => {
  const file = path.join(tmpDir(t), 'off.idx')
  const idx = Index.open(file, { pageSize: 512, preallocate: false })
  for (let i = 0; i < 50; i++) idx.insert(key(i), i)
  const s = idx.stats()
  t.equal(s.fileBytes, (s.commitPage + 1) * 512, 'no zeros after the commit')
  t.equal(s.tailBytes, 0, 'tailBytes 0')
  idx.close()
  t.throws(() => Index.open(file, { preallocate: 'yes' as unknown as boolean }), { code: 'INVALID_ARGUMENT' }, 'the option must be a boolean')
})

t.test('a handle that knows its tail is clean reads none of it before its next commit', async t => {
  const file = path.join(tmpDir(t), 'fast.idx')
  const vfs = new CountingVfs()
  const idx = Index.open(file, { preallocate: true, vfs })
  idx.insert(key(0), 0)
  t.ok(idx.stats().tailBytes >= PREALLOC_MIN_PAGES * 4096, 'the first commit preallocated')
  for (let i = 1; i <= 20; i++) {
    vfs.reset()
    idx.insert(key(i), i)
    t.ok(vfs.readBytes <= 64, `commit ${i} read ${vfs.reads} times, ${vfs.readBytes} bytes (the probes after the commit, not the tail)`)
  }
  idx.close()
  // A new handle does not know the tail: it reads it once, then trusts it.
  const vfs2 = new CountingVfs()
  const other = Index.open(file, { preallocate: true, vfs: vfs2 })
  vfs2.reset()
  other.insert(key(100), 100)
  t.ok(vfs2.readBytes >= PREALLOC_MIN_PAGES * 4096 - 21 * 4096, `a new handle's first commit reads the tail: ${vfs2.readBytes} bytes`)
  vfs2.reset()
  other.insert(key(101), 101)
  t.ok(vfs2.readBytes <= 64, `its second does not: ${vfs2.readBytes} bytes`)
  other.close()
})

t.test('handles of one process share what they know of the tail: writers taking turns do not read it', async t => {
  const file = path.join(tmpDir(t), 'turns.idx')
  const vfs = new CountingVfs()
  // A file of some 11 MiB, so that its tail (an eighth of it) is larger than what adopting a
  // commit reads.
  Index.build(file, (function* () { for (let i = 0; i < 100_000; i++) yield [`${key(1000 + i)}/${'x'.repeat(100)}`, i] as [string, number] })()).close()
  const a = Index.open(file, { preallocate: true, vfs })
  const b = Index.open(file, { preallocate: true, vfs })
  a.insert(key(0), 0)
  t.ok(a.stats().tailBytes >= 1024 * 1024, `the tail is ${a.stats().tailBytes} bytes`)
  for (let i = 1; i <= 10; i++) {
    vfs.reset()
    ;(i % 2 === 0 ? a : b).insert(key(i), i)
    // Adopting the other handle's commit reads the probe and the zero-tail search (about 20 single
    // pages); the tail itself (a MiB) is not read.
    t.ok(vfs.readBytes < 128 * 1024, `turn ${i} read ${vfs.reads} times, ${vfs.readBytes} bytes`)
  }
  a.close()
  vfs.reset()
  b.insert(key(100), 100)
  t.ok(vfs.readBytes >= 512 * 1024, `once a handle closed, the other checks the tail again: ${vfs.readBytes} bytes`)
  b.close()
  t.ok(Index.verify(file).ok)
})

t.test('reopening a file whose tail is clean reads as many pages, whatever the size of the file', async t => {
  const dir = tmpDir(t)
  const P = 512
  const TAIL = 256 // pages of zeros after the newest commit
  const reads: number[] = []
  const sizes: number[] = []
  for (const n of [20000, 300000]) {
    const file = path.join(dir, `reopen-${n}.idx`)
    Index.build(file, Array.from({ length: n }, (_, i) => [key(i), i] as [string, number]), { pageSize: P }).close()
    // The same zero tail after both.
    fs.appendFileSync(file, Buffer.alloc(TAIL * P))
    sizes.push(fs.statSync(file).size)
    const vfs = new CountingVfs()
    const r = Index.open(file, { preallocate: true, readOnly: true, vfs })
    // Counted before the first read: a read looks at the tail again once the clock has moved.
    reads.push(vfs.reads)
    t.ok(vfs.reads <= 2 * Math.log2(TAIL) + 6, `opening ${sizes.at(-1)} bytes took ${vfs.reads} reads`)
    t.equal(r.sequence, 1, 'the newest commit is found')
    r.close()
  }
  t.ok(sizes[1]! > 10 * sizes[0]!, `a file ${Math.round(sizes[1]! / sizes[0]!)} times larger`)
  t.equal(reads[0], reads[1], `the same reads for both (${reads.join(' and ')})`)
  // A commit into that tail, and the reopen after it.
  const file = path.join(dir, 'reopen-20000.idx')
  const w = Index.open(file, { preallocate: true })
  w.insert('~one', 1)
  const s = w.stats()
  w.close()
  t.equal(s.tailBytes, (TAIL - 1) * P, 'the commit went into the zeros, which needed no extension')
  const vfs = new CountingVfs()
  const r = Index.open(file, { preallocate: true, readOnly: true, vfs })
  t.ok(vfs.reads <= 2 * Math.log2(TAIL) + 6, `reopening after it took ${vfs.reads} reads`)
  t.equal(r.sequence, 2)
  r.close()
})

t.test('following the tail: a look that finds nothing new is one small read; commits in preallocated space are seen', async t => {
  const file = path.join(tmpDir(t), 'follow.idx')
  const w = Index.open(file, { preallocate: true })
  w.insert(key(0), 0)
  const vfs = new CountingVfs()
  const r = Index.open(file, { preallocate: true, readOnly: true, vfs })
  t.equal(r.sequence, 1)
  for (let i = 0; i < 5; i++) {
    vfs.reset()
    t.equal(r.refresh(), false, 'nothing new')
    t.same([vfs.reads, vfs.sizes], [1, 0], `a look that finds nothing new: one read, no fstat (${vfs.reads}, ${vfs.sizes})`)
    t.ok(vfs.readBytes <= 32, `of ${vfs.readBytes} bytes`)
  }
  const size = fs.statSync(file).size
  for (let i = 1; i <= 10; i++) {
    w.insert(key(i), i)
    t.equal(fs.statSync(file).size, size, 'the commit did not change the file size')
    t.equal(r.refresh(), true, `the reader adopts commit ${i + 1}`)
    t.equal(r.sequence, i + 1)
    t.same(r.get(key(i)), [i])
  }
  // Reads outside refresh() look too (a commit of a handle of this thread is seen at once).
  w.insert(key(11), 11)
  t.same(r.get(key(11)), [11], 'an implicit look before a read adopts it')
  w.close()
  r.close()
})

t.test('following a torn tail in preallocated space: looks stay cheap, and the next commit is seen', async t => {
  const file = path.join(tmpDir(t), 'torn.idx')
  const P = 512
  const w = Index.open(file, { preallocate: true, pageSize: P, maxPendingChanges: 0 })
  for (let i = 0; i < 5; i++) w.insert(key(i), i)
  const end = (w.stats().commitPage + 1) * P
  w.close()
  // A crashed writer's torn tail: data pages right after the commit, no commit page.
  const fd = fs.openSync(file, 'r+')
  const junk = Buffer.alloc(3 * P, 0)
  for (let p = 0; p < 3; p++) junk[p * P] = 0x02
  fs.writeSync(fd, junk, 0, junk.length, end)
  fs.closeSync(fd)
  const vfs = new CountingVfs()
  const r = Index.open(file, { preallocate: true, readOnly: true, vfs })
  t.equal(r.sequence, 5)
  t.equal(r.refresh(), false, 'the torn tail holds no commit')
  for (let i = 0; i < 3; i++) {
    vfs.reset()
    t.equal(r.refresh(), false, 'nothing new')
    t.ok(vfs.reads <= 2 && vfs.readBytes <= P + 16 + 32, `a look at an unchanged torn tail: ${vfs.reads} reads of ${vfs.readBytes} bytes`)
  }
  const w2 = Index.open(file, { preallocate: true, pageSize: P, maxPendingChanges: 0 })
  w2.insert('~after', 1)
  t.equal(w2.sequence, 6)
  const s = w2.stats()
  w2.close()
  t.ok(zerosFrom(file, (s.commitPage + 1) * P), 'the writer removed the torn tail: only zeros follow its commit')
  t.equal(r.refresh(), true, 'the reader adopts the commit written over the torn tail')
  t.same(r.get('~after'), [1])
  r.close()
})

t.test('a torn commit with a hole in preallocated space: its stale commit page never hides later commits', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const dir = tmpDir(t)
  const P = 512
  let cases = 0
  for (let attempt = 0; attempt < 6; attempt++) {
    const file = path.join(dir, `hole-${attempt}.idx`)
    const w = Index.open(file, { preallocate: true, pageSize: P, durability: 'none', maxPendingChanges: rng.pick([0, 131072]) })
    for (let i = 0; i < 10; i++) w.insert(key(i), i)
    const good = w.stats()
    // A big unsynced commit: several data pages, then its commit page.
    w.transaction(tx => { for (let i = 0; i < 60; i++) tx.insert(`big-${String(i).padStart(3, '0')}`.padEnd(40, 'x'), i) })
    const big = w.stats()
    w.close()
    const bytes = fs.readFileSync(file)
    const first = bytes.readUInt32LE(big.commitPage * P + CMT_OFF_FIRST_DATA)
    t.ok(big.commitPage - first >= 4, `the big commit has ${big.commitPage - first} data pages`)
    // A power cut kept its commit page and lost one of its data pages: a hole before a stale commit page.
    const lost = first + rng.int(big.commitPage - first)
    bytes.fill(0, lost * P, (lost + 1) * P)
    fs.writeFileSync(file, bytes)
    const where = `seed ${seed}, attempt ${attempt}: page ${lost} of ${first}..${big.commitPage} lost`
    const idx = Index.open(file, { preallocate: true, pageSize: P })
    t.equal(idx.sequence, good.sequence, `the torn commit is rejected (${where})`)
    // Two small commits land below the stale commit page.
    idx.insert('~a', 1)
    idx.insert('~b', 2)
    const s = idx.stats()
    idx.close()
    t.ok(s.commitPage < big.commitPage, `the new commits end below the stale commit page (${where})`)
    const after = fs.readFileSync(file)
    t.ok(after.subarray((s.commitPage + 1) * P).every(b => b === 0), `only zeros follow the newest commit (${where})`)
    t.not(after[big.commitPage * P], PAGE_COMMIT, `the stale commit page is gone (${where})`)
    const fresh = Index.open(file, { preallocate: true, readOnly: true })
    t.equal(fresh.sequence, good.sequence + 2, `a fresh open finds the newest commit (${where})`)
    t.same([fresh.get('~a'), fresh.get('~b'), fresh.count()], [[1], [2], 12], `and its pairs (${where})`)
    fresh.close()
    const v = Index.verify(file)
    t.ok(v.ok && v.sequence === good.sequence + 2, `verify (${where}): ${JSON.stringify(v.errors).slice(0, 300)}`)
    cases++
  }
  t.equal(cases, 6)
})

t.test('a writer that knew its tail clean notices another writer\'s torn pages after its commit', async t => {
  const file = path.join(tmpDir(t), 'knew.idx')
  const P = 512
  const a = Index.open(file, { preallocate: true, pageSize: P, maxPendingChanges: 0 })
  for (let i = 0; i < 5; i++) a.insert(key(i), i)
  const size = fs.statSync(file).size
  // Writer B dies after writing its data pages, before its commit page: inside A's preallocated zeros.
  const vfs = new FaultyVfs()
  const b = Index.open(file, { preallocate: true, vfs, maxPendingChanges: 0 })
  vfs.arm({ op: 'datasync', nth: 1, kind: 'crash' })
  t.throws(() => b.transaction(tx => { for (let i = 0; i < 40; i++) tx.insert(`b-${i}`.padEnd(30, 'b'), i) }))
  const commitEnd = (a.stats().commitPage + 1) * P
  t.equal(fs.statSync(file).size, size, 'B wrote inside the preallocated space')
  t.ok(!zerosFrom(file, commitEnd), 'B left pages after A\'s commit')
  // A's commit sees the same commit and file size: only the page after its commit tells.
  a.insert('~a', 1)
  const s = a.stats()
  t.ok(zerosFrom(file, (s.commitPage + 1) * P), 'A removed B\'s pages: only zeros follow its commit')
  a.insert('~b', 2)
  a.close()
  b.close()
  const fresh = Index.open(file, { preallocate: true, readOnly: true })
  t.equal(fresh.sequence, 7, 'a fresh open finds A\'s newest commit')
  t.same([fresh.get('~a'), fresh.get('~b'), fresh.get('b-0'.padEnd(30, 'b'))], [[1], [2], []])
  fresh.close()
  t.ok(Index.verify(file).ok)
})
