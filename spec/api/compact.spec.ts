// Index.compact rewrites the newest commit's content into a new file and renames it over the
// index: content, sequence, settings and metadata survive; the file shrinks after churn and never
// grows; open handles follow (readers that never refresh too, through the superseded marker);
// failures and leftovers of killed runs leave nothing behind.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { COMMIT_SUPERSEDED, HDR_OFF_CREATED_AT, HDR_OFF_FILE_ID, FILE_ID_SIZE } from '../../lib/format/constants.ts'
import { decodeCommit } from '../../lib/format/commit.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'

/** An index grown by single commits, most of its pages dead: returns the pairs it holds. */
function churn(file: string, rng: Rng, n: number, options = {}): [string, number][] {
  const idx = Index.open(file, { preallocate: true, durability: 'none', ...options })
  const live = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const k = `k${String(rng.int(n)).padStart(5, '0')}`
    if (live.has(k) && rng.next() < 0.3) { idx.delete(k, live.get(k)!); live.delete(k) } else if (!live.has(k)) { idx.insert(k, i); live.set(k, i) }
  }
  idx.transaction(() => {}, { meta: Buffer.from('meta!') })
  idx.close()
  return [...live].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
}

function header(file: string): { fileId: string; createdAt: bigint } {
  const b = fs.readFileSync(file)
  return { fileId: b.toString('hex', HDR_OFF_FILE_ID, HDR_OFF_FILE_ID + FILE_ID_SIZE), createdAt: b.readBigUInt64LE(HDR_OFF_CREATED_AT) }
}

t.test('a churned file: same content, sequence, settings and metadata; a fraction of the bytes', t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  const dir = tmpDir(t)
  const file = path.join(dir, 'c.idx')
  // Every commit folded (no change records, FORMAT.md §10): each rewrites a path, as in heavy churn.
  const pairs = churn(file, rng, 400, { pageSize: 512, unique: true, maxPendingChanges: 0 })
  const before = Index.open(file, { preallocate: true, readOnly: true })
  const seq = before.sequence
  const st = before.stats()
  before.close()
  t.ok(st.garbageRatio > 0.9, `mostly garbage before (${st.garbageRatio}, seed ${seed})`)
  t.ok(st.commits === seq, 'every commit is still in the file')
  const h0 = header(file)

  const progress: { done: number; total: number }[] = []
  const r = Index.compact(file, { onProgress: p => progress.push(p) })
  t.equal(r.replaced, true)
  t.equal(r.bytesBefore, st.fileBytes)
  t.equal(r.bytesAfter, fs.statSync(file).size)
  t.ok(r.bytesAfter * 10 < r.bytesBefore, `a small fraction: ${r.bytesBefore} -> ${r.bytesAfter} (seed ${seed})`)
  t.equal(r.entries, pairs.length)
  t.equal(r.sequence, seq)
  t.ok(r.ms >= 0)
  t.same(progress[progress.length - 1], { done: pairs.length, total: pairs.length }, 'progress ends at the total')

  const idx = Index.open(file, { preallocate: true, readOnly: true })
  t.same([...idx.range()], pairs, `the same pairs (seed ${seed})`)
  t.equal(idx.sequence, seq, 'the sequence is kept')
  t.equal(idx.meta?.toString(), 'meta!', 'the metadata is kept')
  t.equal(idx.unique, true)
  t.equal(idx.pageSize, 512)
  const s2 = idx.stats()
  t.equal(s2.commits, 1, 'one commit')
  t.equal(s2.pagesTotal, s2.pagesLive + 2, 'the header, the live pages and the commit page')
  t.equal(s2.tailBytes, 0, 'nothing after them: the copy is not preallocated')
  t.equal(s2.fileBytes, r.bytesAfter)
  t.equal(s2.garbageRatio, 0)
  t.equal(s2.pagesLive, r.pages)
  idx.close()
  const h1 = header(file)
  t.not(h1.fileId, h0.fileId, 'a fresh file id')
  t.equal(h1.createdAt, h0.createdAt, 'the creation time is kept')
  t.ok(Index.verify(file).ok)
  t.same(fs.readdirSync(dir).sort(), ['c.idx', 'c.idx.lock'], 'nothing but the index and its lock')

  const w = Index.open(file, { preallocate: true })
  w.insert('zzz', 1)
  t.equal(w.sequence, seq + 1, 'the next commit is the old sequence + 1')
  const s3 = w.stats()
  w.close()
  t.ok(s3.tailBytes > 0 && s3.fileBytes === (s3.commitPage + 1) * 512 + s3.tailBytes, `the first commit after it preallocates (${s3.tailBytes} bytes)`)
  t.ok(fs.readFileSync(file).subarray((s3.commitPage + 1) * 512).every(b => b === 0), 'only zeros follow the newest commit')
  t.same([...Index.history(file)].map(c => c.sequence), [seq + 1, seq])
  t.end()
})

t.test('an already compact file does not grow and is left as it was', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'b.idx')
  Index.build(file, Array.from({ length: 5000 }, (_, i) => [`key${String(i).padStart(6, '0')}`, i] as [string, number])).close()
  const bytes = fs.readFileSync(file)
  const r = Index.compact(file)
  t.equal(r.replaced, false)
  t.equal(r.bytesAfter, r.bytesBefore)
  t.equal(r.entries, 5000)
  t.same(fs.readFileSync(file), bytes, 'not a byte changed')
  t.same(fs.readdirSync(dir).sort(), ['b.idx', 'b.idx.lock'])
  // Compacting a compacted file is a no-op too.
  const c = path.join(dir, 'c.idx')
  const idx = Index.open(c, { preallocate: true })
  for (let i = 0; i < 30; i++) idx.insert(`x${i}`, i)
  idx.close()
  t.equal(Index.compact(c).replaced, true)
  const once = fs.readFileSync(c)
  t.equal(Index.compact(c).replaced, false)
  t.same(fs.readFileSync(c), once)
  // A compact tree followed by preallocated zeros: the zeros are not garbage, so it is left too.
  const z = path.join(dir, 'z.idx')
  const zi = Index.open(z, { preallocate: true, maxPendingChanges: 0 })
  zi.insert('one', 1)
  const zs = zi.stats()
  zi.close()
  t.same([zs.pagesTotal, zs.pagesLive, zs.garbageRatio], [3, 1, 0], 'the header, one leaf and the commit page: no garbage')
  t.ok(zs.tailBytes > 0, `then ${zs.tailBytes} bytes of preallocated zeros`)
  const zBytes = fs.readFileSync(z)
  const rz = Index.compact(z)
  t.same([rz.replaced, rz.bytesBefore, rz.bytesAfter], [false, zBytes.length, zBytes.length], 'left as it was')
  t.same(fs.readFileSync(z), zBytes, 'not a byte changed')
  t.end()
})

t.test('empty files: no commit is left alone; an emptied index keeps its sequence', t => {
  const dir = tmpDir(t)
  const fresh = path.join(dir, 'fresh.idx')
  Index.open(fresh, { preallocate: true }).close()
  const r = Index.compact(fresh)
  t.same([r.replaced, r.entries, r.sequence], [false, 0, 0])
  const emptied = path.join(dir, 'emptied.idx')
  const idx = Index.open(emptied, { preallocate: true })
  for (let i = 0; i < 20; i++) idx.insert(`k${i}`, i)
  for (let i = 0; i < 20; i++) idx.delete(`k${i}`, i)
  const r2 = Index.compact(emptied)
  t.same([r2.replaced, r2.entries, r2.sequence, r2.pages], [true, 0, 40, 0])
  t.equal(idx.count(), 0)
  idx.insert('again', 1)
  t.equal(idx.sequence, 41)
  t.ok(Index.verify(emptied).ok)
  idx.close()
  t.end()
})

t.test('binary keys at page size 512: the same pairs after compaction (seeded)', t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  const file = path.join(tmpDir(t), 'bin.idx')
  const idx = Index.open<Buffer>(file, { keyEncoding: 'binary', pageSize: 512, durability: 'none' })
  for (let round = 0; round < 40; round++) {
    idx.transaction(tx => {
      for (let i = 0; i < 50; i++) tx.insert(rng.bytes(1 + rng.int(30)), rng.int(1e9))
      for (const [k, r] of [...tx.range({ limit: 20, offset: rng.int(Math.max(1, tx.count() - 20)) })]) if (rng.next() < 0.5) tx.delete(k, r)
    })
  }
  const want = [...idx.range()].map(([k, r]) => `${k.toString('hex')} ${r}`)
  const r = Index.compact(file)
  t.equal(r.replaced, true)
  t.same([...idx.range()].map(([k, r]) => `${k.toString('hex')} ${r}`), want, `the writer's handle reads the same pairs from the new file (seed ${seed})`)
  const fresh = Index.open(file, { preallocate: true, readOnly: true, keyEncoding: 'binary' })
  t.equal(fresh.keyEncoding, 'binary')
  t.equal(fresh.count(), want.length)
  fresh.close()
  idx.close()
  t.end()
})

t.test('open handles follow: snapshots keep the old file, readers that never refresh see later commits', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'h.idx')
  const writer = Index.open(file, { preallocate: true })
  for (let i = 0; i < 60; i++) writer.insert(`k${String(i).padStart(3, '0')}`, i)
  const reader = Index.open(file, { preallocate: true, readOnly: true })
  const slow = Index.open(file, { preallocate: true, readOnly: true, maxStalenessMs: 1 })
  t.equal(reader.count(), 60)
  t.equal(slow.count(), 60)
  const snap = reader.snapshot()
  const oldPath = path.join(dir, 'old.idx')
  fs.linkSync(file, oldPath) // a name for the old file, to look at it afterwards
  const seq = writer.sequence

  Index.compact(file)
  // The old file's last commit: the superseded marker, with the content of the commit before.
  const old = fs.readFileSync(oldPath)
  const P = 4096
  const fileId = old.subarray(HDR_OFF_FILE_ID, HDR_OFF_FILE_ID + FILE_ID_SIZE)
  // Only zeros (preallocated by the writer's commits) follow the last commit.
  let lastPage = old.length / P - 1
  while (lastPage > 0 && old[lastPage * P] === 0) lastPage--
  t.ok(old.subarray((lastPage + 1) * P).every(b => b === 0), 'only zeros follow the old file\'s last commit')
  const last = decodeCommit(old.subarray(lastPage * P, (lastPage + 1) * P), lastPage, fileId)!
  const prev = decodeCommit(old.subarray(last.prevCommit * P, (last.prevCommit + 1) * P), last.prevCommit, fileId)!
  t.ok(last.flags & COMMIT_SUPERSEDED, 'the old file ends in a superseded commit')
  t.equal(last.sequence, seq + 1)
  // prev heads the pending chain (single inserts are change records), so its page becomes live.
  t.equal(prev.logHead, prev.page, 'the commit before heads the pending chain')
  t.same([last.root, last.height, last.entryCount, last.livePages, last.firstDataPage, last.logHead, last.chainRecords], [prev.root, prev.height, prev.entryCount, prev.livePages + 1, last.page, prev.logHead, prev.chainRecords], 'the same tree and pending chain, no pages')
  t.equal(prev.sequence, seq)

  t.equal(writer.insert('new', 1), true, 'the writer writes into the new file')
  t.equal(writer.sequence, seq + 1)
  t.same(reader.get('new'), [1], 'a reader that never called refresh() sees the commit')
  t.equal(reader.sequence, seq + 1)
  t.equal(reader.stats().fileBytes, fs.statSync(file).size, 'and reads the new file')
  t.equal(slow.count(), 61, 'with maxStalenessMs too')
  t.equal(snap.count(), 60, 'the snapshot still reads the old file')
  t.equal(snap.sequence, seq)
  snap.close()
  const oldIdx = Index.open(oldPath, { preallocate: true, readOnly: true })
  t.equal(oldIdx.count(), 60, 'the old file opens at the superseded commit, content unchanged')
  oldIdx.close()
  t.same(Index.open(oldPath, { preallocate: true, readOnly: true }).get('new'), [], 'no commit went into the old file')
  for (const h of [writer, reader, slow]) h.close()
  t.end()
})

t.test('leftovers of killed compactions are removed by the next one, and only they', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'l.idx')
  const idx = Index.open(file, { preallocate: true })
  for (let i = 0; i < 30; i++) idx.insert(`k${i}`, i)
  idx.close()
  const leftovers = ['l.idx.compact-0123456789ab.tmp', 'l.idx.compact-ba9876543210.tmp.00112233aabb.tmp']
  const others = ['l.idx.compact-xyz.tmp', 'other.idx.compact-0123456789ab.tmp', 'l.idx.build-0123456789ab.tmp', 'l.idx.compact-0123456789ab.tmp.bak']
  for (const n of [...leftovers, ...others]) fs.writeFileSync(path.join(dir, n), 'not an index')
  t.equal(Index.open(file, { preallocate: true, readOnly: true }).count(), 30, 'the index opens as it is, whatever lies beside it')
  t.equal(Index.compact(file).replaced, true)
  t.same(fs.readdirSync(dir).sort(), ['l.idx', 'l.idx.lock', ...others].sort(), 'the leftovers are gone, other files stay')
  t.end()
})

t.test('a compaction that fails leaves the original untouched and removes its temporary file', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'f.idx')
  const idx = Index.open(file, { preallocate: true, pageSize: 512 })
  for (let i = 0; i < 300; i++) idx.insert(`k${String(i).padStart(4, '0')}`, i)
  idx.close()
  const bytes = fs.readFileSync(file)
  for (const [what, rule] of [
    ['the first page write', { op: 'write', nth: 1, kind: 'ENOSPC' }],
    ['a later page write', { op: 'write', nth: 2, kind: 'EIO' }],
    ['the sync of the pages', { op: 'datasync', nth: 1, kind: 'EIO' }],
    ['the sync of the commit page', { op: 'datasync', nth: 2, kind: 'EIO' }],
  ] as const) {
    const vfs = new FaultyVfs()
    vfs.arm(rule)
    t.throws(() => Index.compact(file, { vfs }), { name: 'TailrootError', code: 'IO' }, `fails with IO (${what})`)
    t.ok(vfs.fired > 0, `the fault fired (${what})`)
    t.same(fs.readFileSync(file), bytes, `the original is byte for byte the same (${what})`)
    t.same(fs.readdirSync(dir).sort(), ['f.idx', 'f.idx.lock'], `no temporary file is left (${what})`)
  }
  t.equal(Index.compact(file).replaced, true, 'a later compaction succeeds')
  t.equal(Index.open(file, { preallocate: true, readOnly: true }).count(), 300)
  t.end()
})

t.test('history: the commits newest first; a damaged link ends it with CORRUPT, and verify reports it', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'h.idx')
  const idx = Index.open(file, { preallocate: true, pageSize: 512 })
  const t0 = Date.now()
  for (let i = 0; i < 10; i++) idx.insert(`k${i}`, i)
  idx.close()
  const h = [...Index.history(file)]
  t.same(h.map(c => c.sequence), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
  t.same(h.map(c => c.entries), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
  for (const c of h) t.ok(c.time instanceof Date && c.time.getTime() >= t0 - 1000 && c.time.getTime() <= Date.now() + 1000, 'a plausible time')
  for (let i = 1; i < h.length; i++) t.ok(h[i]!.page < h[i - 1]!.page, 'each step goes back in the file')
  t.equal(Index.verify(file).commits, 10)
  // Damage the commit page of sequence 5: the walk yields 10..6, then fails naming the page.
  const victim = h.find(c => c.sequence === 5)!.page
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.from([0xee]), 0, 1, victim * 512 + 200)
  fs.closeSync(fd)
  const seen: number[] = []
  t.throws(() => { for (const c of Index.history(file)) seen.push(c.sequence) }, { name: 'TailrootError', code: 'CORRUPT', page: victim })
  t.same(seen, [10, 9, 8, 7, 6])
  const v = Index.verify(file)
  t.equal(v.ok, false)
  t.equal(v.commits, 5)
  t.ok(v.errors.some(e => /history is broken/.test(e.message)), 'verify reports the broken history')
  // Each commit carried the records of the one before forward (FORMAT.md §10), so the newest
  // commit page holds every pending change, and the damaged page is no longer part of the chain.
  t.notOk(v.errors.some(e => /pending chain/.test(e.message)), 'the pending chain is whole')
  const after = Index.open(file, { readOnly: true })
  t.equal(after.count(), 10, 'every pair reads')
  after.close()
  t.equal(Index.open(file, { preallocate: true, readOnly: true }).stats().commits, 5, 'stats counts the commits above the damage')
  t.throws(() => Index.history(''), { code: 'INVALID_ARGUMENT' })
  t.throws(() => [...Index.history(path.join(dir, 'missing.idx'))], { code: 'NOT_FOUND' })
  t.end()
})

t.test('bad arguments', t => {
  const dir = tmpDir(t)
  t.throws(() => Index.compact(''), { code: 'INVALID_ARGUMENT' })
  t.throws(() => Index.compact(path.join(dir, 'missing.idx')), { code: 'NOT_FOUND' })
  t.same(fs.readdirSync(dir), [], 'a missing file is not created')
  const file = path.join(dir, 'a.idx')
  Index.open(file, { preallocate: true }).close()
  t.throws(() => Index.compact(file, { bogus: 1 } as never), { code: 'INVALID_ARGUMENT', message: /bogus/ })
  t.throws(() => Index.compact(file, { onProgress: 3 } as never), { code: 'INVALID_ARGUMENT' })
  t.throws(() => Index.compact(file, { lockTimeoutMs: -1 }), { code: 'INVALID_ARGUMENT' })
  fs.writeFileSync(path.join(dir, 'text.idx'), 'hello, world\n'.repeat(1000))
  t.throws(() => Index.compact(path.join(dir, 'text.idx')), { code: 'NOT_AN_INDEX' })
  t.end()
})
