// leafHasPair answers from a leaf page's bytes what decoding the leaf answers, and refuses every
// page decodeNode refuses (seeded leaves, then single-byte and slot damage to them); on a page it
// accepted, checkedLeafHas (binary search) answers the same.
import t from 'tap'
import { PAGE_INTERNAL } from '../../lib/format/constants.ts'
import { LevelMismatch, checkedLeafHas, checkedLeafIds, leafFilterHas, leafHasPair, leafPairFilter } from '../../lib/format/leaf-search.ts'
import { decodeNode, encodeLeaf, isLeaf, leafSize } from '../../lib/format/node.ts'
import type { LeafNode } from '../../lib/format/node.ts'
import { DecodeError } from '../../lib/format/page.ts'
import { keyHash, pairHash } from '../../lib/format/pair-hash.ts'
import { leafNodeHas, leafNodeIds } from '../../lib/tree/read.ts'
import { Rng } from '../helpers/rng.ts'

const P = 512

function randomLeaf(rng: Rng): LeafNode {
  const keys = new Set<string>()
  const want = 1 + rng.int(12)
  while (keys.size < want) {
    let k = ''
    const len = rng.int(6)
    for (let i = 0; i < len; i++) k += String.fromCharCode(rng.next() < 0.7 ? 97 + rng.int(3) : rng.int(256))
    keys.add(k)
  }
  const sorted = [...keys].sort()
  const ids = sorted.map(() => {
    const n = 1 + rng.int(4)
    const out: number[] = []
    let id = rng.int(5)
    for (let i = 0; i < n; i++) { out.push(id); id += 1 + rng.int(rng.next() < 0.1 ? 1e6 : 4) }
    return out
  })
  const leaf: LeafNode = { level: 0, keys: sorted, ids, count: ids.reduce((a, l) => a + l.length, 0) }
  while (leafSize(leaf) > P) { leaf.keys.pop(); leaf.count -= leaf.ids.pop()!.length }
  return leaf
}

type Outcome = { ok: true; value: boolean } | { ok: false }

function raw(page: Buffer, k: string, r: number): Outcome {
  try { return { ok: true, value: leafHasPair(page, k, r) } } catch (err) {
    if (err instanceof DecodeError || err instanceof LevelMismatch) return { ok: false }
    throw err
  }
}

function decoded(page: Buffer, k: string, r: number): Outcome {
  let n
  try { n = decodeNode(page) } catch (err) {
    if (err instanceof DecodeError) return { ok: false }
    throw err
  }
  // A well-formed internal page where a leaf is expected: refused too (CORRUPT in IndexFile).
  return isLeaf(n) ? { ok: true, value: leafNodeHas(n, k, r) } : { ok: false }
}

t.test('the same answers and the same refusals as decoding', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const failures: string[] = []
  let present = 0
  let refused = 0
  let answered = 0
  for (let round = 0; round < 1500 && failures.length < 5; round++) {
    const leaf = randomLeaf(rng)
    const page = encodeLeaf(leaf, 7, P)
    // Probes: every pair, pairs with nearby rowIds, absent keys (prefixes and extensions).
    const probes: [string, number][] = []
    leaf.keys.forEach((k, g) => { for (const r of leaf.ids[g]!) probes.push([k, r], [k, r + 1], [k, Math.max(0, r - 1)]) })
    for (const k of leaf.keys) probes.push([k.slice(0, -1), 0], [k + 'a', leaf.ids[0]![0]!], [k + '\0', 0])
    for (const [k, r] of probes) {
      const a = raw(page, k, r)
      const b = decoded(page, k, r)
      if (JSON.stringify(a) !== JSON.stringify(b)) failures.push(`round ${round}: (${JSON.stringify(k)}, ${r}): raw ${JSON.stringify(a)}, decoded ${JSON.stringify(b)}`)
      if (a.ok && a.value) present++
    }
    // Damage: one byte anywhere, a slot pointing elsewhere, the type of an internal page.
    for (let d = 0; d < 6; d++) {
      const bad = Buffer.from(page)
      if (d === 0) bad[rng.int(P)] = rng.int(256)
      else if (d === 1) bad.writeUInt16LE(rng.int(P + 10), 16 + 2 * rng.int(leaf.keys.length))
      else if (d === 2) { bad[0] = PAGE_INTERNAL; bad[1] = 1 + rng.int(3) }
      else bad[16 + rng.int(Math.min(P - 16, 2 * leaf.keys.length + 40))] ^= 1 << rng.int(8)
      const [k, r] = probes[rng.int(probes.length)]!
      const a = raw(bad, k, r)
      const b = decoded(bad, k, r)
      if (JSON.stringify(a) !== JSON.stringify(b)) failures.push(`round ${round}, damage ${d}: (${JSON.stringify(k)}, ${r}): raw ${JSON.stringify(a)}, decoded ${JSON.stringify(b)}`)
      if (a.ok) answered++
      else refused++
    }
  }
  t.same(failures, [], `raw search and decoding agree (seed ${seed})`)
  t.ok(present > 1000, `${present} probes found their pair`)
  t.ok(refused > 1000 && answered > 500, `damaged pages: ${refused} refused by both, ${answered} answered by both`)
})

t.test('checkedLeafHas answers what decoding answers, on pages leafHasPair accepted', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const failures: string[] = []
  let present = 0
  let probes = 0
  for (let round = 0; round < 1500 && failures.length < 5; round++) {
    const leaf = randomLeaf(rng)
    const page = encodeLeaf(leaf, 7, P)
    const node = decodeNode(page)
    if (!isLeaf(node)) throw new Error('not a leaf')
    const check: [string, number][] = []
    leaf.keys.forEach((k, g) => {
      for (const r of leaf.ids[g]!) check.push([k, r], [k, r + 1], [k, Math.max(0, r - 1)], [k, r + 0.5])
      check.push([k, -1], [k, Number.MAX_SAFE_INTEGER], [k.slice(0, -1), leaf.ids[g]![0]!], [k + '\0', leaf.ids[g]![0]!], [k + '\xff', 0])
    })
    for (let i = 0; i < 4; i++) {
      let k = ''
      for (let j = rng.int(7); j > 0; j--) k += String.fromCharCode(rng.next() < 0.7 ? 97 + rng.int(3) : rng.int(256))
      check.push([k, rng.int(10)])
    }
    for (const [k, r] of check) {
      const want = leafNodeHas(node, k, r)
      const first = leafHasPair(page, k, r)
      const got = checkedLeafHas(page, k, r)
      if (got !== want || first !== want) failures.push(`round ${round}: (${JSON.stringify(k)}, ${r}): checked ${got}, leafHasPair ${first}, decoded ${want}`)
      if (want) present++
      probes++
    }
  }
  t.same(failures, [], `binary search and decoding agree (seed ${seed})`)
  t.ok(present > 1000 && probes > 3 * present, `${present} of ${probes} probes found their pair`)
})

t.test('leafPairFilter: never false for a pair of the leaf, false for most pairs it lacks', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const failures: string[] = []
  let absent = 0
  let passed = 0
  for (let round = 0; round < 1500 && failures.length < 5; round++) {
    const leaf = randomLeaf(rng)
    const page = encodeLeaf(leaf, 7, P)
    leafHasPair(page, '', 0) // accepted, as the filter requires
    const f = leafPairFilter(page)
    if (f.length * 32 < 8 * leaf.count) failures.push(`round ${round}: a filter of ${f.length * 32} bits for ${leaf.count} pairs`)
    leaf.keys.forEach((k, g) => {
      for (const r of leaf.ids[g]!) if (!leafFilterHas(f, pairHash(keyHash(k), r))) failures.push(`round ${round}: (${JSON.stringify(k)}, ${r}) is in the leaf, the filter says not`)
    })
    for (let i = 0; i < 20; i++) {
      const k = rng.next() < 0.5 ? rng.pick(leaf.keys) : `z${rng.int(1000)}`
      const r = rng.int(2 ** 40)
      if (leafNodeHas(leaf, k, r)) continue
      absent++
      if (leafFilterHas(f, pairHash(keyHash(k), r))) passed++
    }
  }
  t.same(failures, [], `no pair of a leaf is filtered out (seed ${seed})`)
  // 8 bits per pair, 2 set: about 5% false positives at the fullest (a page whose pairs are a power of two).
  t.ok(absent > 10_000 && passed < absent * 0.15, `${passed} of ${absent} absent pairs passed the filter (seed ${seed})`)
})

t.test('checkedLeafHas on a full page of long keys and large rowIds', async t => {
  const keys = Array.from({ length: 60 }, (_, i) => 'x'.repeat(150) + String(i).padStart(3, '0'))
  const ids = keys.map((_, i) => [i * 2 ** 40, i * 2 ** 40 + 300, Number.MAX_SAFE_INTEGER - 1000 + i])
  const leaf: LeafNode = { level: 0, keys, ids, count: keys.length * 3 }
  const page = encodeLeaf(leaf, 3, 16384)
  for (let i = 0; i < keys.length; i++) {
    for (const r of ids[i]!) t.equal(checkedLeafHas(page, keys[i]!, r), true)
    t.equal(checkedLeafHas(page, keys[i]!, ids[i]![0]! + 1), false)
    t.equal(checkedLeafHas(page, keys[i]! + ' ', ids[i]![0]!), false)
  }
  t.equal(checkedLeafHas(page, '', 0), false)
  t.equal(checkedLeafHas(page, 'y', 0), false)
  const f = leafPairFilter(page)
  for (let i = 0; i < keys.length; i++) for (const r of ids[i]!) t.equal(leafFilterHas(f, pairHash(keyHash(keys[i]!), r)), true, 'rowIds above 2^32 hash in full')
})

/** What a key's rowIds in one leaf are, from the decoded leaf by a plain scan (the oracle). */
function idsByScan(leaf: LeafNode, k: string): number[] | null {
  const last = leaf.keys.length - 1
  if (leaf.keys.every(x => x < k)) return null // above every key: they may start in the next leaf
  const g = leaf.keys.indexOf(k)
  if (g < 0) return []
  return g === last ? null : [...leaf.ids[g]!]
}

t.test('checkedLeafIds and leafNodeIds give a key\'s rowIds, or null where they may go on in the next leaf', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const failures: string[] = []
  const seen = { ids: 0, none: 0, open: 0 }
  for (let round = 0; round < 1500 && failures.length < 5; round++) {
    const leaf = randomLeaf(rng)
    const page = encodeLeaf(leaf, 7, P)
    leafHasPair(page, '', -1) // accepted, as the cache's pages are
    const node = decodeNode(page)
    if (!isLeaf(node)) throw new Error('not a leaf')
    const keys = [...leaf.keys]
    for (const k of leaf.keys) keys.push(k.slice(0, -1), k + '\0', k + '\xff')
    for (let i = 0; i < 4; i++) {
      let k = ''
      for (let j = rng.int(7); j > 0; j--) k += String.fromCharCode(rng.next() < 0.7 ? 97 + rng.int(3) : rng.int(256))
      keys.push(k)
    }
    for (const k of keys) {
      const want = idsByScan(leaf, k)
      const got = checkedLeafIds(page, k)
      const dec = leafNodeIds(node, k)
      if (JSON.stringify(got) !== JSON.stringify(want) || JSON.stringify(dec) !== JSON.stringify(want)) {
        failures.push(`round ${round}: ${JSON.stringify(k)}: checked ${JSON.stringify(got)}, decoded ${JSON.stringify(dec)}, scan ${JSON.stringify(want)}`)
      }
      if (want === null) seen.open++
      else if (want.length === 0) seen.none++
      else seen.ids++
    }
  }
  t.same(failures, [], `binary search, decoded search and a scan agree (seed ${seed})`)
  t.ok(seen.ids > 1000 && seen.none > 1000 && seen.open > 500, `keys with rowIds ${seen.ids}, without ${seen.none}, maybe in the next leaf ${seen.open}`)
  // The arrays are the caller's: changing one changes nothing the page or the leaf holds.
  const leaf: LeafNode = { level: 0, keys: ['a', 'b'], ids: [[1, 5, 9], [2]], count: 4 }
  const page = encodeLeaf(leaf, 1, P)
  checkedLeafIds(page, 'a')!.push(100)
  leafNodeIds(leaf, 'a')!.push(100)
  t.same(checkedLeafIds(page, 'a'), [1, 5, 9])
  t.same(leaf.ids[0], [1, 5, 9])
})
