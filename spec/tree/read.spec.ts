/**
 * Reading hostile trees: internal nodes that share a child (a DAG whose counts agree), leaves out
 * of order, and subtree counts that lie. Every read must answer or throw CORRUPT after a number
 * of node loads bounded by the nodes that exist, never walk the same leaves again and again.
 *
 * The pure cases run over an in-memory NodeSource that counts loads and throws a plain Error past
 * a budget, so a runaway walk fails its test instead of hanging the runner. The crafted file
 * (height 40, every internal node pointing twice at one child: 2^39 paths to one leaf) goes
 * through the public API in child processes with a heap cap and a timeout, because before the
 * cursor's order check it exhausted any heap. Randomised parts print their seed; TAILROOT_SEED=n
 * replays one.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { TailrootError } from '../../lib/errors.ts'
import { comparePair, isLeaf } from '../../lib/format/node.ts'
import type { InternalNode, TreeNode } from '../../lib/format/node.ts'
import { countLess, Cursor, hasPair, idsOf, walk } from '../../lib/tree/read.ts'
import type { ChildRef, MemNode } from '../../lib/tree/node-ref.ts'
import type { NodeSource, TreeRoot } from '../../lib/tree/source.ts'
import { leaf, sharedChildFile } from '../fuzz/craft.ts'
import { runCrafted } from '../fuzz/crafted-run.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'
import { tmpDir } from '../helpers/tmp.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}: rerun with TAILROOT_SEED=${seed}`)

/** Nodes by page number, as a file would hold them; counts loads and stops a runaway walk. */
class Pages implements NodeSource {
  readonly path = 'mem.idx'
  readonly nodes = new Map<number, TreeNode>()
  loads = 0
  budget = 100_000

  add(page: number, n: TreeNode): number {
    this.nodes.set(page, n)
    return page
  }

  load(ref: ChildRef, level: number): MemNode {
    if (++this.loads > this.budget) throw new Error(`runaway: more than ${this.budget} node loads`)
    const n = typeof ref === 'number' ? this.nodes.get(ref) : ref
    if (n === undefined) throw new TailrootError('CORRUPT', `${this.path}: page ${String(ref)}: no such node`, { page: Number(ref) })
    if (n.level !== level) throw new TailrootError('CORRUPT', `${this.path}: page ${String(ref)}: level ${n.level}, expected ${level}`, { page: Number(ref) })
    return n
  }
}

function inner(level: number, children: number[], counts: number[], seps: [string, number][]): InternalNode {
  return {
    level, children, counts, sepKeys: seps.map(s => s[0]), sepIds: seps.map(s => s[1]),
    count: counts.reduce((a, b) => a + b, 0),
  }
}

/** Pairs of a walk, and how it ended: normally or with an error. */
function drain(it: Iterable<[string, number]>, cap = 1_000_000): { pairs: [string, number][]; err: unknown } {
  const pairs: [string, number][] = []
  try {
    for (const p of it) {
      pairs.push(p)
      if (pairs.length > cap) throw new Error(`runaway: more than ${cap} pairs`)
    }
  } catch (err) {
    return { pairs, err }
  }
  return { pairs, err: null }
}

/** In memory, the same DAG as sharedChildFile: page 1 a leaf, pages 2..height each [p-1, p-1]. */
function sharedChildTree(height: number): { src: Pages; t: TreeRoot } {
  const src = new Pages()
  src.add(1, leaf(['a'], [[1]]))
  for (let level = 1; level < height; level++) src.add(level + 1, inner(level, [level, level], [2 ** (level - 1), 2 ** (level - 1)], [['b', 0]]))
  return { src, t: { root: height, height, count: 2 ** (height - 1) } }
}

t.test('walking a DAG of shared children stops with CORRUPT at the first leaf reached twice', t => {
  const H = 40
  const isCorruptOfLeaf = (err: unknown): boolean => err instanceof TailrootError && err.code === 'CORRUPT' && err.page === 1 && err.message.startsWith('mem.idx: page 1: ')
  const cases: [string, (src: Pages, tr: TreeRoot) => Iterable<[string, number]>][] = [
    ['forward from rank 0', (src, tr) => walk(src, tr, 0, tr.count, false)],
    ['reverse from the last rank', (src, tr) => walk(src, tr, tr.count - 1, tr.count, true)],
    ['forward from the middle', (src, tr) => walk(src, tr, 2 ** (H - 2), 1000, false)],
    ['reverse from the middle', (src, tr) => walk(src, tr, 2 ** (H - 2), 1000, true)],
  ]
  for (const [what, run] of cases) {
    const { src, t: tr } = sharedChildTree(H)
    const r = drain(run(src, tr))
    t.same(r.pairs, [['a', 1]], `${what}: the leaf's pair once`)
    t.ok(isCorruptOfLeaf(r.err), `${what}: then CORRUPT naming the file and page 1: ${String(r.err)}`)
    t.ok(src.loads <= 2 * H + 2, `${what}: ${src.loads} loads for height ${H}`)
  }
  const { src, t: tr } = sharedChildTree(H)
  t.throws(() => idsOf(src, tr, 'a'), { code: 'CORRUPT', page: 1 }, 'get: CORRUPT instead of 2^39 copies of one rowId')
  t.ok(src.loads <= 2 * H + 2, `get: ${src.loads} loads`)
  src.loads = 0
  t.equal(hasPair(src, tr, 'a', 1), true, 'has: one descent')
  t.equal(countLess(src, tr, 'b', -1), 1, 'countLess: one descent')
  t.ok(src.loads <= 2 * H, `has and countLess: ${src.loads} loads`)
  t.end()
})

// Leaves a..c, d..f, g..i; the root lists them as [a..c, g..i, d..f] with ascending separators,
// so one of the two last leaves is out of place whichever way a walk goes.
function misplacedLeafTree(): { src: Pages; t: TreeRoot } {
  const src = new Pages()
  src.add(1, leaf(['a', 'b', 'c'], [[1], [1], [1]]))
  src.add(2, leaf(['d', 'e', 'f'], [[1], [1], [1]]))
  src.add(3, leaf(['g', 'h', 'i'], [[1], [1], [1]]))
  src.add(4, inner(1, [1, 3, 2], [3, 3, 3], [['d', 0], ['g', 0]]))
  return { src, t: { root: 4, height: 2, count: 9 } }
}

t.test('a leaf out of order is CORRUPT when a walk enters it, forward or backward', t => {
  let { src, t: tr } = misplacedLeafTree()
  let r = drain(walk(src, tr, 0, 9, false))
  t.same(r.pairs.map(p => p[0]).join(''), 'abcghi', 'forward: up to the misplaced leaf')
  t.match(r.err, { code: 'CORRUPT', page: 2 }, 'forward: CORRUPT names the page entered')
  ;({ src, t: tr } = misplacedLeafTree())
  r = drain(walk(src, tr, 8, 9, true))
  t.same(r.pairs.map(p => p[0]).join(''), 'fed', 'reverse: the last leaf')
  t.match(r.err, { code: 'CORRUPT', page: 3 }, 'reverse: CORRUPT names the page entered')
  // A key spread over leaves (the same key continuing) is in order: rowIds go on increasing.
  const ok = new Pages()
  ok.add(1, leaf(['a', 'k'], [[1], [1, 2]]))
  ok.add(2, leaf(['k'], [[3, 4]]))
  ok.add(3, leaf(['k', 'z'], [[5], [1]]))
  ok.add(4, inner(1, [1, 2, 3], [3, 2, 2], [['k', 3], ['k', 5]]))
  const kt = { root: 4, height: 2, count: 7 }
  t.same(idsOf(ok, kt, 'k'), [1, 2, 3, 4, 5], 'a key over three leaves')
  t.same(drain(walk(ok, kt, 6, 7, true)).pairs.map(p => p.join('')), ['z1', 'k5', 'k4', 'k3', 'k2', 'k1', 'a1'])
  // The same rowId at both sides of a boundary is a repeated pair: CORRUPT.
  const dup = new Pages()
  dup.add(1, leaf(['k'], [[1, 2]]))
  dup.add(2, leaf(['k'], [[2, 3]]))
  dup.add(3, inner(1, [1, 2], [2, 2], [['k', 2]]))
  t.throws(() => idsOf(dup, { root: 3, height: 2, count: 4 }, 'k'), { code: 'CORRUPT', page: 2 }, 'a pair repeated across leaves')
  t.end()
})

t.test('counts that claim more entries than the leaves hold: walks end, seeks do not loop', t => {
  const src = new Pages()
  src.add(1, leaf(['a'], [[1, 2, 3]]))
  src.add(2, leaf(['b'], [[1, 2, 3]]))
  src.add(3, inner(1, [1, 2], [1000, 1000], [['b', 0]]))
  const tr = { root: 3, height: 2, count: 2000 }
  t.same(drain(walk(src, tr, 0, 2000, false)).pairs.map(p => p.join('')), ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'], 'a full walk yields what exists and ends')
  t.same(drain(walk(src, tr, 2, 2000, true)).pairs.map(p => p.join('')), ['a3', 'a2', 'a1'], 'a reverse walk ends at the first leaf')
  t.same(drain(walk(src, tr, 1999, 2000, true)), { pairs: [], err: null }, 'a rank the counts promise but no leaf holds: nothing')
  t.same(drain(walk(src, tr, 500, 10, false)), { pairs: [], err: null })
  t.equal(new Cursor(src, tr).seek(2 ** 52), false, 'a rank beyond the count')
  t.end()
})

t.test('random trees with shared children, lying counts and misplaced nodes: bounded walks', t => {
  // Each case: a valid random tree of height 2-4, then a few pointers redirected to other nodes of
  // the same level and a few counts replaced. Every walk, seek and lookup must end within a load
  // budget proportional to the nodes, yield strictly ascending (or descending) pairs, never more
  // than the leaves hold, and throw nothing but CORRUPT.
  const rng = new Rng(seed)
  const CASES = SOAK ? 50_000 : 3_000
  const failures: string[] = []
  let corrupt = 0
  for (let c = 0; c < CASES && failures.length < 10; c++) {
    const src = new Pages()
    let page = 1
    let level: number[] = []
    let physical = 0
    const byLevel: number[][] = []
    const nLeaves = 2 + rng.int(12)
    let key = 0
    for (let i = 0; i < nLeaves; i++) {
      const keys: string[] = []
      const ids: number[][] = []
      for (let g = 1 + rng.int(3); g > 0; g--) {
        keys.push(`k${String(key++).padStart(3, '0')}`)
        ids.push(Array.from({ length: 1 + rng.int(3) }, (_, j) => j * 2 + 1))
      }
      const l = leaf(keys, ids)
      physical += l.count
      level.push(src.add(page++, l))
    }
    byLevel.push(level)
    for (let lv = 1; level.length > 1; lv++) {
      const next: number[] = []
      for (let i = 0; i < level.length; ) {
        const take = Math.min(level.length - i, 2 + rng.int(3))
        const kids = level.slice(i, i + (level.length - i - take === 1 ? take + 1 : take))
        i += kids.length
        const nodes = kids.map(p => src.nodes.get(p)!)
        const first = (n: TreeNode): [string, number] => { let x = n; while (!isLeaf(x)) x = src.nodes.get(x.children[0]!)!; return [x.keys[0]!, x.ids[0]![0]!] }
        next.push(src.add(page++, inner(lv, kids, nodes.map(n => n.count), nodes.slice(1).map(first))))
      }
      level = next
      byLevel.push(level)
    }
    const height = byLevel.length
    const root = level[0]!
    const damage: string[] = []
    for (let d = rng.int(4); d > 0; d--) {
      const lv = 1 + rng.int(Math.max(1, height - 1))
      if (lv >= height) break
      const p = rng.pick(byLevel[lv]!)
      const n = src.nodes.get(p) as InternalNode
      const i = rng.int(n.children.length)
      if (rng.int(2) === 0) {
        const to = rng.pick(byLevel[lv - 1]!)
        n.children[i] = to
        damage.push(`page ${p} child ${i} -> page ${to}`)
      } else {
        const v = rng.pick([1, 2, n.counts[i]! + 1, n.counts[i]! * 3, 2 ** 48 - 1])
        n.counts[i] = v
        n.prefix = undefined
        damage.push(`page ${p} count ${i} -> ${v}`)
      }
      n.count = n.counts.reduce((a, b) => a + b, 0)
    }
    const rootNode = src.nodes.get(root)!
    const tr: TreeRoot = { root, height, count: rootNode.count }
    const where = `case ${c} (seed ${seed}): height ${height}, ${src.nodes.size} nodes, damage [${damage.join('; ')}]`
    const budget = 2 * src.nodes.size + 4 * height
    const check = (what: string, run: () => void): void => {
      src.loads = 0
      src.budget = budget
      try { run() } catch (err) {
        if (!(err instanceof TailrootError) || err.code !== 'CORRUPT') failures.push(`${where}: ${what}: ${String(err)}`)
        else corrupt++
      }
    }
    for (let k = 0; k < 4; k++) {
      const reverse = rng.int(2) === 0
      const start = rng.int(2) === 0 ? rng.int(Math.min(tr.count, physical + 3)) : rng.int(tr.count)
      check(`walk from ${start}${reverse ? ' reverse' : ''}`, () => {
        const r = drain(walk(src, tr, start, tr.count, reverse), physical)
        for (let i = 1; i < r.pairs.length; i++) {
          const [a, b] = [r.pairs[i - 1]!, r.pairs[i]!]
          if (comparePair(a[0], a[1], b[0], b[1]) * (reverse ? -1 : 1) >= 0) { failures.push(`${where}: walk from ${start}: pairs out of order at ${i}`); break }
        }
        if (r.err !== null) throw r.err
      })
    }
    check('get', () => { idsOf(src, tr, `k${String(rng.int(key + 2)).padStart(3, '0')}`) })
    check('seek', () => { new Cursor(src, tr).seek(rng.int(tr.count)) })
    check('countLess', () => { countLess(src, tr, `k${String(rng.int(key + 2)).padStart(3, '0')}`, 1) })
  }
  t.same(failures, [], `every walk bounded and ordered (${CASES} cases, seed ${seed})`)
  t.ok(corrupt > CASES / 10, `the damage was often met and reported (${corrupt} CORRUPT)`)
  t.end()
})

t.test('the crafted file of 2^39 paths to one leaf, through the public API', t => {
  const file = path.join(tmpDir(t), 'dag.idx')
  fs.writeFileSync(file, sharedChildFile(40))
  t.ok(fs.statSync(file).size < 24 * 1024, 'a small file')
  // Reads that walk leaves must stop at the leaf reached twice; descents answer.
  const walks = ['get', 'range', 'range-reverse', 'range-slice']
  const descents = ['open', 'has', 'count', 'count-key', 'count-range']
  for (const op of [...walks, ...descents]) {
    const r = runCrafted(file, op)
    t.equal(r.status, 0, `${op}: the child exits cleanly (signal ${r.signal}): ${r.out.slice(0, 300)}`)
    if (walks.includes(op)) t.match(r.out, /^CORRUPT .*dag\.idx: page 1: leaf out of key order/, `${op}: CORRUPT naming the page`)
    else t.match(r.out, /^ok /, `${op}: answers`)
  }
  t.end()
})
