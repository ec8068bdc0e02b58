/**
 * Index.build: sorted and unsorted arrays and generators (the streaming and the fallback path),
 * duplicates, unique builds, refusing an existing path, fill factors, empty input; contents are
 * compared with the reference model and the file verified. Also: one transaction of 1,000,000
 * inserts. TAILROOT_SEED=n replays one seed.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import type { Key } from '../../lib/index.ts'
import { packLeaves } from '../../lib/tree/pack.ts'
import { KeyGen, Model, binaryKind, randomRowId, sameList, showPairs, utf8Kind } from '../helpers/model.ts'
import type { KeyKind, Pair } from '../helpers/model.ts'
import { Rng } from '../helpers/rng.ts'
import { readShape } from '../helpers/shape.ts'
import { tmpDir } from '../helpers/tmp.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

/** Random pairs (with repeats) and the model holding them. */
function randomPairs<K>(rng: Rng, kind: KeyKind<K>, pageSize: number, n: number): { pairs: Pair<K>[]; model: Model<K> } {
  const gen = new KeyGen(rng, kind, Math.floor((pageSize - 50) / 2) - 11, 200, 0.05)
  const model = new Model(kind)
  const pairs: Pair<K>[] = []
  for (let i = 0; i < n; i++) {
    const p: Pair<K> = rng.next() < 0.05 && pairs.length > 0 ? rng.pick(pairs) : [gen.next(), randomRowId(rng)]
    pairs.push(p)
    model.insert(p[0], p[1])
  }
  return { pairs, model }
}

function sorted<K>(kind: KeyKind<K>, pairs: Pair<K>[]): Pair<K>[] {
  const withBytes = pairs.map(p => ({ p, b: kind.bytes(p[0]) }))
  withBytes.sort((x, y) => Buffer.compare(x.b, y.b) || x.p[1] - y.p[1])
  return withBytes.map(x => x.p)
}

function shuffled<T>(rng: Rng, a: T[]): T[] {
  const out = a.slice()
  for (let i = out.length - 1; i > 0; i--) { const j = rng.int(i + 1); [out[i], out[j]] = [out[j]!, out[i]!] }
  return out
}

function* generate<T>(a: T[]): Generator<T> {
  for (const x of a) yield x
}

function checkBuilt<K extends Key>(t: Test, idx: Index<K>, file: string, m: Model<K>, what: string): void {
  const kind = (idx.keyEncoding === 'binary' ? binaryKind : utf8Kind) as unknown as KeyKind<K>
  t.equal(idx.count(), m.size, `${what}: count (seed ${seed})`)
  sameList(t, showPairs(kind, idx.range()), showPairs(kind, m.pairs()), `${what}: contents (seed ${seed})`)
  sameList(t, showPairs(kind, idx.range({ reverse: true })), showPairs(kind, m.pairs()).reverse(), `${what}: contents in reverse (seed ${seed})`)
  let wrong = 0
  for (const k of m.keys().slice(0, 300)) if (idx.get(k).join() !== m.get(k).join()) wrong++
  t.equal(wrong, 0, `${what}: get() of each key (seed ${seed})`)
  t.equal(idx.sequence, 1, `${what}: one commit`)
  const v = Index.verify(file)
  t.same([v.ok, v.errors, v.entries, v.sequence], [true, [], m.size, 1], `${what}: verify (seed ${seed})`)
}

/** Files left in `dir` besides `keep`. */
function others(dir: string, keep: string[] = []): string[] {
  return fs.readdirSync(dir).filter(f => !keep.includes(f))
}

t.test('sorted and unsorted arrays and generators build the same index', async t => {
  for (const pageSize of [512, 4096]) {
    const rng = new Rng(seed + pageSize)
    const dir = tmpDir(t)
    const { pairs, model } = randomPairs(rng, utf8Kind, pageSize, pageSize === 512 ? 8000 : 15000)
    const inOrder = sorted(utf8Kind, pairs)
    const inputs: [string, () => Iterable<readonly [string, number]>][] = [
      ['sorted array', () => inOrder],
      ['unsorted array', () => shuffled(rng, pairs)],
      ['sorted generator', () => generate(inOrder)],
      // Sorted for a long stretch (leaves already written), then out of order.
      ['generator unsorted late', () => { const a = inOrder.slice(); const i = Math.floor(a.length * 0.8); [a[i], a[a.length - 1]] = [a[a.length - 1]!, a[i]!]; return generate(a) }],
      ['generator unsorted early', () => generate(shuffled(rng, pairs))],
      ['generator with a single swap at the start', () => { const a = inOrder.slice(); [a[0], a[1]] = [a[1]!, a[0]!]; return generate(a) }],
    ]
    const sizes: number[] = []
    for (const [name, input] of inputs) {
      const file = path.join(dir, `${name.replace(/ /g, '-')}.tailroot`)
      const idx = Index.build(file, input(), { pageSize, durability: 'none' })
      checkBuilt(t, idx, file, model, `P=${pageSize} ${name}`)
      sizes.push(idx.stats().fileBytes)
      idx.close()
    }
    t.equal(new Set(sizes).size, 1, `P=${pageSize}: every input order gives a file of the same size (${sizes.join(', ')})`)
    t.same(others(dir).filter(f => !f.endsWith('.tailroot')), [], 'no temporary files left behind')
  }
})

t.test('a sorted generator streams: pages reach the file before the input ends', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'stream.tailroot')
  const N = 600_000
  const key = (i: number): string => `k${i.toString(36).padStart(5, '0')}`
  let midSize = -1
  function* input(): Generator<[string, number]> {
    for (let i = 0; i < N; i++) {
      if (i === Math.floor(N * 0.75)) {
        const tmp = fs.readdirSync(dir).filter(f => f.endsWith('.tmp'))
        midSize = tmp.length === 1 ? fs.statSync(path.join(dir, tmp[0]!)).size : -tmp.length
      }
      yield [key(i), i]
    }
  }
  const idx = Index.build(file, input(), { pageSize: 4096, durability: 'none' })
  const size = idx.stats().fileBytes
  t.ok(midSize > size / 4, `three quarters through the input, the temporary file already held ${midSize} of ${size} bytes`)
  t.equal(idx.count(), N, 'count')
  t.same([...idx.range({ offset: 123456, limit: 1 })], [[key(123456), 123456]], 'a pair in the middle')
  t.same(Index.verify(file).errors, [], 'verify')
  t.same(others(dir).sort(), ['stream.tailroot'], 'the temporary file was published')
  idx.close()
})

t.test('a bulk-built tree is packed full and keeps working', async t => {
  const rng = new Rng(seed)
  const dir = tmpDir(t)
  for (const pageSize of [512, 4096]) {
    const { pairs, model } = randomPairs(rng, utf8Kind, pageSize, 15000)
    const file = path.join(dir, `full${pageSize}.tailroot`)
    const idx = Index.build(file, sorted(utf8Kind, pairs), { pageSize, durability: 'none' })
    checkBuilt(t, idx, file, model, `P=${pageSize}`)
    // With fill 1, the leaves are as few as greedy packing of the whole content gives.
    const s = readShape(file)
    const keys = model.keys()
    const minimum = packLeaves(keys.map(k => Buffer.from(k, 'utf8').toString('latin1')), keys.map(k => model.get(k)), pageSize).length
    t.equal(s.nodes[0]!.length, minimum, `P=${pageSize}: ${s.nodes[0]!.length} leaves, the minimum`)
    t.ok(s.nodes.every((level, l) => l === 0 || level.every(n => n.fanout >= 2)), 'internal nodes have ≥ 2 children')
    t.ok(s.height >= 2, `P=${pageSize}: height ${s.height}`)
    // The returned handle is open and writable.
    let wrong = 0
    for (let i = 0; i < 200; i++) {
      const k = `new${rng.int(50)}`
      const r = rng.int(100)
      if (idx.insert(k, r) !== model.insert(k, r)) wrong++
    }
    t.equal(wrong, 0, 'inserts into a built index return what the model says')
    const p = model.randomPair(rng)!
    t.equal(idx.delete(p[0], p[1]), true, 'delete from a built index')
    model.delete(p[0], p[1])
    sameList(t, showPairs(utf8Kind, idx.range()), showPairs(utf8Kind, model.pairs()), 'contents after writes')
    t.same(Index.verify(file).errors, [], 'verify after writes')
    idx.close()
  }
})

t.test('binary keys, large rowIds, and keys of the maximum size', async t => {
  const rng = new Rng(seed ^ 0xb1)
  const dir = tmpDir(t)
  const { pairs, model } = randomPairs(rng, binaryKind, 512, 8000)
  for (const p of [[Buffer.alloc(220, 0xff), 2 ** 53 - 1], [Buffer.alloc(0), 0], [Buffer.alloc(220, 0), 2 ** 40]] as Pair<Buffer>[]) {
    pairs.push(p)
    model.insert(p[0], p[1])
  }
  const file = path.join(dir, 'bin.tailroot')
  const idx = Index.build<Buffer>(file, generate(shuffled(rng, pairs)), { pageSize: 512, keyEncoding: 'binary', durability: 'none' })
  t.equal(idx.keyEncoding, 'binary', 'binary index')
  checkBuilt(t, idx, file, model, 'binary')
  idx.close()
})

t.test('duplicates are dropped', async t => {
  const dir = tmpDir(t)
  const base: [string, number][] = [['a', 1], ['a', 2], ['b', 1], ['c', 5]]
  const dup = [...base, ['a', 1], ['c', 5], ['c', 5], ['b', 1]] as [string, number][]
  const m = new Model(utf8Kind)
  for (const [k, r] of base) m.insert(k, r)
  const inputs: [string, Iterable<[string, number]>][] = [
    ['sorted array', sorted(utf8Kind, dup)],
    ['unsorted array', dup],
    ['sorted generator', generate(sorted(utf8Kind, dup))],
    ['unsorted generator', generate(dup)],
  ]
  for (const [name, input] of inputs) {
    const file = path.join(dir, `${name.replace(/ /g, '-')}.tailroot`)
    const idx = Index.build(file, input, { pageSize: 512 })
    checkBuilt(t, idx, file, m, name)
    idx.close()
  }
  // Exact duplicate pairs are not a uniqueness violation.
  const file = path.join(dir, 'unique-dups.tailroot')
  const idx = Index.build(file, [['x', 1], ['y', 2], ['x', 1], ['y', 2]] as [string, number][], { unique: true, pageSize: 512 })
  t.same([idx.unique, idx.get('x'), idx.get('y'), idx.count()], [true, [1], [2], 2], 'unique build with repeated pairs')
  idx.close()
})

t.test('a unique build with a duplicate key fails and leaves nothing behind', async t => {
  const rng = new Rng(seed + 7)
  const dir = tmpDir(t)
  const pairs: [string, number][] = []
  for (let i = 0; i < 5000; i++) pairs.push([`k${i.toString().padStart(5, '0')}`, i])
  const clash: [string, number][] = [...pairs, [pairs[2500]![0], 99999]]
  const inputs: [string, () => Iterable<[string, number]>][] = [
    ['sorted array', () => sorted(utf8Kind, clash)],
    ['unsorted array', () => shuffled(rng, clash)],
    ['sorted generator', () => generate(sorted(utf8Kind, clash))],
    ['unsorted generator', () => generate(shuffled(rng, clash))],
  ]
  for (const [name, input] of inputs) {
    const file = path.join(dir, 'u.tailroot')
    let code = 'no error'
    try { Index.build(file, input(), { unique: true, pageSize: 512 }).close() } catch (err) { code = err instanceof TailrootError ? err.code : String(err) }
    t.equal(code, 'UNIQUE_VIOLATION', `${name}: UNIQUE_VIOLATION`)
    t.same(others(dir), [], `${name}: no file left in the directory`)
  }
  // The same input without the clash builds.
  const idx = Index.build(path.join(dir, 'u.tailroot'), shuffled(rng, pairs), { unique: true, pageSize: 512 })
  t.same([idx.count(), idx.unique], [5000, true], 'the clean input builds')
  t.equal(idx.insert(pairs[0]![0], pairs[0]![1]), false, 'inserting a present pair is a no-op')
  let code = 'no error'
  try { idx.insert(pairs[0]![0], 123456) } catch (err) { code = err instanceof TailrootError ? err.code : String(err) }
  t.equal(code, 'UNIQUE_VIOLATION', 'the built index enforces uniqueness')
  idx.close()
})

t.test('an existing path is refused and left untouched', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'exists.tailroot')
  const idx = Index.open(file, { pageSize: 512 })
  idx.insert('keep', 1)
  idx.close()
  const before = fs.readFileSync(file)
  for (const input of [[['a', 1]] as [string, number][], generate([['a', 1]] as [string, number][])]) {
    let code = 'no error'
    try { Index.build(file, input, { pageSize: 512 }).close() } catch (err) { code = err instanceof TailrootError ? err.code : String(err) }
    t.equal(code, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT')
    t.ok(fs.readFileSync(file).equals(before), 'the file is unchanged')
    t.same(others(dir).sort(), ['exists.tailroot', 'exists.tailroot.lock'], 'no other file appeared')
  }
  // A path that is not an index at all is refused the same way.
  const other = path.join(dir, 'other.txt')
  fs.writeFileSync(other, 'hello')
  let code = 'no error'
  try { Index.build(other, [['a', 1]] as [string, number][]).close() } catch (err) { code = err instanceof TailrootError ? err.code : String(err) }
  t.equal(code, 'INVALID_ARGUMENT', 'a non-index file is refused')
  t.equal(fs.readFileSync(other, 'utf8'), 'hello', 'and left untouched')
})

t.test('fill 0.5 makes a larger file than fill 1 with the same contents', async t => {
  const rng = new Rng(seed + 11)
  const dir = tmpDir(t)
  for (const pageSize of [512, 4096]) {
    const { pairs, model } = randomPairs(rng, utf8Kind, pageSize, 12000)
    const input = sorted(utf8Kind, pairs)
    const sizes: Record<string, number> = {}
    const leaves: Record<string, number> = {}
    for (const fill of [0.5, 0.75, 1]) {
      const file = path.join(dir, `fill-${pageSize}-${fill}.tailroot`)
      const idx = Index.build(file, generate(input), { pageSize, fill, durability: 'none' })
      checkBuilt(t, idx, file, model, `P=${pageSize} fill ${fill}`)
      sizes[fill] = idx.stats().fileBytes
      const s = readShape(file)
      leaves[fill] = s.nodes[0]!.length
      // With fill f, no leaf holds more than f·P bytes... except the last two, which are balanced against each other.
      const over = s.nodes[0]!.slice(0, -2).filter(n => n.size > Math.floor(pageSize * fill)).length
      t.equal(over, 0, `P=${pageSize} fill ${fill}: leaves stay within ${Math.floor(pageSize * fill)} bytes`)
      idx.close()
    }
    t.ok(sizes[1]! < sizes[0.75]! && sizes[0.75]! < sizes[0.5]!, `P=${pageSize}: file sizes fill 1 ${sizes[1]} < fill 0.75 ${sizes[0.75]} < fill 0.5 ${sizes[0.5]}`)
    t.ok(leaves[0.5]! >= 1.6 * leaves[1]!, `P=${pageSize}: fill 0.5 uses about twice the leaves (${leaves[0.5]} vs ${leaves[1]})`)
  }
})

t.test('empty input builds an empty index that works', async t => {
  const dir = tmpDir(t)
  for (const [name, input] of [['array', []], ['generator', generate([])]] as [string, Iterable<[string, number]>][]) {
    const file = path.join(dir, `${name}.tailroot`)
    const idx = Index.build(file, input, { pageSize: 512 })
    const st = idx.stats()
    t.same([idx.count(), idx.sequence, st.height, [...idx.range()]], [0, 1, 0, []], `${name}: empty, one commit`)
    const { ok, errors, omittedErrors, sequence, entries, pages, commits, pagesLive, garbageRatio } = Index.verify(file)
    t.same({ ok, errors, omittedErrors, sequence, entries, pages, commits, pagesLive, garbageRatio }, { ok: true, errors: [], omittedErrors: 0, sequence: 1, entries: 0, pages: 0, commits: 1, pagesLive: 0, garbageRatio: 0 }, `${name}: verify`)
    t.equal(idx.insert('a', 1), true, `${name}: insert works`)
    t.same([idx.count(), idx.sequence, idx.get('a')], [1, 2, [1]], `${name}: and is visible`)
    idx.close()
  }
})

t.test('one transaction of 1,000,000 inserts', async t => {
  const file = path.join(tmpDir(t), 'million.tailroot')
  const idx = Index.open(file, { pageSize: 4096, durability: 'none' })
  idx.insert('before', 1)
  const N = 1_000_000
  const KEYS = 250_000
  // Keys and rowIds in a scattered order; every pair distinct: key x % KEYS, rowId x.
  const key = (x: number): string => `key:${(x % KEYS).toString(36).padStart(4, '0')}`
  const t0 = Date.now()
  let tInserts = 0
  idx.transaction(tx => {
    for (let i = 0; i < N; i++) {
      const x = (i * 7919) % N
      if (!tx.insert(key(x), x)) throw new Error(`insert of [${key(x)}, ${x}] returned false`)
    }
    tInserts = Date.now() - t0
    t.equal(tx.count(), N + 1, 'count inside the transaction')
    t.same(tx.get(key(12345)), [12345, 12345 + KEYS, 12345 + 2 * KEYS, 12345 + 3 * KEYS], 'get inside the transaction')
  })
  const tCommit = Date.now() - t0 - tInserts
  t.comment(`1M inserts: ${tInserts} ms buffering, ${tCommit} ms applying and writing`)
  t.equal(idx.sequence, 2, 'one commit')
  t.equal(idx.count(), N + 1, 'count')
  const rng = new Rng(seed)
  let wrong = 0
  for (let i = 0; i < 1000; i++) {
    const k = rng.int(KEYS)
    const want = [k, k + KEYS, k + 2 * KEYS, k + 3 * KEYS].join()
    if (idx.get(key(k)).join() !== want) wrong++
  }
  t.equal(wrong, 0, `get of 1000 random keys (seed ${seed})`)
  t.equal(idx.countRange({ gte: 'key:', lt: 'key;' }), N, 'countRange over all the keys')
  // Rank 0 is 'before'; rank N/2 is the last rowId of key 124999, then key 125000 begins.
  t.same([...idx.range({ offset: N / 2, limit: 2 })], [[key(124999), 124999 + 3 * KEYS], [key(125000), 125000]], 'range at an offset')
  const v = Index.verify(file)
  t.same([v.ok, v.errors, v.entries], [true, [], N + 1], 'verify')
  const elapsed = Date.now() - t0
  t.comment(`1M inserts in one transaction: ${elapsed} ms in all`)
  idx.close()
})
