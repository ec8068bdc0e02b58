// Presence checks on leaves not cached (IndexFile.leafHas): the first check of a leaf reads it and
// searches its page bytes, and the cache keeps those bytes, so later checks read nothing; a read
// that needs the decoded leaf decodes the kept bytes without reading the page again.
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Index } from '../../lib/index.ts'
import { CountingVfs } from '../helpers/counting-vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'

const key = (i: number): string => `key-${String(i).padStart(6, '0')}`

function build(t: Test): string {
  const file = path.join(tmpDir(t), 'has.idx')
  Index.build(file, Array.from({ length: 20_000 }, (_, i) => [key(i), i] as [string, number])).close()
  return file
}

/** Pages read since `vfs.reset()` (a look for new commits reads 32 bytes, not a page). */
const pagesRead = (vfs: CountingVfs): number => Math.floor(vfs.readBytes / 4096)

t.test('a leaf is read once; later checks search its kept bytes', async t => {
  const vfs = new CountingVfs()
  const idx = Index.open(build(t), { readOnly: true, vfs })
  t.equal(idx.has(key(10), 10), true) // the path's internal nodes are cached now
  const reads: number[] = []
  for (let i = 0; i < 4; i++) {
    vfs.reset()
    t.equal(idx.has(key(15_000), i === 3 ? 1 : 15_000), i !== 3, `check ${i + 1}`)
    reads.push(pagesRead(vfs))
  }
  t.same(reads, [1, 0, 0, 0], `only the first check reads the leaf (${reads.join(', ')})`)
  t.equal(idx.has(key(15_001), 15_001), true, 'another pair of the same leaf')
  t.equal(idx.has(key(15_001), 15_000), false)
  t.equal(idx.has('key-015000x', 15_000), false, 'a key between two of the leaf')
  vfs.reset()
  t.same(idx.get(key(15_000)), [15_000], 'a read decodes the leaf')
  t.equal(pagesRead(vfs), 0, 'from the kept bytes, without reading the page again')
  t.same(idx.get(key(15_002)), [15_002])
  idx.close()
})

t.test('while checks find their pairs absent, a filter of a leaf\'s pairs comes first; the answers stay the same', async t => {
  const idx = Index.open(build(t), { readOnly: true })
  t.equal(idx.has(key(10), 10), true) // the path's internal nodes are cached now
  t.equal(idx.has(key(15_000), 15_000), true) // the leaf's bytes are kept
  // Checks of present pairs: no filter is made for them.
  for (let i = 0; i < 5; i++) t.equal(idx.has(key(15_000 + i), 15_000 + i), true)
  const before = idx.stats().cachedBytes
  t.equal(idx.has(key(15_001), 15_001), true)
  t.equal(idx.stats().cachedBytes, before, 'while checks find their pairs, no filter')
  // Checks of absent pairs (new rowIds, as inserts check): the leaf gets its filter.
  for (let i = 0; i < 8; i++) t.equal(idx.has(key(15_000 + i), 50_000 + i), false)
  const after = idx.stats().cachedBytes
  t.ok(after > before && after - before <= 4096, `then the filter is kept with the bytes and counted (${after - before} bytes)`)
  const wrong: string[] = []
  for (let i = 14_950; i < 15_050; i++) {
    for (const [r, want] of [[i + 1, false], [20_000 + i, false], [i, true]] as const) {
      if (idx.has(key(i), r) !== want) wrong.push(`(${key(i)}, ${r})`)
    }
    if (idx.has(`${key(i)}x`, i) !== false) wrong.push(`(${key(i)}x, ${i})`)
  }
  t.same(wrong, [], 'present pairs found, absent ones not, around and inside the filtered leaves')
  idx.close()
})

t.test('with cacheBytes 0 every check reads the leaf', async t => {
  const vfs = new CountingVfs()
  const idx = Index.open(build(t), { readOnly: true, vfs, cacheBytes: 0 })
  const reads: number[] = []
  for (let i = 0; i < 3; i++) {
    vfs.reset()
    t.equal(idx.has(key(15_000), 15_000), true)
    reads.push(pagesRead(vfs))
  }
  t.ok(reads.every(n => n >= 1 && n === reads[0]), `each check reads the same pages (${reads.join(', ')})`)
  t.equal(idx.stats().cachedPages, 0)
  idx.close()
})

t.test('leaves a commit writes are cached as their page bytes: checks and reads use them without reading the file', async t => {
  const vfs = new CountingVfs()
  const file = path.join(tmpDir(t), 'written.idx')
  const idx = Index.open(file, { vfs, maxPendingChanges: 0 }) // every commit writes its leaves
  idx.transaction(tx => { for (let i = 0; i < 2_000; i++) tx.insert(key(i), i) })
  t.ok(idx.stats().height >= 2, `height ${idx.stats().height}: leaves and an internal node`)
  vfs.reset()
  for (let i = 0; i < 2_000; i += 97) t.equal(idx.has(key(i), i), true, `check ${i}`)
  t.equal(idx.has(key(5), 6), false)
  t.equal(pagesRead(vfs), 0, 'presence checks read no page')
  const cachedBytes = idx.stats().cachedBytes
  t.ok(cachedBytes < 2 * 4096 * idx.stats().livePages, `the cache holds about the pages' bytes (${cachedBytes} bytes for ${idx.stats().livePages} pages)`)
  vfs.reset()
  t.same(idx.get(key(1_234)), [1_234], 'a read decodes the kept bytes')
  t.same([...idx.range({ gte: key(1_990) })].map(p => p[1]), Array.from({ length: 10 }, (_, i) => 1_990 + i))
  t.equal(pagesRead(vfs), 0, 'and reads no page either')
  idx.close()
  t.ok(Index.verify(file).ok)
})

t.test('lookups search a leaf\'s kept bytes too; keys whose rowIds span leaves are walked', async t => {
  const file = path.join(tmpDir(t), 'ids.idx')
  // Keys of 1 to 700 rowIds: many within one leaf, some over several (a 4 KiB leaf holds a few
  // hundred small rowIds), some the last or first key of a leaf.
  const want = new Map<string, number[]>()
  const pairs: [string, number][] = []
  for (let i = 0; i < 3_000; i++) {
    const n = i % 97 === 0 ? 700 : 1 + (i % 5)
    const ids = Array.from({ length: n }, (_, j) => i * 1000 + j * 3)
    want.set(key(i), ids)
    for (const r of ids) pairs.push([key(i), r])
  }
  Index.build(file, pairs).close()
  const vfs = new CountingVfs()
  const idx = Index.open(file, { readOnly: true, vfs })
  const keys = [...want.keys()]
  for (let round = 0; round < 2; round++) {
    const wrong: string[] = []
    for (const k of keys) if (JSON.stringify(idx.get(k)) !== JSON.stringify(want.get(k))) wrong.push(k)
    t.same(wrong, [], `round ${round + 1}: every key's rowIds (${keys.length} keys)`)
    t.same(idx.get('key-0000005'), [], 'a key between two keys')
    t.same(idx.get('zzz'), [], 'a key above every key')
    t.same(idx.get(''), [], 'the empty key')
  }
  vfs.reset()
  for (const k of keys.slice(0, 500)) idx.get(k)
  t.equal(pagesRead(vfs), 0, 'the second round read no page: the leaves are kept')
  idx.close()
  // Deleting rowIds through the pending log: lookups merge the log as before.
  const w = Index.open(file)
  w.transaction(tx => { for (const r of want.get(key(97))!.slice(0, 650)) tx.delete(key(97), r); tx.insert(key(98), 5) })
  t.same(w.get(key(97)), want.get(key(97))!.slice(650))
  t.same(w.get(key(98)), [...want.get(key(98))!, 5].sort((a, b) => a - b))
  w.close()
})

t.test('a commit that rebuilds nodes leaves the nodes it replaced out of the cache', async t => {
  const file = path.join(tmpDir(t), 'fold.idx')
  Index.build(file, Array.from({ length: 20_000 }, (_, i) => [key(i * 2), i] as [string, number])).close()
  const idx = Index.open(file, { maxPendingChanges: 0 }) // every commit rebuilds the nodes it touches
  let n = 0
  for (let c = 0; c < 100; c++) {
    idx.transaction(tx => { for (let j = 0; j < 30; j++) tx.insert(key(((c * 7919 + j * 104729) % 20_000) * 2 + 1), n++) })
  }
  const s = idx.stats()
  t.ok(s.cachedPages <= s.livePages, `only live pages are cached: ${s.cachedPages} cached, ${s.livePages} live of ${s.pagesTotal} (the replaced ones are garbage)`)
  t.equal(idx.count(), 20_000 + n)
  for (let i = 0; i < 20_000; i += 501) t.same(idx.get(key(i * 2)), [i], `key ${i}`)
  idx.close()
  t.ok(Index.verify(file).ok)
})
