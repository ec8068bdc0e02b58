/**
 * Structural fuzzing: small valid indexes (page size 512, height 2-4) damaged by structure-aware
 * mutations whose checksums are all re-sealed (spec/fuzz/mutate.ts: child pointers, subtree
 * counts, levels, separators, leaf keys and rowIds, whole node pages copied elsewhere, commit
 * fields), with the data checksums of the commits around the damage usually recomputed, so the
 * damage is only structural and the reads meet it.
 *
 * On each damaged file, open, get, has, count, countRange, full ranges both ways, a range with
 * offset and limit, and verify must each return or throw CORRUPT (naming the file), read at most
 * 4 × pages + 64 pages (the file is read through a counting Vfs with no node cache, so reads are
 * the nodes visited; past the budget a read throws, so a runaway fails instead of hanging), and
 * a range yields at most the pairs physically present in the file's leaf pages. When verify says
 * the file is ok, the reads must agree with each other (a full range reversed is the reverse
 * range, its length is count(), get matches the range, and so on).
 *
 * Default: 3,000 cases. TAILROOT_SOAK=1: 60,000. TAILROOT_SEED=n replays a seed; every failure
 * names the seed, the case, the file and the mutations applied.
 */
import fs from 'node:fs'
import path from 'node:path'
import { crc32c } from '@node-rs/crc32'
import t from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import type { BuildOptions, OpenOptions, VfsFile } from '../../lib/index.ts'
import { decodeHeader, isHeaderProblem } from '../../lib/format/header.ts'
import { isLeaf } from '../../lib/format/node.ts'
import { verifyFile } from '../../lib/verify.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { MemVfs } from './mem-vfs.ts'
import { MUTATIONS, fixDataCrcs, mapFile, nodeAt } from './mutate.ts'
import type { FileMap } from './mutate.ts'

/** The keys of the utf8 and binary indexes these files test. */
type Key = string | Uint8Array
const openAny = (file: string, o: OpenOptions): Index<Key> => Index.open(file, o) as Index<Key>
const buildAny = (file: string, pairs: [Key, number][], o: BuildOptions): Index<Key> => Index.build(file, pairs, o) as Index<Key>

const CASES = SOAK ? 60_000 : 3_000
const P = 512
const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}${SOAK ? ' (soak)' : ''}: rerun with TAILROOT_SEED=${seed}`)
const rng = new Rng(seed)
// A soak outlasts tap's default timeout for a file run on its own.
if (SOAK) t.setTimeout(20 * 60_000)

/** Thrown by the counting Vfs once an operation has read more pages than its budget. */
class ReadBudgetExceeded extends Error {}

/** A read-only MemVfs that counts the pages each operation reads, and stops a runaway. */
class CountingVfs extends MemVfs {
  pagesRead = 0
  budget = Infinity

  override open(file: string, writable: boolean): VfsFile {
    const inner = super.open(file, writable)
    const read = (buf: Buffer, position: number): number => {
      const n = inner.read(buf, position)
      this.pagesRead += Math.ceil(n / P)
      if (this.pagesRead > this.budget) throw new ReadBudgetExceeded(`read budget of ${this.budget} pages exceeded`)
      return n
    }
    return {
      read,
      write: (buf, position) => inner.write(buf, position),
      datasync: () => inner.datasync(),
      size: () => inner.size(),
      identity: () => inner.identity(),
      truncate: length => inner.truncate(length),
      close: () => inner.close(),
    }
  }
}

interface Base {
  name: string
  binary: boolean
  bytes: Buffer
  map: FileMap
  /** Query keys: some present, some absent. */
  queries: Key[]
}

/** `pad` lengthens every key, for fewer entries per page and a taller tree. */
function makeBase(dir: string, name: string, binary: boolean, durability: 'full' | 'none', build: boolean, pad: number): Base {
  const file = path.join(dir, name)
  const word = (i: number): string => ['apple', 'b', 'cherry', 'dátil', 'elder', 'fig', 'grape'][i % 7]! + String(Math.floor(i / 7)).padStart(3, '0') + '.'.repeat(pad)
  const key = (i: number): Key => (binary ? Buffer.from(word(i)) : word(i))
  if (build) {
    const pairs: [Key, number][] = []
    for (let i = 0; i < 420; i++) pairs.push([key(i), i * 3 + 1])
    for (let r = 0; r < 60; r++) pairs.push([key(5), 10_000 + r]) // one key over several leaves
    buildAny(file, pairs, { pageSize: P, keyEncoding: binary ? 'binary' : 'utf8', durability }).close()
  } else {
    const idx = openAny(file, { pageSize: P, keyEncoding: binary ? 'binary' : 'utf8', durability, maxPendingChanges: 20 })
    idx.transaction(tx => { for (let i = 0; i < 260; i++) tx.insert(key(i), i) })
    idx.transaction(tx => { for (let r = 0; r < 80; r++) tx.insert(key(7), 1000 + r) })
    idx.transaction(tx => { for (let i = 0; i < 260; i += 9) tx.delete(key(i), i) })
    idx.transaction(tx => { for (let i = 260; i < 330; i++) tx.insert(key(i), i) })
    idx.close()
  }
  const bytes = fs.readFileSync(file)
  const h = decodeHeader(bytes)
  if (isHeaderProblem(h)) throw new Error(h.message)
  const map = mapFile(bytes, P, h.fileId)
  const queries: Key[] = [key(0), key(5), key(7), key(100), key(329), key(999), binary ? Buffer.alloc(0) : '', binary ? Buffer.from([0xff]) : 'zzz']
  return { name, binary, bytes, map, queries }
}

/** Pairs in every well-formed leaf page of the file: an upper bound on what any range may yield. */
function physicalPairs(bytes: Buffer): number {
  let n = 0
  for (let p = 1; p < Math.floor(bytes.length / P); p++) {
    const node = nodeAt(bytes, P, p)
    if (node && isLeaf(node)) n += node.count
  }
  return n
}

const show = (k: Key): string => (typeof k === 'string' ? Buffer.from(k, 'utf8').toString('hex') : Buffer.from(k).toString('hex'))

/**
 * The pairs of a range as `hex:rowId` strings. Throws a plain Error (a failure) when the range
 * yields more pairs than the file's leaves hold, or a pair not strictly after (`dir` 1) or before
 * (-1) the one before it: a walk may stop at damage, never repeat itself.
 */
function take(it: Iterable<[Key, number]>, cap: number, dir: 1 | -1 = 1): string[] {
  const out: string[] = []
  let last: [string, number] | null = null
  for (const [k, r] of it) {
    const h = show(k)
    if (last !== null) {
      const cmp = h < last[0] ? -1 : h > last[0] ? 1 : Math.sign(r - last[1])
      if (cmp !== dir) throw new Error(`a range yielded ${h}:${r} after ${last[0]}:${last[1]}`)
    }
    last = [h, r]
    out.push(`${h}:${r}`)
    if (out.length > cap) throw new Error(`a range yielded more than the ${cap} pairs the file's leaves hold`)
  }
  return out
}

t.test('structurally damaged files: every read answers or throws CORRUPT, in bounded reads', t => {
  const dir = tmpDir(t)
  const bases = [
    makeBase(dir, 'commits.idx', false, 'full', false, 30),
    makeBase(dir, 'unsynced.idx', true, 'none', false, 8),
    makeBase(dir, 'built.idx', false, 'full', true, 60),
  ]
  for (const b of bases) {
    const height = b.map.nodesByLevel.length
    t.ok(height >= 2 && height <= 4, `${b.name}: height ${height}, ${b.map.pages} pages, ${b.map.commits.length} commits`)
  }
  const vfs = new CountingVfs()
  const failures: string[] = []
  const stats = { cases: 0, openCorrupt: 0, verifyOk: 0, verifyNotOk: 0, readsCorrupt: 0, byMutation: {} as Record<string, number> }

  for (let c = 0; c < CASES && failures.length < 20; c++) {
    const base = bases[c % bases.length]!
    const bytes = Buffer.from(base.bytes)
    const done: string[] = []
    const touched = new Set<number>()
    for (let k = rng.int(3) === 0 ? 2 + rng.int(2) : 1; k > 0; k--) {
      const [kind, mutate] = rng.pick(MUTATIONS)
      const before = Buffer.from(bytes)
      const what = mutate(bytes, base.map, rng)
      if (what === null) continue
      done.push(what)
      stats.byMutation[kind] = (stats.byMutation[kind] ?? 0) + 1
      for (let p = 0; p < base.map.pages; p++) if (!bytes.subarray(p * P, (p + 1) * P).equals(before.subarray(p * P, (p + 1) * P))) touched.add(p)
    }
    const fixed = rng.int(8) !== 0
    if (fixed) fixDataCrcs(bytes, base.map, touched, d => crc32c(d))
    const where = `case ${c} (seed ${seed}) ${base.name}: ${done.join('; ') || 'no mutation applied'}${fixed ? '' : ', data checksums left stale'}`
    stats.cases++
    const budget = 4 * base.map.pages + 64
    const physical = physicalPairs(bytes)
    vfs.set(base.name, bytes)

    /** Runs one operation within the read budget; returns its value, or undefined when it threw CORRUPT. */
    const run = <T>(what: string, fn: () => T): T | undefined => {
      vfs.pagesRead = 0
      vfs.budget = budget
      try {
        const v = fn()
        if (vfs.pagesRead > budget) failures.push(`${where}: ${what} read ${vfs.pagesRead} pages (budget ${budget})`)
        return v
      } catch (err) {
        if (!(err instanceof TailrootError)) failures.push(`${where}: ${what} threw a foreign ${err instanceof Error ? (err.stack ?? '').split('\n').slice(0, 4).join(' | ') : String(err)}`)
        else if (err.code !== 'CORRUPT') failures.push(`${where}: ${what} threw ${err.code}: ${err.message}`)
        else if (!err.message.includes(base.name)) failures.push(`${where}: ${what}: the CORRUPT message does not name the file: ${err.message}`)
        return undefined
      } finally {
        vfs.budget = Infinity
      }
    }

    // Mostly without a node cache, so that pages read are nodes visited.
    const cacheBytes = rng.int(4) === 0 ? 1 << 20 : 0
    const idx = run('open', () => openAny(base.name, { readOnly: true, vfs, cacheBytes }))
    if (idx === undefined) { stats.openCorrupt++; continue }
    let sawCorrupt = false
    const read = <T>(what: string, fn: () => T): T | undefined => {
      const v = run(what, fn)
      if (v === undefined) sawCorrupt = true
      return v
    }
    const answers: { what: string; check: (all: string[]) => boolean }[] = []
    try {
      const total = read('count()', () => idx.count())
      const all = read('range()', () => take(idx.range(), physical))
      const rev = read('range reverse', () => take(idx.range({ reverse: true }), physical, -1))
      if (total !== undefined) answers.push({ what: 'count() is the length of range()', check: a => a.length === total })
      if (rev !== undefined) answers.push({ what: 'the reverse range is range() reversed', check: a => a.slice().reverse().join() === rev.join() })
      for (let i = 0; i < 3; i++) {
        const k = rng.pick(base.queries)
        const prefix = `${show(k)}:`
        const ids = read(`get ${show(k)}`, () => idx.get(k))
        if (ids !== undefined) answers.push({ what: `get ${show(k)}`, check: a => a.filter(p => p.startsWith(prefix)).join() === ids.map(r => prefix + r).join() })
        const n = read(`count ${show(k)}`, () => idx.count(k))
        if (n !== undefined) answers.push({ what: `count ${show(k)}`, check: a => a.filter(p => p.startsWith(prefix)).length === n })
        const r = rng.pick([0, 1, 5, 7, 1001, rng.int(2000)])
        const has = read(`has ${show(k)} ${r}`, () => idx.has(k, r))
        if (has !== undefined) answers.push({ what: `has ${show(k)} ${r}`, check: a => a.includes(prefix + r) === has })
      }
      const [lo, hi] = [rng.pick(base.queries), rng.pick(base.queries)]
      const inRange = (p: string): boolean => { const h = p.slice(0, p.indexOf(':')); return h >= show(lo) && h < show(hi) }
      const cr = read('countRange', () => idx.countRange({ gte: lo, lt: hi }))
      if (cr !== undefined) answers.push({ what: `countRange ${show(lo)}..${show(hi)}`, check: a => Math.max(0, a.filter(inRange).length) === cr })
      const off = rng.int(physical + 5)
      const lim = rng.int(40)
      const slice = read(`range offset ${off} limit ${lim}`, () => take(idx.range({ offset: off, limit: lim }), physical))
      if (slice !== undefined) answers.push({ what: `range offset ${off} limit ${lim}`, check: a => a.slice(off, off + lim).join() === slice.join() })
      const bounded = read('range gte lt reverse', () => take(idx.range({ gte: lo, lt: hi, reverse: true }), physical, -1))
      if (bounded !== undefined) answers.push({ what: `range ${show(lo)}..${show(hi)} reverse`, check: a => a.filter(inRange).reverse().join() === bounded.join() })

      const v = run('verify', () => verifyFile(base.name, vfs))
      if (v === undefined) failures.push(`${where}: verify threw instead of reporting`)
      else if (v.errors.length > 100) failures.push(`${where}: verify listed ${v.errors.length} errors`)
      else if (v.ok) {
        stats.verifyOk++
        // A file verify passes must read consistently, and without CORRUPT.
        if (sawCorrupt) failures.push(`${where}: verify says ok, but a read threw CORRUPT`)
        else if (all !== undefined) for (const a of answers) if (!a.check(all)) failures.push(`${where}: verify says ok, but ${a.what} disagrees with range()`)
      } else {
        stats.verifyNotOk++
      }
      if (sawCorrupt) stats.readsCorrupt++
    } finally {
      idx.close()
    }
  }
  t.comment(JSON.stringify(stats))
  t.same(failures, [], `every operation answered or threw CORRUPT within its read budget (${CASES} cases, seed ${seed})`)
  t.ok(stats.verifyNotOk > CASES / 4, `verify reported the damage in many cases (${stats.verifyNotOk})`)
  t.ok(stats.readsCorrupt > CASES / 10, `reads met the damage in many cases (${stats.readsCorrupt})`)
  t.end()
})
