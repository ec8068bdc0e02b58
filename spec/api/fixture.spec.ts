/**
 * The golden fixtures (FORMAT.md §11): fixtures/v1-small.tailroot and fixtures/v2-small.tailroot
 * were each written once by scripts/make-fixture.ts, with format versions 1 and 2 (the second ends
 * with pending changes in log pages and inline), and committed with their expected dumps. This test
 * opens it readOnly with the current code and checks every logical fact in the dump. It never
 * regenerates the fixture, and checks the fixture is byte-identical afterwards.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { Index } from '../../lib/index.ts'
import { decodeCommit } from '../../lib/format/commit.ts'
import { decodeHeader, isHeaderProblem } from '../../lib/format/header.ts'
import { Rng } from '../helpers/rng.ts'
import type { FixtureDump } from '../../scripts/make-fixture.ts'


const fixturesDir = new URL('../../fixtures/', import.meta.url)
function suite(t: Test, name: string): void {
  const file = fileURLToPath(new URL(`${name}.tailroot`, fixturesDir))
  const dump = JSON.parse(fs.readFileSync(new URL(`${name}.dump.json`, fixturesDir), 'utf8')) as FixtureDump
  const sha = (): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex')
  const listing = (): string[] => fs.readdirSync(fixturesDir).sort()

  const before = sha()
  const filesBefore = listing()

  t.test('the committed fixture is the one the dump describes', async t => {
    t.equal(before, dump.sha256, 'sha256 of the fixture matches the dump')
    t.equal(fs.statSync(file).size, dump.bytes)
    // Sanity of the dump itself: what the fixture promises to cover.
    t.equal(dump.header.pageSize, 512)
    t.ok(dump.height >= 2, 'height ≥ 2')
    t.ok(dump.commits.length >= 3, 'at least 3 commits')
    t.ok(dump.commits.some((c, i) => i + 1 < dump.commits.length && c.entryCount < dump.commits[i + 1]!.entryCount), 'a commit deleted pairs')
    t.ok(dump.pairs.some(([k]) => Buffer.byteLength(k) > k.length), 'multi-byte UTF-8 keys')
    t.not(dump.metadataHex, null, 'metadata set')
    t.equal(dump.pairs.length, dump.count)
  })

  t.test('the current code reads the fixture exactly as the dump says', async t => {
    const idx = Index.open(file, { readOnly: true })
    t.teardown(() => idx.close())
    t.equal(idx.pageSize, dump.header.pageSize, 'pageSize')
    t.equal(idx.keyEncoding, dump.header.keyEncoding, 'keyEncoding')
    t.equal(idx.unique, dump.header.unique, 'unique')
    t.equal(idx.sequence, dump.sequence, 'sequence')
    t.equal(idx.count(), dump.count, 'count')
    t.equal(idx.stats().height, dump.height, 'height')
    t.equal(idx.meta?.toString('hex') ?? null, dump.metadataHex, 'meta')
    t.same([...idx.range()], dump.pairs, 'every pair, in order')
    t.same([...idx.range({ reverse: true })], [...dump.pairs].reverse(), 'every pair, reversed')

    const byKey = new Map<string, number[]>()
    for (const [k, r] of dump.pairs) byKey.set(k, [...(byKey.get(k) ?? []), r])
    const wrong: string[] = []
    for (const [k, ids] of byKey) {
      const got = idx.get(k)
      if (JSON.stringify(got) !== JSON.stringify(ids)) wrong.push(`get(${JSON.stringify(k)}) = ${JSON.stringify(got)}`)
      if (idx.count(k) !== ids.length) wrong.push(`count(${JSON.stringify(k)})`)
      const last = ids[ids.length - 1]!
      if (!idx.has(k) || !idx.has(k, ids[0]!) || !idx.has(k, last) || (last < Number.MAX_SAFE_INTEGER && idx.has(k, last + 1))) wrong.push(`has(${JSON.stringify(k)})`)
    }
    t.same(wrong, [], 'get, count and has of every key')
    t.same(idx.get('not a key'), [])

    const seed = Rng.seedFromEnv()
    const rng = new Rng(seed)
    const keys = [...byKey.keys()]
    const cmp = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))
    const bad: string[] = []
    for (let i = 0; i < 300; i++) {
      const a = rng.pick(keys)
      // A bound between keys: a key extended by one byte (within maxKeyBytes, as every key argument must be).
      const ext = `${rng.pick(keys)}\u0001`
      const b = rng.int(4) === 0 && Buffer.byteLength(ext) <= idx.maxKeyBytes ? ext : rng.pick(keys)
      const expected = dump.pairs.filter(([k]) => cmp(k, a) >= 0 && cmp(k, b) < 0)
      if (idx.countRange({ gte: a, lt: b }) !== expected.length) bad.push(`countRange gte ${a} lt ${b}`)
      const off = rng.int(dump.count + 2)
      const lim = rng.int(30)
      if (JSON.stringify([...idx.range({ offset: off, limit: lim })]) !== JSON.stringify(dump.pairs.slice(off, off + lim))) bad.push(`range offset ${off} limit ${lim}`)
      const p = rng.pick(dump.pairs)
      const after = dump.pairs.findIndex(q => q[0] === p[0] && q[1] === p[1])
      if (JSON.stringify([...idx.range({ after: p, limit: 5 })]) !== JSON.stringify(dump.pairs.slice(after + 1, after + 6))) bad.push(`range after ${JSON.stringify(p)}`)
      if (JSON.stringify([...idx.range({ gt: a, lte: b })]) !== JSON.stringify(dump.pairs.filter(([k]) => cmp(k, a) > 0 && cmp(k, b) <= 0))) bad.push(`range gt ${a} lte ${b}`)
    }
    t.same(bad, [], `random range queries agree with the dump (seed ${seed})`)
  })

  t.test('the header and the commit chain decode as the dump says', async t => {
    const bytes = fs.readFileSync(file)
    const h = decodeHeader(bytes)
    if (isHeaderProblem(h)) throw new Error(h.message)
    t.same({ formatVersion: h.formatVersion, pageSize: h.pageSize, keyEncoding: h.keyEncoding, unique: h.unique, fileIdHex: h.fileId.toString('hex'), createdAt: h.createdAt },
      dump.header, 'header fields')
    const P = h.pageSize
    const chain: FixtureDump['commits'] = []
    let p = dump.commits[0]!.page
    while (p > 0) {
      const c = decodeCommit(bytes.subarray(p * P, (p + 1) * P), p, h.fileId, h.formatVersion)
      if (c === null) { t.fail(`commit page ${p} does not decode`); break }
      const log = h.formatVersion >= 2 ? { logHead: c.logHead, chainRecords: c.chainRecords, logRecords: c.logRecords, logPages: c.logPages } : {}
      chain.push({ page: c.page, sequence: c.sequence, entryCount: c.entryCount, height: c.height, root: c.root, metaHex: c.meta?.toString('hex') ?? null, ...log })
      p = c.prevCommit
    }
    t.same(chain, dump.commits, 'every commit of the chain')
    t.equal(dump.commits[0]!.page, Math.floor(bytes.length / P) - 1, 'the newest commit is the last page')
  })

  t.test('verify says the fixture is sound', async t => {
    const v = Index.verify(file)
    t.same(v.errors, [], 'no errors')
    t.equal(v.ok, true)
    t.equal(v.sequence, dump.sequence)
    t.equal(v.entries, dump.count)
  })

  t.test('the fixture is unchanged', async t => {
    t.equal(sha(), before, 'byte-identical after the tests')
    t.same(listing(), filesBefore, 'no file (such as a .lock) appeared in fixtures/')
  })
}

for (const name of ['v1-small', 'v2-small']) t.test(name, async t => suite(t, name))

t.test('the version 2 fixture ends with pending changes, in log pages and inline', async t => {
  const dump = JSON.parse(fs.readFileSync(new URL('v2-small.dump.json', fixturesDir), 'utf8')) as FixtureDump
  const newest = dump.commits[0]!
  t.ok((newest.chainRecords ?? 0) > 0, 'the newest commit has pending changes')
  t.ok(dump.commits.some(c => (c.logPages ?? 0) > 0), 'a commit with log pages')
  t.ok(dump.commits.some(c => (c.logRecords ?? 0) > 0 && c.logPages === 0), 'a commit with inline records')
  t.ok(dump.commits.some(c => c.sequence > 0 && c.logHead === 0), 'a commit that folded into the tree')
})
