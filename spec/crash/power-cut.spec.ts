// Power loss modelled as the file cut at a byte offset, optionally followed by zeros, random
// garbage or a stale copy of a commit page: opening yields exactly the newest commit whose bytes
// are all intact (wholly before the cut, or ending in zero padding that a zero tail restores), a new commit works and cuts the torn tail off, and the file verifies. With
// durability 'none', a damaged data page of the last commit makes the data checksum reject it.
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 builds longer histories and tries more cuts.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { COMMIT_DATA_SYNCED } from '../../lib/format/constants.ts'
import type { Durability } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { buildHistory, newestIntact } from './history.ts'
import type { CommitRecord, History } from './history.ts'
import { describeDiff, listIndex } from './pair-set.ts'
import { SOAK } from '../helpers/soak.ts'


// Commit page fields (FORMAT.md §8).
const CMT_PREV = 40
const CMT_FIRST_DATA = 44
const CMT_FLAGS = 29

type Tail = 'none' | 'zeros' | 'garbage' | 'stale'
const TAILS: Tail[] = ['none', 'zeros', 'garbage', 'stale']

/** Bytes that follow the cut: nothing, zeros, random bytes, or zeros up to a page boundary and then a copy of some commit page of the history that lands at a different page number than its own. */
function tailBytes(h: History, rng: Rng, cut: number, tail: Tail): Buffer {
  const P = h.pageSize
  if (tail === 'none') return Buffer.alloc(0)
  if (tail === 'zeros') return Buffer.alloc(rng.next() < 0.3 ? Math.max(1, h.bytes.length - cut) : 1 + rng.int(3 * P))
  if (tail === 'garbage') return rng.bytes(1 + rng.int(3 * P))
  const pad = (P - (cut % P)) % P
  const target = (cut + pad) / P
  const copies = h.commits.filter(c => c.sequence > 0 && c.commitPage !== target)
  if (copies.length === 0) return Buffer.alloc(pad + P)
  const c = rng.pick(copies)
  return Buffer.concat([Buffer.alloc(pad), h.bytes.subarray(c.commitPage * P, (c.commitPage + 1) * P)])
}

/**
 * Writes the cut file, opens it and checks it against the history. Returns the problems found
 * (empty when the cut behaves).
 */
function checkCut(file: string, h: History, durability: Durability, cut: number, tailKind: Tail, tail: Buffer): string[] {
  const P = h.pageSize
  const problems: string[] = []
  const what = `cut at byte ${cut} (page ${Math.floor(cut / P)} + ${cut % P}), tail ${tailKind} of ${tail.length} bytes`
  const bytes = Buffer.concat([h.bytes.subarray(0, cut), tail])
  fs.writeFileSync(file, bytes)
  const exp: CommitRecord = newestIntact(h, bytes)
  let idx = Index.open(file, { durability })
  let newPage = 0
  try {
    if (idx.sequence !== exp.sequence) problems.push(`${what}: opened at sequence ${idx.sequence}, expected ${exp.sequence}`)
    const diff = describeDiff(exp.pairs, listIndex(idx))
    if (diff !== null) problems.push(`${what}: contents differ from commit ${exp.sequence}: ${diff}`)
    const meta = idx.meta?.toString() ?? null
    if (meta !== exp.meta) problems.push(`${what}: metadata ${JSON.stringify(meta)}, expected ${JSON.stringify(exp.meta)}`)
    if (problems.length > 0) return problems
    // A new commit on top of the cut file: it goes right after the surviving commit.
    if (idx.insert('~after-cut', cut) !== true) problems.push(`${what}: insert after the cut reported no change`)
    const s = idx.stats()
    if (s.sequence !== exp.sequence + 1) problems.push(`${what}: the new commit has sequence ${s.sequence}, expected ${exp.sequence + 1}`)
    newPage = s.commitPage
  } finally {
    idx.close()
  }
  if (problems.length > 0) return problems
  const after = fs.readFileSync(file)
  if (!after.subarray(0, exp.end).equals(h.bytes.subarray(0, exp.end))) problems.push(`${what}: bytes before the end of commit ${exp.sequence} changed`)
  const page = newPage
  if (after.length % P !== 0 || after.subarray((page + 1) * P).some(b => b !== 0)) problems.push(`${what}: after the new commit at page ${page} the file has ${after.length} bytes, not only zeros after the commit`)
  const cp = after.subarray(page * P, (page + 1) * P)
  const first = cp.readUInt32LE(CMT_FIRST_DATA)
  const prev = cp.readUInt32LE(CMT_PREV)
  if (first !== exp.commitPage + 1 || prev !== exp.commitPage) {
    problems.push(`${what}: the new commit (page ${page}) starts at page ${first} after commit page ${prev}; expected ${exp.commitPage + 1} after ${exp.commitPage}: the torn tail was not cut off`)
  }
  const v = Index.verify(file)
  if (!v.ok || v.sequence !== exp.sequence + 1 || v.entries !== exp.pairs.length + 1) {
    problems.push(`${what}: verify after the new commit: ${JSON.stringify(v).slice(0, 1000)}`)
  }
  idx = Index.open(file, { readOnly: true })
  try {
    const diff = describeDiff([...exp.pairs, `~after-cut\t${cut}`], listIndex(idx))
    if (diff !== null) problems.push(`${what}: after the new commit a fresh handle reads: ${diff}`)
  } finally {
    idx.close()
  }
  return problems
}

function report(t: Test, seed: number, cases: number, problems: string[]): void {
  if (problems.length > 0) t.fail(`seed ${seed}: ${problems.length} problems in ${cases} cuts; first ones:\n${problems.slice(0, 15).join('\n')}`)
  else t.pass(`${cases} cuts behave (seed ${seed})`)
}

t.test('a cut at every page boundary and inside every page of a small file', t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const dir = tmpDir(t)
  const h = buildHistory(path.join(dir, 'source.idx'), rng, { pageSize: 512, durability: 'full', commits: SOAK ? 80 : 30, maxBatch: 12, keyBytes: 24 })
  const P = h.pageSize
  const pages = h.bytes.length / P
  t.ok(h.commits.some(c => c.sequence > 0 && c.firstPage === c.commitPage), `the history has a commit without data pages (seed ${seed})`)
  t.ok(h.commits.some(c => c.commitPage - c.firstPage >= 3), `the history has a commit of several data pages (seed ${seed})`)
  const file = path.join(dir, 'cut.idx')
  const problems: string[] = []
  let cases = 0
  for (let p = 1; p <= pages; p++) {
    for (const tail of TAILS) {
      cases++
      problems.push(...checkCut(file, h, 'full', p * P, tail, tailBytes(h, rng, p * P, tail)))
    }
    if (p === pages) break
    for (const off of [1, 16 + rng.int(P - 32), P - 1]) {
      for (const tail of [rng.pick(TAILS), rng.pick(TAILS)]) {
        cases++
        const cut = p * P + off
        problems.push(...checkCut(file, h, 'full', cut, tail, tailBytes(h, rng, cut, tail)))
      }
    }
    if (problems.length > 50) break
  }
  t.comment(`${h.commits.length - 1} commits in ${pages} pages, ${cases} cuts`)
  report(t, seed, cases, problems)
  t.end()
})

for (const durability of ['full', 'none'] as const) {
  t.test(`random cuts of a larger file (durability ${durability})`, t => {
    const seed = Rng.seedFromEnv()
    const rng = new Rng(seed)
    t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
    const dir = tmpDir(t)
    const h = buildHistory(path.join(dir, 'source.idx'), rng, { pageSize: 1024, durability, commits: SOAK ? 400 : 120, maxBatch: 80, keyBytes: 40 })
    const file = path.join(dir, 'cut.idx')
    const problems: string[] = []
    const n = SOAK ? 600 : 120
    for (let i = 0; i < n && problems.length < 50; i++) {
      // Half the cuts land near a commit's end, where off-by-one mistakes would show.
      const near = rng.pick(h.commits).end + rng.int(5) - 2
      const cut = Math.min(h.bytes.length, Math.max(h.pageSize, rng.next() < 0.5 ? near : h.pageSize + rng.int(h.bytes.length - h.pageSize + 1)))
      const tail = rng.pick(TAILS)
      problems.push(...checkCut(file, h, durability, cut, tail, tailBytes(h, rng, cut, tail)))
    }
    t.comment(`${h.commits.length - 1} commits in ${h.bytes.length / h.pageSize} pages, ${n} cuts`)
    report(t, seed, n, problems)
    t.end()
  })
}

t.test('durability none: a damaged data page of the last commit makes its data checksum reject it', t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const dir = tmpDir(t)
  const file = path.join(dir, 'damaged.idx')
  let checked = 0
  let trusted = 0
  for (let attempt = 0; attempt < (SOAK ? 40 : 8); attempt++) {
    for (const durability of ['none', 'full', 'mixed'] as const) {
      const src = path.join(dir, `source-${attempt}-${durability}.idx`)
      const h = buildHistory(src, new Rng(seed + attempt), { pageSize: 512, durability, commits: 12, maxBatch: 30, keyBytes: 30 })
      // The last commit that appended data pages; later commits (metadata only) are dropped.
      const last = [...h.commits].reverse().find(c => c.sequence > 0 && c.commitPage > c.firstPage)!
      const prev = h.commits[last.sequence - 1]!
      const P = h.pageSize
      const bytes = Buffer.from(h.bytes.subarray(0, last.end))
      const victim = last.firstPage + rng.int(last.commitPage - last.firstPage)
      const how = rng.pick(['garbage', 'zeros', 'one byte'] as const)
      if (how === 'garbage') rng.bytes(P).copy(bytes, victim * P)
      else if (how === 'zeros') bytes.fill(0, victim * P, (victim + 1) * P)
      else bytes[victim * P + 16 + rng.int(P - 16)] ^= 1 + rng.int(255)
      fs.writeFileSync(file, bytes)
      const where = `seed ${seed}, attempt ${attempt}, durability ${durability}: ${how} on data page ${victim} of commit ${last.sequence} (pages ${last.firstPage}..${last.commitPage})`
      const synced = (h.bytes[last.commitPage * P + CMT_FLAGS]! & COMMIT_DATA_SYNCED) !== 0
      if (synced) {
        // The commit page says its data was synced, so open does not read the data pages: the
        // commit stays the newest, and verify finds the damage by the same checksum.
        const idx = Index.open(file, { readOnly: true })
        t.equal(idx.sequence, last.sequence, `a synced commit is trusted on open (${where})`)
        idx.close()
        const v = Index.verify(file)
        t.notOk(v.ok, `verify reports the damaged data page (${where})`)
        t.ok(v.errors.some(e => /data checksum/.test(e.message)), `verify names the data checksum (${where}): ${JSON.stringify(v.errors).slice(0, 500)}`)
        trusted++
        continue
      }
      // A 'none' commit, or a one-sync 'full' commit (COMMIT_PREV_DURABLE): its checksum rejects it.
      checked++
      const idx = Index.open(file)
      t.equal(idx.sequence, prev.sequence, `the damaged commit is rejected, the previous one is current (${where})`)
      t.equal(describeDiff(prev.pairs, listIndex(idx)), null, `contents are those of commit ${prev.sequence} (${where})`)
      t.equal(idx.meta?.toString() ?? null, prev.meta, `metadata of commit ${prev.sequence} (${where})`)
      // verify checks commit prev too, and may point at the rejected commit page, but at nothing else.
      const v0 = Index.verify(file)
      t.equal(v0.sequence, prev.sequence, `verify checks commit ${prev.sequence} (${where})`)
      t.same(v0.errors.filter(e => e.page !== last.commitPage), [], `verify finds nothing wrong but the rejected commit (${where})`)
      t.equal(idx.insert('~next', 7), true, `a new commit works (${where})`)
      const s = idx.stats()
      t.equal(s.sequence, prev.sequence + 1, `it follows commit ${prev.sequence} (${where})`)
      idx.close()
      const after = fs.readFileSync(file)
      t.ok(after.subarray((s.commitPage + 1) * P).every(b => b === 0), `only zeros follow the new commit (${where})`)
      t.ok(after.subarray(0, prev.end).equals(h.bytes.subarray(0, prev.end)), `nothing before the end of commit ${prev.sequence} changed (${where})`)
      t.equal(after.readUInt32LE(s.commitPage * P + CMT_FIRST_DATA), prev.commitPage + 1, `the rejected commit's pages were cut off (${where})`)
      const v = Index.verify(file)
      t.ok(v.ok && v.sequence === prev.sequence + 1 && v.entries === prev.pairs.length + 1, `verify ok after the new commit (${where}): ${JSON.stringify(v.errors).slice(0, 500)}`)
    }
  }
  t.ok(checked > 0, `some damaged commits were rejected by their checksum (${checked})`)
  t.comment(`${checked} damaged commits rejected, ${trusted} synced ones trusted`)
  t.end()
})

t.test('a two-sync commit (COMMIT_DATA_SYNCED) with a damaged data page is trusted on open, and verify finds the damage', t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  const dir = tmpDir(t)
  const file = path.join(dir, 'synced.idx')
  buildHistory(file, rng, { pageSize: 512, durability: 'none', commits: 5, maxBatch: 10, keyBytes: 20 })
  // A fresh handle does not know the earlier commits to be durable: it syncs before its commit page.
  const idx = Index.open(file)
  idx.transaction(tx => { for (let i = 0; i < 48; i++) tx.insert(`s${String(i).padStart(2, '0')}`.padEnd(30, 's'), i) })
  const s = idx.stats()
  idx.close()
  const P = 512
  const bytes = fs.readFileSync(file)
  const cp = bytes.subarray(s.commitPage * P, (s.commitPage + 1) * P)
  t.ok((cp[CMT_FLAGS]! & COMMIT_DATA_SYNCED) !== 0, `the commit is marked synced (seed ${seed})`)
  const first = cp.readUInt32LE(CMT_FIRST_DATA)
  t.ok(s.commitPage - first >= 2, 'it has several data pages')
  bytes.fill(0, first * P, (first + 1) * P)
  fs.writeFileSync(file, bytes)
  const r = Index.open(file, { readOnly: true })
  t.equal(r.sequence, s.sequence, 'open trusts the synced commit without reading its data pages')
  r.close()
  const v = Index.verify(file)
  t.notOk(v.ok, 'verify reports the damage')
  t.ok(v.errors.some(e => /data checksum/.test(e.message)), `verify names the data checksum: ${JSON.stringify(v.errors).slice(0, 400)}`)
  t.end()
})
