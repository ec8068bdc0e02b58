/**
 * Writes the golden fixture of the current format version, fixtures/vN-small.tailroot, and its
 * expected logical dump fixtures/vN-small.dump.json (FORMAT.md §11). Run once, by hand, when a
 * format version is released: `npx tsx scripts/make-fixture.ts [--force]`. The contents are deterministic, but
 * commit timestamps, createdAt and the file id are not, so the committed files are the reference
 * and the test suite never regenerates them (spec/api/fixture.spec.ts only reads them).
 *
 * The index: pageSize 512, utf8 keys (ASCII, 2-, 3- and 4-byte UTF-8, the empty key, a key of
 * exactly maxKeyBytes, a key with enough rowIds to span leaves), rowIds from 0 to 2^53-1, four
 * commits (a bulk insert, deletes with inserts, metadata with deletes, an autocommit insert),
 * height ≥ 2.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Index } from '../lib/index.ts'
import { decodeCommit } from '../lib/format/commit.ts'
import { FORMAT_VERSION } from '../lib/format/constants.ts'
import { decodeHeader, isHeaderProblem } from '../lib/format/header.ts'

const dir = fileURLToPath(new URL('../fixtures/', import.meta.url))
const name = `v${FORMAT_VERSION}-small`
const file = path.join(dir, `${name}.tailroot`)
const dumpFile = path.join(dir, `${name}.dump.json`)

/** A small deterministic generator (mulberry32), so the contents never depend on Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface FixtureDump {
  description: string
  file: string
  sha256: string
  bytes: number
  header: { formatVersion: number; pageSize: number; keyEncoding: string; unique: boolean; fileIdHex: string; createdAt: number }
  sequence: number
  count: number
  height: number
  metadataHex: string | null
  /** Every valid commit page, newest first, following prevCommit. */
  commits: { page: number; sequence: number; entryCount: number; height: number; root: number; metaHex: string | null; logHead?: number; chainRecords?: number; logRecords?: number; logPages?: number }[]
  pairs: [string, number][]
}

function main(): void {
  const force = process.argv.includes('--force')
  if (!force && (fs.existsSync(file) || fs.existsSync(dumpFile))) {
    console.error(`${file} exists; the fixture is generated once and committed. Pass --force to replace it.`)
    process.exit(1)
  }
  fs.mkdirSync(dir, { recursive: true })
  fs.rmSync(file, { force: true })
  fs.rmSync(`${file}.lock`, { force: true })

  const next = rng(20240601)
  const words = ['apple', 'Banana', 'cherry', 'date', 'elder', 'fig', 'grape', 'kiwi', 'lemon', 'mango', 'zebra', 'Zürich', 'São Paulo',
    'Ελλάδα', 'Москва', '東京', '北京市', 'القاهرة', '😀', '🚀 launch', 'naïve', 'façade', 'straße', 'a\u0000b', '~tilde', ' space']
  const idPool = [0, 1, 2, 127, 128, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER]
  const first: [string, number][] = []
  for (let i = 0; i < 320; i++) {
    const w = words[Math.floor(next() * words.length)]!
    const key = next() < 0.5 ? `${w}-${String(Math.floor(next() * 1000)).padStart(3, '0')}` : `${w}/${i}`
    const id = next() < 0.2 ? idPool[Math.floor(next() * idPool.length)]! : Math.floor(next() * 2 ** (1 + Math.floor(next() * 52)))
    first.push([key, id])
  }
  // A key with many rowIds (spans more than one 512-byte leaf), the empty key, a maximal key.
  for (let i = 0; i < 180; i++) first.push(['many', i * 3])
  first.push(['', 0], ['', Number.MAX_SAFE_INTEGER])
  const maxKey = 'é'.repeat(110) // 220 bytes = maxKeyBytes(512)
  first.push([maxKey, 42])

  // Version 2: the bulk insert (over 400 changes) folds into the tree; the later commits stay
  // pending, in log pages and inline in their commit pages (FORMAT.md §10).
  const idx = Index.open(file, { pageSize: 512, keyEncoding: 'utf8', unique: false, durability: 'full', maxPendingChanges: 400 })
  if (Buffer.byteLength(maxKey) !== idx.maxKeyBytes) throw new Error('maxKey is not maximal')
  // Commit 1: the bulk insert.
  idx.transaction(tx => { for (const [k, r] of first) tx.insert(k, r) })
  // Commit 2: deletes (every third pair, and part of 'many') and new pairs.
  idx.transaction(tx => {
    first.forEach(([k, r], i) => { if (i % 3 === 0) tx.delete(k, r) })
    for (let i = 0; i < 60; i++) tx.insert(`new-${words[i % words.length]}-${i}`, 1000 + i)
  })
  // Commit 3: metadata, more deletes and inserts.
  idx.transaction(tx => {
    for (const [k, r] of [...idx.range({ gte: 'b', lt: 'f' })].slice(0, 25)) tx.delete(k, r)
    tx.insert('Ω omega', 9)
  }, { meta: Buffer.from('tailroot fixture v1 \u00e9\u{1F600}', 'utf8') })
  // Commit 4: an autocommit insert (carries the metadata forward).
  idx.insert('zz-last', 77)
  const st = idx.stats()
  if (st.height < 2) throw new Error(`height ${st.height} < 2`)
  if (st.sequence < 4) throw new Error('fewer than 4 commits')
  const pairs = [...idx.range()] as [string, number][]
  const metadata = idx.meta
  idx.close()
  fs.rmSync(`${file}.lock`, { force: true })

  const bytes = fs.readFileSync(file)
  const h = decodeHeader(bytes)
  if (isHeaderProblem(h)) throw new Error(h.message)
  const commits: FixtureDump['commits'] = []
  let p = Math.floor(bytes.length / h.pageSize) - 1
  while (p > 0) {
    const c = decodeCommit(bytes.subarray(p * h.pageSize, (p + 1) * h.pageSize), p, h.fileId, h.formatVersion)
    if (c === null) { p--; continue }
    commits.push({
      page: c.page, sequence: c.sequence, entryCount: c.entryCount, height: c.height, root: c.root, metaHex: c.meta?.toString('hex') ?? null,
      logHead: c.logHead, chainRecords: c.chainRecords, logRecords: c.logRecords, logPages: c.logPages,
    })
    p = c.prevCommit
  }
  const dump: FixtureDump = {
    description: `Expected logical contents of ${name}.tailroot, written by scripts/make-fixture.ts with format version ${FORMAT_VERSION}. Never regenerate.`,
    file: `${name}.tailroot`,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    header: { formatVersion: h.formatVersion, pageSize: h.pageSize, keyEncoding: h.keyEncoding, unique: h.unique, fileIdHex: h.fileId.toString('hex'), createdAt: h.createdAt },
    sequence: st.sequence,
    count: st.entries,
    height: st.height,
    metadataHex: metadata?.toString('hex') ?? null,
    commits,
    pairs,
  }
  // One pair per line keeps the dump readable and its diffs small.
  const text = JSON.stringify({ ...dump, pairs: [] }, null, 1)
    .replace('"pairs": []', `"pairs": [\n${pairs.map(p => `  ${JSON.stringify(p)}`).join(',\n')}\n ]`)
  fs.writeFileSync(dumpFile, `${text}\n`)
  console.log(`wrote ${file} (${bytes.length} bytes, ${pairs.length} pairs, height ${st.height}, sequence ${st.sequence}) and ${dumpFile}`)
}

main()
