// Power loss with an arbitrary subset of unsynced pages lost. A history of commits, each written
// by a 'full' or a 'none' handle at random, is recorded write by write and sync by sync
// (FaultyVfs). A power cut after any of those operations keeps every page synced before it, and
// of the pages written since the last sync an arbitrary subset: each one is kept, lost (back to
// what it held at the last sync: zeros, or preallocated zeros), or, at the end of the file, gone
// with the file size. Pages are replayed from the bytes of each write, so a page preallocated
// with zeros and later overwritten by a commit is modelled as the disk would hold it. Opening the result must land on a commit
// whose every reachable page is intact: at least the newest commit acknowledged as durable (a
// 'full' commit whose final sync returned), at least the newest commit all of whose bytes
// survived, at most the newest commit whose page was written, with exactly that commit's
// contents; a new commit then works and the file verifies.
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 builds longer histories and tries more cuts.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { PAGE_COMMIT } from '../../lib/format/constants.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'
import type { OpRecord } from '../helpers/faulty-vfs.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { SOAK } from '../helpers/soak.ts'
import { buildHistory } from './history.ts'
import type { CommitRecord, History } from './history.ts'
import { describeDiff, listIndex } from './pair-set.ts'

interface Recorded {
  h: History
  /** Every write and datasync of the history, in order. */
  ops: OpRecord[]
  /** For each commit (index = sequence): the op index of its commit-page write, and of its last op. */
  commitOp: number[]
  lastOp: number[]
}

function record(file: string, rng: Rng, commits: number): Recorded {
  const vfs = new FaultyVfs(undefined, true)
  const lastOp: number[] = [-1]
  const h = buildHistory(file, rng, {
    pageSize: 512, durability: 'mixed', commits, maxBatch: 30, keyBytes: 24, vfs,
    onCommit: () => { lastOp.push(vfs.log.length - 1) },
  })
  const ops = vfs.log.filter(r => r.file === file)
  if (ops.length !== vfs.log.length) throw new Error('the history wrote to another file')
  if (ops.some(r => r.op === 'truncate')) throw new Error('a clean history truncated its file')
  const P = h.pageSize
  // The write that stored the commit page (not the preallocation's zeros that came before it).
  const holds = (r: OpRecord, page: number): boolean => r.op === 'write' && r.position <= page * P && page * P < r.position + r.length && r.data![page * P - r.position] === PAGE_COMMIT
  const commitOp = h.commits.map(c => c.sequence === 0 ? -1 : ops.findIndex(r => holds(r, c.commitPage)))
  if (commitOp.some((i, s) => s > 0 && i < 0)) throw new Error('a commit page write was not found')
  return { h, ops, commitOp, lastOp }
}

interface Cut {
  bytes: Buffer
  /** First byte where the result differs from the history's file (its length when nowhere). */
  intactBytes: number
  what: string
}

/** The file after a power cut right after op `k` (exclusive: ops [0, k) happened). */
type Mode = 'keep none' | 'keep all' | 'random'

function powerCut(r: Recorded, k: number, rng: Rng, mode: Mode = rng.pick(['keep none', 'keep all', 'random', 'random'] as const)): Cut {
  const P = r.h.pageSize
  const synced = new Set<number>([0]) // the header was created synced
  const dirty = new Set<number>()
  let written = P
  // The pages as the OS holds them after op k, and as the disk held them at the last sync.
  const current = Buffer.alloc(r.h.bytes.length)
  r.h.bytes.copy(current, 0, 0, P)
  const durable = Buffer.from(current)
  for (let i = 0; i < k; i++) {
    const op = r.ops[i]!
    if (op.op === 'datasync') {
      for (const p of dirty) { synced.add(p); current.copy(durable, p * P, p * P, (p + 1) * P) }
      dirty.clear()
    } else if (op.op === 'write') {
      for (let p = op.position / P; p < (op.position + op.length) / P; p++) dirty.add(p)
      op.data!.copy(current, op.position)
      written = Math.max(written, op.position + op.length)
    }
  }
  const lost: number[] = []
  const bytes = Buffer.from(current.subarray(0, written))
  for (const p of dirty) {
    const keep = mode === 'keep all' ? true : mode === 'keep none' ? false : rng.next() < 0.5
    if (!keep) { durable.copy(bytes, p * P, p * P, (p + 1) * P); lost.push(p) }
  }
  // The size may or may not have reached the disk: cut lost pages off the end, sometimes.
  let size = written
  if (rng.next() < 0.5) while (size > P && lost.includes(size / P - 1) && !synced.has(size / P - 1)) size -= P
  const out = bytes.subarray(0, size)
  let intact = 0
  while (intact < out.length && out[intact] === r.h.bytes[intact]) intact++
  lost.sort((a, b) => a - b)
  return { bytes: out, intactBytes: intact, what: `cut after op ${k} of ${r.ops.length}, ${mode}, lost pages [${lost.join(',')}], size ${size / P} pages` }
}

function check(file: string, r: Recorded, k: number, cut: Cut): string[] {
  const { h } = r
  const P = h.pageSize
  const problems: string[] = []
  const what = cut.what
  fs.writeFileSync(file, cut.bytes)
  // Bounds on the commit the file must open at.
  let durable = 0
  let intact = 0
  let written = 0
  for (const c of h.commits) {
    if (c.sequence === 0) continue
    if (c.durability === 'full' && r.lastOp[c.sequence]! < k) durable = c.sequence
    if (c.end <= cut.intactBytes) intact = c.sequence
    if (r.commitOp[c.sequence]! < k) written = c.sequence
  }
  const lower = Math.max(durable, intact)
  let newSeq = -1
  let idx: Index
  try {
    idx = Index.open(file)
  } catch (err) {
    return [`${what}: open threw ${String(err)}`]
  }
  try {
    const seq = idx.sequence
    if (seq < lower || seq > written) problems.push(`${what}: opened at sequence ${seq}, expected ${lower}..${written} (durable ${durable}, intact ${intact})`)
    const exp: CommitRecord | undefined = h.commits[seq]
    if (exp === undefined) return problems
    let listed: string[]
    try { listed = listIndex(idx) } catch (err) { problems.push(`${what}: reading commit ${seq} threw ${String(err)}`); return problems }
    const diff = describeDiff(exp.pairs, listed)
    if (diff !== null) problems.push(`${what}: contents differ from commit ${seq}: ${diff}`)
    if ((idx.meta?.toString() ?? null) !== exp.meta) problems.push(`${what}: metadata of commit ${seq} differs`)
    if (problems.length > 0) return problems
    idx.insert('~after', k)
    const s = idx.stats()
    newSeq = s.sequence
    if (s.sequence !== seq + 1) problems.push(`${what}: the commit after the cut is ${s.sequence}`)
    const after = fs.readFileSync(file)
    if (after.subarray((s.commitPage + 1) * P).some(b => b !== 0)) problems.push(`${what}: non-zero bytes follow the commit after the cut (page ${s.commitPage}, file of ${after.length} bytes)`)
  } catch (err) {
    problems.push(`${what}: ${String(err)}`)
  } finally {
    idx.close()
  }
  const v = Index.verify(file)
  if (!v.ok) problems.push(`${what}: verify after the new commit: ${JSON.stringify(v.errors).slice(0, 600)}`)
  else if (v.sequence !== newSeq) problems.push(`${what}: a fresh open finds commit ${v.sequence}, not the new commit ${newSeq}`)
  return problems
}

t.test('power cuts that lose an arbitrary subset of unsynced pages, after mixed full and none commits', t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const dir = tmpDir(t)
  const r = record(path.join(dir, 'source.idx'), rng, SOAK ? 200 : 60)
  const kinds = new Set(r.h.commits.slice(1).map(c => c.durability))
  t.equal(kinds.size, 2, `the history mixes full and none commits (seed ${seed})`)
  const file = path.join(dir, 'cut.idx')
  const problems: string[] = []
  const cuts = SOAK ? 3000 : 400
  for (let i = 0; i < cuts && problems.length < 20; i++) {
    const k = rng.int(r.ops.length + 1)
    problems.push(...check(file, r, k, powerCut(r, k, rng)))
  }
  // Every op boundary at least once, losing everything unsynced (the harshest case).
  for (let k = 0; k <= r.ops.length && problems.length < 20; k++) {
    const cut = powerCut(r, k, rng, 'keep none')
    problems.push(...check(file, r, k, cut))
  }
  if (problems.length > 0) t.fail(`seed ${seed}: ${problems.length} problems; first ones:\n${problems.slice(0, 10).join('\n')}`)
  else t.pass(`${cuts + r.ops.length + 1} power cuts behave (seed ${seed}, ${r.h.commits.length - 1} commits, ${r.ops.length} ops)`)
  t.end()
})
