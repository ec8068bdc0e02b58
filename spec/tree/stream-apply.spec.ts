/**
 * The streaming apply (applyBatchTo) against the in-memory one (applyBatch) and a sorted model:
 * random trees at several page sizes, batches of inserts and deletes that split roots, empty
 * ranges and shrink the tree, each applied both ways over the same pages. The streamed tree must
 * be the in-memory tree node for node, hold exactly the model's pairs, keep children below
 * parents, account for every page (replaced clean pages, written pages live or garbage), and hold
 * a bounded number of nodes in memory however many it rewrites or makes. Randomised: prints its seed;
 * TAILROOT_SEED=n replays one.
 */
import t from 'tap'
import type { Test } from 'tap'
import { comparePair, decodeNode, encodeNode, isLeaf } from '../../lib/format/node.ts'
import type { TreeNode } from '../../lib/format/node.ts'
import { applyBatch, applyBatchTo } from '../../lib/tree/apply.ts'
import type { Batch } from '../../lib/tree/batch.ts'
import type { ChildRef, MemNode } from '../../lib/tree/node-ref.ts'
import type { NodeSink } from '../../lib/tree/sink.ts'
import type { NodeSource, TreeRoot } from '../../lib/tree/source.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}: rerun with TAILROOT_SEED=${seed}`)

/** Pages as a file holds them: encoded on append, decoded on every load (no cache). */
class Disk implements NodeSource, NodeSink {
  readonly path = 'disk.idx'
  /** Page 0 is the header. */
  readonly pages: Buffer[] = [Buffer.alloc(0)]
  readonly pageSize: number

  constructor(pageSize: number) {
    this.pageSize = pageSize
  }

  append(node: TreeNode): number {
    const page = this.pages.length
    this.pages.push(encodeNode(node, page, this.pageSize))
    return page
  }

  load(ref: ChildRef, level: number): MemNode {
    if (typeof ref !== 'number') return ref
    const buf = this.pages[ref]
    if (ref === 0 || buf === undefined) throw new Error(`no node at page ${ref}`)
    const n = decodeNode(buf)
    if (n.level !== level) throw new Error(`page ${ref}: level ${n.level}, expected ${level}`)
    return n
  }
}

type Pair = [string, number]
const pairKey = (k: string, r: number): string => `${k}\u0000${r}`

/**
 * A canonical text of the tree under `ref` (nodes in memory or pages of `src`), checking the
 * invariants of FORMAT.md §7 on the way: leaves at one depth, internal nodes of ≥ 2 children,
 * counts that add up, children written below their parents. Collects the pages it reaches.
 */
function dump(src: NodeSource, ref: ChildRef, level: number, pages: Set<number>, pairs: Pair[], parentPage = Infinity): string {
  const n = src.load(ref, level)
  if (typeof ref === 'number') {
    if (ref >= parentPage) throw new Error(`page ${ref} is not below its parent ${parentPage}`)
    pages.add(ref)
  }
  const page = typeof ref === 'number' ? ref : Infinity
  if (isLeaf(n)) {
    if (n.keys.length === 0) throw new Error('an empty leaf')
    let count = 0
    for (let g = 0; g < n.keys.length; g++) {
      for (const id of n.ids[g]!) pairs.push([n.keys[g]!, id])
      count += n.ids[g]!.length
    }
    if (count !== n.count) throw new Error(`leaf count ${n.count}, holds ${count}`)
    return `L(${n.keys.map((k, g) => `${k}:${n.ids[g]!.join(',')}`).join(' ')})`
  }
  if (n.children.length < 2) throw new Error(`an internal node with ${n.children.length} child`)
  const parts: string[] = []
  let count = 0
  for (let i = 0; i < n.children.length; i++) {
    if (i > 0) parts.push(`|${n.sepKeys[i - 1]!},${n.sepIds[i - 1]!}|`)
    const before = pairs.length
    parts.push(dump(src, n.children[i]!, level - 1, pages, pairs, page))
    if (pairs.length - before !== n.counts[i]) throw new Error(`child ${i} counted ${n.counts[i]}, holds ${pairs.length - before}`)
    count += n.counts[i]!
  }
  if (count !== n.count) throw new Error(`internal count ${n.count}, children hold ${count}`)
  return `I${level}[${parts.join(' ')}]`
}

function treeText(src: NodeSource, tr: TreeRoot): { text: string; pages: Set<number>; pairs: Pair[] } {
  const pages = new Set<number>()
  const pairs: Pair[] = []
  const text = tr.height === 0 ? '' : dump(src, tr.root, tr.height - 1, pages, pairs)
  return { text, pages, pairs }
}

function batchOf(changes: [string, number, boolean][]): Batch {
  changes.sort((x, y) => comparePair(x[0], x[1], y[0], y[1]))
  return { keys: changes.map(c => c[0]), ids: changes.map(c => c[1]), ins: changes.map(c => c[2]) }
}

/**
 * Nodes an apply may hold at once in a tree of `height`: a few per level and a few leaves, plus,
 * for a batch of `changes` crowding into one subtree, the internal nodes above the leaves it
 * makes there (one level of them at a time), never every leaf it rewrites or makes.
 */
const heldBound = (height: number, changes = 0): number => 4 * height + 10 + Math.ceil(changes / 256)

/** Applies `b` both ways over `disk`; checks everything; returns the streamed tree. */
function applyBoth(t: Test, disk: Disk, tree: TreeRoot<number>, b: Batch, model: Map<string, Pair>, what: string): { tree: TreeRoot<number>; garbage: number; written: number; peak: number } | null {
  const fail = (msg: string): null => { t.fail(`${what}: ${msg}`); return null }
  const old = treeText(disk, tree)
  const mem = applyBatch(disk, tree, b, disk.pageSize)
  const want = treeText(disk, mem)
  const first = disk.pages.length
  const s = applyBatchTo(disk, tree, b, disk.pageSize, disk)
  const written = disk.pages.length - first
  let got: ReturnType<typeof treeText>
  try { got = treeText(disk, s) } catch (err) { return fail(`streamed tree: ${(err as Error).message}`) }
  if (s.height !== mem.height || s.count !== mem.count) return fail(`height/count ${s.height}/${s.count}, in memory ${mem.height}/${mem.count}`)
  if (got.text !== want.text) return fail('the streamed tree differs from the in-memory one')
  const expect = [...model.values()].sort((x, y) => comparePair(x[0], x[1], y[0], y[1]))
  if (s.count !== expect.length || JSON.stringify(got.pairs) !== JSON.stringify(expect)) return fail(`the tree holds ${s.count} pairs, not the model's ${expect.length}`)
  // Page accounting, as livePages needs it: old live - replaced - garbage + written = new live.
  let gone = 0
  for (const p of old.pages) if (!got.pages.has(p)) gone++
  let fresh = 0
  for (const p of got.pages) if (p >= first) fresh++
  if (s.replaced !== gone) return fail(`replaced ${s.replaced}, but ${gone} old pages left the tree`)
  if (s.replaced !== mem.replaced) return fail(`replaced ${s.replaced}, in memory ${mem.replaced}`)
  if (fresh + s.garbage !== written) return fail(`${written} pages written, ${fresh} in the tree, garbage ${s.garbage}`)
  if (old.pages.size - s.replaced - s.garbage + written !== got.pages.size) return fail('live pages do not add up')
  // Memory: a few nodes per level, however many the batch rewrites or makes.
  const bound = heldBound(Math.max(s.height, tree.height), b.keys.length)
  if (s.peakHeld > bound) return fail(`held ${s.peakHeld} nodes at once (bound ${bound}; wrote ${written})`)
  return { tree: { root: s.root, height: s.height, count: s.count }, garbage: s.garbage, written, peak: s.peakHeld }
}

t.test('streamed apply = in-memory apply = the model', t => {
  const rng = new Rng(seed)
  const rounds = SOAK ? 400 : 60
  let garbage = 0
  let written = 0
  let peak = 0
  let maxHeight = 0
  for (let round = 0; round < rounds && t.counts.fail === 0; round++) {
    const pageSize = rng.pick([512, 512, 1024, 2048, 4096])
    const nKeys = 1 + rng.int(rng.next() < 0.2 ? 10 : 3000)
    const nIds = 1 + rng.int(rng.next() < 0.3 ? 3 : 200)
    const pad = rng.next() < 0.5 ? 0 : rng.int(pageSize === 512 ? 150 : 400)
    const keyOf = (i: number): string => `k${String(i).padStart(5, '0')}${'x'.repeat((i * 7) % (pad + 1))}`
    const disk = new Disk(pageSize)
    const model = new Map<string, Pair>()
    let tree: TreeRoot<number> = { root: 0, height: 0, count: 0 }
    const steps = 3 + rng.int(8)
    for (let step = 0; step < steps; step++) {
      const changes = new Map<string, [string, number, boolean]>()
      const kind = rng.pick(['grow', 'grow', 'mixed', 'shrink', 'range', 'few'])
      if (kind === 'shrink' || kind === 'range') {
        const present = [...model.values()].sort((x, y) => comparePair(x[0], x[1], y[0], y[1]))
        const frac = rng.next() < 0.3 ? 1 : rng.next()
        const from = kind === 'range' ? rng.int(present.length + 1) : 0
        const to = kind === 'range' ? from + Math.floor((present.length - from) * frac) : present.length
        for (let i = from; i < to; i++) {
          if (kind === 'shrink' && rng.next() > frac) continue
          const p = present[i]!
          changes.set(pairKey(p[0], p[1]), [p[0], p[1], false])
        }
      } else {
        const n = kind === 'few' ? 1 + rng.int(4) : rng.int(kind === 'grow' ? (rng.next() < 0.2 ? 15000 : 4000) : 1500)
        for (let i = 0; i < n; i++) {
          const k = keyOf(rng.int(nKeys))
          const r = rng.int(nIds)
          const pk = pairKey(k, r)
          if (changes.has(pk)) continue
          changes.set(pk, [k, r, !model.has(pk)])
        }
      }
      for (const [pk, c] of changes) { if (c[2]) model.set(pk, [c[0], c[1]]); else model.delete(pk) }
      const r = applyBoth(t, disk, tree, batchOf([...changes.values()]), model, `round ${round} step ${step} (${kind}, page ${pageSize}, seed ${seed})`)
      if (r === null) break
      tree = r.tree
      garbage += r.garbage
      written += r.written
      peak = Math.max(peak, r.peak)
      maxHeight = Math.max(maxHeight, tree.height)
    }
  }
  t.pass(`${rounds} rounds: ${written} pages written, ${garbage} taken back by a later merge, at most ${peak} nodes held, height up to ${maxHeight}`)
  t.end()
})

/** The tree of `n` pairs over `keys` keys, built by one streamed apply. */
function grown(disk: Disk, n: number, keys: number): { tree: TreeRoot<number>; model: Map<string, Pair> } {
  const model = new Map<string, Pair>()
  const changes: [string, number, boolean][] = []
  for (let i = 0; i < n; i++) {
    const p: Pair = [`k${String(i % keys).padStart(6, '0')}`, i]
    model.set(pairKey(p[0], p[1]), p)
    changes.push([p[0], p[1], true])
  }
  const s = applyBatchTo(disk, { root: 0, height: 0, count: 0 }, batchOf(changes), disk.pageSize, disk)
  return { tree: { root: s.root, height: s.height, count: s.count }, model }
}

t.test('a batch spread over every leaf holds a few nodes per level, not every leaf it rewrites', t => {
  const disk = new Disk(512)
  const { tree, model } = grown(disk, 40_000, 10_000)
  const changes: [string, number, boolean][] = []
  for (let i = 0; i < 10_000; i += 3) {
    const p: Pair = [`k${String(i).padStart(6, '0')}`, 1_000_000 + i]
    model.set(pairKey(p[0], p[1]), p)
    changes.push([p[0], p[1], true])
  }
  const r = applyBoth(t, disk, tree, batchOf(changes), model, 'spread batch')
  if (r !== null) {
    t.ok(r.tree.height >= 3, `height ${r.tree.height}`)
    t.ok(r.written > 500, `${r.written} pages written`)
    t.ok(r.peak <= heldBound(r.tree.height), `at most ${r.peak} nodes held at once`)
  }
  t.end()
})

t.test('a merge that takes back a node the apply wrote already counts it as garbage', t => {
  // The last two children of a level-2 node: the batch rewrites the last leaf of the first
  // (written once its own parent is rebuilt) and empties the second but for one pair, whose lone
  // leaf the level above then merges with that written leaf.
  const disk = new Disk(512)
  const { tree, model } = grown(disk, 20_000, 20_000)
  let q = disk.load(tree.root, tree.height - 1)
  while (!isLeaf(q) && q.level > 2) q = disk.load(q.children[0]!, q.level - 1)
  if (isLeaf(q) || q.level !== 2) { t.fail(`height ${tree.height}: no level-2 node`); t.end(); return }
  const c = q.children.length
  const first = disk.load(q.children[c - 2]!, 1)
  const second = disk.load(q.children[c - 1]!, 1)
  if (isLeaf(first) || isLeaf(second)) throw new Error('unreachable')
  const lastLeaf = disk.load(first.children[first.children.length - 1]!, 0)
  if (!isLeaf(lastLeaf)) throw new Error('unreachable')
  const changes: [string, number, boolean][] = []
  const lk = lastLeaf.keys[lastLeaf.keys.length - 1]!
  const lids = lastLeaf.ids[lastLeaf.ids.length - 1]!
  changes.push([lk, lids[lids.length - 1]!, false])
  let kept = false
  for (const ref of second.children) {
    const leaf = disk.load(ref, 0)
    if (!isLeaf(leaf)) throw new Error('unreachable')
    for (let i = 0; i < leaf.keys.length; i++) {
      for (const id of leaf.ids[i]!) {
        if (!kept) { kept = true; continue }
        changes.push([leaf.keys[i]!, id, false])
      }
    }
  }
  for (const ch of changes) model.delete(pairKey(ch[0], ch[1]))
  const r = applyBoth(t, disk, tree, batchOf(changes), model, 'take-back batch')
  if (r !== null) t.ok(r.garbage > 0, `${r.garbage} written pages taken back`)
  t.end()
})
