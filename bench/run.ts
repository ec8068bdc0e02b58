// Benchmark harness: tailroot side by side with LMDB (lmdb), LevelDB
// (classic-level) and SQLite (better-sqlite3), all in one process run.
//
//   npm run bench -- [--quick] [--only=tailroot,lmdb,leveldb,sqlite] [--repeat=N]
//
// npm run bench compiles lib/ and bench/ with tsc and runs them with plain node, as users run the
// published package: running through tsx (npx tsx bench/run.ts also works) transforms every
// module on load and makes tailroot's own code up to twice as slow, while the peers are native.
//
//   --quick     every count divided by 10 (smoke run)
//   --only=...  comma-separated engine names; also accepts lmdb-overlap (lmdb-js
//               with its default overlappingSync, whose commits return before
//               they are flushed: not durable per commit, never run by default)
//   --repeat=N  each measurement N times (default 3); the median is reported
//
// Each repeat of each engine starts from an empty directory under one temp
// directory in os.tmpdir() (removed at the end), and measures, in this order:
//   1. bulk load: the 1,000,000 pairs in sorted order into a new store, one
//      durable commit, including open and close (tailroot: Index.build; peers:
//      one transaction / one batch). Then the on-disk size: the sum of the sizes
//      of all files in the engine's directory, after close; raw size =
//      keys × 13 + pairs × 8 bytes.
//   2. point lookups: get(key) -> all rowIds of key, for the 200,000 sample keys,
//      timed on a second pass (the first pass warms caches and checks every
//      result against the data).
//   3. range count: the number of pairs in 1,000 ranges [gte, lt) of 1% of the
//      keys each (peers scan and count); every count is checked.
//   4. single inserts: 2,000 new pairs, each its own durable commit.
//   5. batched inserts: 100,000 new pairs in random key order, in transactions
//      of 1,000 pairs, each a durable commit.
//   For 4 and 5: commits/s; file growth per commit (sum of file sizes after
//   minus before, divided by the commits; for a WAL or log that is reused or
//   truncated this understates what was written); and bytes written per commit:
//   the bytes this process (all its threads, so LevelDB's compactions too)
//   passed to write/pwrite/writev calls, from /proc/self/io `wchar`, where that
//   file exists. Writes through a shared mmap would not be counted (none of the
//   peers writes that way as configured here). `write_bytes` of the same file is
//   not used: with large page-cache folios it counts a whole folio per page
//   dirtied (it showed ~110 KB per LMDB commit that writes 4 pages + 128 B).
//   After 5, a sample of the new keys is read back and checked.
// Engines are interleaved repeat by repeat (r1: all engines, r2: all engines,
// ...) so that drift in the machine's state does not favour one engine.
// The tables (stdout) give per metric each engine's median, its ratio to
// tailroot's median, and the min..max over the repeats; progress goes to stderr.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import vm from 'node:vm'
import { makeBenchData, rawBytes, type BenchData, type PairList } from './data.ts'
import { ENGINES, dirBytes, type Engine, type EngineFactory, type Handle } from './engines.ts'

// ---------------------------------------------------------------- options

interface Options {
  quick: boolean
  only: string[] | null
  repeat: number
}

function usage(): string {
  return (
    'usage: npm run bench -- [--quick] [--only=name,...] [--repeat=N]\n' +
    `engines: ${ENGINES.map((e) => e.name + (e.byDefault ? '' : ' (only with --only)')).join(', ')}`
  )
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      repeat: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    console.log(usage())
    process.exit(0)
  }
  const repeat = Number(values.repeat)
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, got ${values.repeat}`)
  let only: string[] | null = null
  if (values.only !== undefined) {
    only = values.only
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
    const unknown = only.filter((n) => !ENGINES.some((e) => e.name === n))
    if (unknown.length > 0) throw new Error(`unknown engine(s): ${unknown.join(', ')}\n${usage()}`)
  }
  return { quick: values.quick, only, repeat }
}

// ---------------------------------------------------------------- measuring

function now(): bigint {
  return process.hrtime.bigint()
}

function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9
}

/** wchar of /proc/self/io (bytes passed to write calls), or null where the file is not there. */
function bytesWritten(): number | null {
  try {
    const m = /^wchar:\s*(\d+)$/m.exec(fs.readFileSync('/proc/self/io', 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/** The V8 gc() function, enabled at run time (no node flag needed), or null. */
const gcFunction: (() => void) | null = (() => {
  try {
    v8.setFlagsFromString('--expose-gc')
    const gc: unknown = vm.runInNewContext('gc')
    return typeof gc === 'function' ? (gc as () => void) : null
  } catch {
    return null
  }
})()

/** A full collection before each measured phase, so that garbage of the previous phase is not collected inside it. */
function collectGarbage(): void {
  if (gcFunction) gcFunction()
}

/** Appends of 4 KiB each followed by fdatasync, per second: the machine's floor for durable commits. */
function fdatasyncRate(dir: string, n: number): number {
  const file = path.join(dir, 'fdatasync-probe')
  const fd = fs.openSync(file, 'w')
  const page = Buffer.alloc(4096, 0x5a)
  try {
    const t0 = now()
    for (let i = 0; i < n; i++) {
      fs.writeSync(fd, page, 0, page.length, i * page.length)
      fs.fdatasyncSync(fd)
    }
    return n / secondsSince(t0)
  } finally {
    fs.closeSync(fd)
    fs.rmSync(file, { force: true })
  }
}

function sameRows(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** First pass over the lookup sample: warms caches; checks every result. */
async function checkLookups(h: Handle, data: BenchData): Promise<void> {
  for (let i = 0; i < data.lookupKeys.length; i++) {
    const key = data.lookupKeys[i]!
    const got = h.async ? await h.get(key) : h.get(key)
    const want = data.rowsOf(data.lookupIdx[i]!)
    if (!sameRows(got, want)) throw new Error(`get(${key}) returned [${got.join(',')}], expected [${want.join(',')}]`)
  }
}

/** Timed pass over the lookup sample; returns seconds. */
async function timeLookups(h: Handle, data: BenchData): Promise<number> {
  const keys = data.lookupKeys
  let rows = 0
  let sum = 0
  let seconds: number
  if (h.async) {
    const t0 = now()
    for (let i = 0; i < keys.length; i++) {
      const r = await h.get(keys[i]!)
      rows += r.length
      for (let j = 0; j < r.length; j++) sum += r[j]!
    }
    seconds = secondsSince(t0)
  } else {
    const t0 = now()
    for (let i = 0; i < keys.length; i++) {
      const r = h.get(keys[i]!)
      rows += r.length
      for (let j = 0; j < r.length; j++) sum += r[j]!
    }
    seconds = secondsSince(t0)
  }
  if (rows !== data.expectedLookupRows || sum !== data.expectedLookupSum) {
    throw new Error(`lookups returned ${rows} rowIds summing to ${sum}, expected ${data.expectedLookupRows} summing to ${data.expectedLookupSum}`)
  }
  return seconds
}

/** Timed pass over the ranges; checks every count; returns seconds. */
async function timeRanges(h: Handle, data: BenchData): Promise<number> {
  const ranges = data.ranges
  const counts = new Array<number>(ranges.length)
  let seconds: number
  if (h.async) {
    const t0 = now()
    for (let i = 0; i < ranges.length; i++) counts[i] = await h.countRange(ranges[i]!.gte, ranges[i]!.lt)
    seconds = secondsSince(t0)
  } else {
    const t0 = now()
    for (let i = 0; i < ranges.length; i++) counts[i] = h.countRange(ranges[i]!.gte, ranges[i]!.lt)
    seconds = secondsSince(t0)
  }
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!
    if (counts[i] !== r.expected) throw new Error(`countRange(${r.gte}, ${r.lt}) = ${counts[i]}, expected ${r.expected}`)
  }
  return seconds
}

interface WriteResult {
  seconds: number
  commits: number
  growth: number
  written: number | null
}

async function timeWrites(dir: string, commits: number, body: () => Promise<void>): Promise<WriteResult> {
  const size0 = dirBytes(dir)
  const io0 = bytesWritten()
  const t0 = now()
  await body()
  const seconds = secondsSince(t0)
  const io1 = bytesWritten()
  const growth = dirBytes(dir) - size0
  return { seconds, commits, growth, written: io0 === null || io1 === null ? null : io1 - io0 }
}

async function singleInserts(h: Handle, list: PairList): Promise<void> {
  const n = list.keys.length
  if (h.async) {
    for (let i = 0; i < n; i++) await h.insert(list.keys[i]!, list.rowIds[i]!)
  } else {
    for (let i = 0; i < n; i++) h.insert(list.keys[i]!, list.rowIds[i]!)
  }
}

async function batchInserts(h: Handle, list: PairList, batchSize: number): Promise<void> {
  const n = list.keys.length
  if (h.async) {
    for (let i = 0; i < n; i += batchSize) await h.insertBatch(list, i, Math.min(n, i + batchSize))
  } else {
    for (let i = 0; i < n; i += batchSize) h.insertBatch(list, i, Math.min(n, i + batchSize))
  }
}

/** Reads back up to `max` keys of an inserted list and checks their rowIds. */
async function checkInserted(h: Handle, list: PairList, max: number): Promise<void> {
  const want = new Map<string, number[]>()
  for (let i = 0; i < list.keys.length; i++) {
    const k = list.keys[i]!
    let rows = want.get(k)
    if (!rows) {
      if (want.size >= max) continue
      rows = []
      want.set(k, rows)
    }
    rows.push(list.rowIds[i]!)
  }
  for (const [key, rows] of want) {
    rows.sort((a, b) => a - b)
    const got = h.async ? await h.get(key) : h.get(key)
    if (!sameRows(got, rows)) throw new Error(`after inserts, get(${key}) returned [${got.join(',')}], expected [${rows.join(',')}]`)
  }
}

// ---------------------------------------------------------------- metrics

type MetricId =
  | 'bulkSeconds'
  | 'sizeBytes'
  | 'lookupsPerSec'
  | 'rangesPerSec'
  | 'singleCommitsPerSec'
  | 'singleGrowthPerCommit'
  | 'singleWrittenPerCommit'
  | 'batchCommitsPerSec'
  | 'batchGrowthPerCommit'
  | 'batchWrittenPerCommit'

type Sample = Partial<Record<MetricId, number>>

interface MetricSpec {
  id: MetricId
  title: (d: BenchData) => string
  better: 'higher' | 'lower'
  format: (v: number) => string
  /** optional extra column derived from the median */
  extra?: (v: number, d: BenchData) => string
}

const int = (v: number): string => Math.round(v).toLocaleString('en-US')
const num = (v: number, digits: number): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const count = (v: number): string => v.toLocaleString('en-US')

const METRICS: MetricSpec[] = [
  {
    id: 'bulkSeconds',
    title: (d) => `bulk load: ${count(d.pairCount)} sorted pairs into a new store, one durable commit, open to close (seconds)`,
    better: 'lower',
    format: (v) => num(v, 3) + ' s',
    extra: (v, d) => `${int(d.pairCount / v)} pairs/s`,
  },
  {
    id: 'sizeBytes',
    title: (d) => `on-disk size after bulk load (bytes; raw = ${count(d.keys.length)} × 13 + ${count(d.pairCount)} × 8 = ${count(rawBytes(d))})`,
    better: 'lower',
    format: (v) => int(v) + ' B',
    extra: (v, d) => `${num(v / 1048576, 1)} MiB, ${num(v / rawBytes(d), 2)} × raw`,
  },
  {
    id: 'lookupsPerSec',
    title: (d) => `point lookups, warm: get(key) -> all rowIds, ${count(d.lookupKeys.length)} keys (lookups/s)`,
    better: 'higher',
    format: (v) => int(v) + ' /s',
  },
  {
    id: 'rangesPerSec',
    title: (d) => `range count: ${count(d.ranges.length)} ranges of ${count(d.sizes.rangeSpan)} keys (1%) each (ranges/s)`,
    better: 'higher',
    format: (v) => num(v, 1) + ' /s',
    extra: (v, d) => `${int(v * d.sizes.rangeSpan * d.sizes.rowsPerKey)} pairs counted/s`,
  },
  {
    id: 'singleCommitsPerSec',
    title: (d) => `single inserts: ${count(d.singleInserts.keys.length)} new pairs, one durable commit each (commits/s)`,
    better: 'higher',
    format: (v) => num(v, 1) + ' /s',
  },
  {
    id: 'singleGrowthPerCommit',
    title: () => 'single inserts: file growth per commit (bytes)',
    better: 'lower',
    format: (v) => int(v) + ' B',
  },
  {
    id: 'singleWrittenPerCommit',
    title: () => 'single inserts: bytes passed to write calls per commit (/proc/self/io wchar)',
    better: 'lower',
    format: (v) => int(v) + ' B',
  },
  {
    id: 'batchCommitsPerSec',
    title: (d) =>
      `batched inserts: ${count(d.batchInserts.keys.length)} new pairs in random order, ${count(d.sizes.batchSize)} per durable commit (commits/s)`,
    better: 'higher',
    format: (v) => num(v, 1) + ' /s',
    extra: (v, d) => `${int(v * d.sizes.batchSize)} pairs/s`,
  },
  {
    id: 'batchGrowthPerCommit',
    title: (d) => `batched inserts: file growth per commit of ${count(d.sizes.batchSize)} pairs (bytes)`,
    better: 'lower',
    format: (v) => int(v) + ' B',
    extra: (v, d) => `${num(v / d.sizes.batchSize, 1)} B/pair`,
  },
  {
    id: 'batchWrittenPerCommit',
    title: (d) => `batched inserts: bytes passed to write calls per commit of ${count(d.sizes.batchSize)} pairs (/proc/self/io wchar)`,
    better: 'lower',
    format: (v) => int(v) + ' B',
    extra: (v, d) => `${num(v / d.sizes.batchSize, 1)} B/pair`,
  },
]

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

// ---------------------------------------------------------------- one run

async function runOnce(engine: Engine, dir: string, data: BenchData, log: (s: string) => void): Promise<Sample> {
  const sample: Sample = {}
  const S = data.sizes

  collectGarbage()
  const t0 = now()
  await engine.bulkLoad(dir, data)
  sample.bulkSeconds = secondsSince(t0)
  sample.sizeBytes = dirBytes(dir)
  log(`bulk ${num(sample.bulkSeconds, 3)} s, ${num(sample.sizeBytes / 1048576, 1)} MiB`)

  const h = await engine.open(dir)
  try {
    collectGarbage()
    await checkLookups(h, data)
    sample.lookupsPerSec = data.lookupKeys.length / (await timeLookups(h, data))
    log(`lookups ${int(sample.lookupsPerSec)}/s`)

    collectGarbage()
    sample.rangesPerSec = data.ranges.length / (await timeRanges(h, data))
    log(`ranges ${num(sample.rangesPerSec, 1)}/s`)

    collectGarbage()
    const single = await timeWrites(dir, S.singleInserts, () => singleInserts(h, data.singleInserts))
    sample.singleCommitsPerSec = single.commits / single.seconds
    sample.singleGrowthPerCommit = single.growth / single.commits
    if (single.written !== null) sample.singleWrittenPerCommit = single.written / single.commits
    log(`single ${num(sample.singleCommitsPerSec, 1)} commits/s, +${int(sample.singleGrowthPerCommit)} B/commit`)

    collectGarbage()
    const commits = Math.ceil(S.batchInserts / S.batchSize)
    const batch = await timeWrites(dir, commits, () => batchInserts(h, data.batchInserts, S.batchSize))
    sample.batchCommitsPerSec = batch.commits / batch.seconds
    sample.batchGrowthPerCommit = batch.growth / batch.commits
    if (batch.written !== null) sample.batchWrittenPerCommit = batch.written / batch.commits
    log(`batch ${num(sample.batchCommitsPerSec, 1)} commits/s, +${int(sample.batchGrowthPerCommit)} B/commit`)

    await checkInserted(h, data.singleInserts, 50)
    await checkInserted(h, data.batchInserts, 50)
  } finally {
    await h.close()
  }
  return sample
}

// ---------------------------------------------------------------- report

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w)
}

function printTable(spec: MetricSpec, data: BenchData, names: string[], results: Map<string, Sample[]>): void {
  const rows: string[][] = []
  const medians = new Map<string, number>()
  for (const name of names) {
    const vs = (results.get(name) ?? []).map((s) => s[spec.id]).filter((v): v is number => v !== undefined)
    if (vs.length > 0) medians.set(name, median(vs))
  }
  const base = medians.get('tailroot')
  for (const name of names) {
    const vs = (results.get(name) ?? []).map((s) => s[spec.id]).filter((v): v is number => v !== undefined)
    const m = medians.get(name)
    if (m === undefined) {
      rows.push([name, 'n/a', '', '', ''])
      continue
    }
    const ratio = base === undefined ? 'n/a' : base === 0 ? (m === 0 ? '1.00×' : '∞') : num(m / base, 2) + '×'
    const spread = vs.length > 1 ? `${spec.format(Math.min(...vs))} .. ${spec.format(Math.max(...vs))}` : ''
    rows.push([name, spec.format(m), ratio, spec.extra ? spec.extra(m, data) : '', spread])
  }
  const head = ['engine', 'median', 'vs tailroot', '', `min .. max of ${Math.max(0, ...names.map((x) => results.get(x)?.length ?? 0))}`]
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  console.log(`\n## ${spec.title(data)} — ${spec.better} is better`)
  console.log(head.map((h, i) => pad(h, w[i]!, i === 1 || i === 2)).join('  ').trimEnd())
  for (const r of rows) console.log(r.map((c, i) => pad(c, w[i]!, i === 1 || i === 2)).join('  ').trimEnd())
}

// ---------------------------------------------------------------- main

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.split('\n').slice(0, 3).join(' | ')
  return String(e)
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2))
  const progress = (s: string): void => {
    process.stderr.write(s + '\n')
  }

  const factories: EngineFactory[] = opts.only
    ? ENGINES.filter((e) => opts.only!.includes(e.name))
    : ENGINES.filter((e) => e.byDefault)

  const t0 = now()
  const data = makeBenchData(opts.quick)
  progress(`data generated in ${num(secondsSince(t0), 2)} s`)

  const skipped: string[] = []
  const engines: Engine[] = []
  for (const f of factories) {
    try {
      engines.push(await f.load())
    } catch (e) {
      const msg = `skipped ${f.name}: could not load it (${errorText(e)})`
      skipped.push(msg)
      progress(msg)
    }
  }

  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tailroot-bench-'))
  const cleanup = (): void => fs.rmSync(base, { recursive: true, force: true })
  const onSignal = (): void => {
    cleanup()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const results = new Map<string, Sample[]>()
  const failed = new Map<string, string>()
  try {
    const fsyncRate = fdatasyncRate(base, 200)
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
    console.log('# tailroot benchmark')
    console.log(`node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}, ${os.cpus().length} × ${cpu}, ${int(os.totalmem() / 2 ** 20)} MiB`)
    console.log(
      `data: ${count(data.keys.length)} keys × ${data.sizes.rowsPerKey} rowIds = ${count(data.pairCount)} pairs, 13-byte keys, seed ${data.seed}` +
        (opts.quick ? ' (--quick: counts ÷ 10)' : ''),
    )
    console.log(`repeats: ${opts.repeat} (median reported); temp dir under ${os.tmpdir()}`)
    console.log(
      `load average at start: ${os.loadavg().map((x) => num(x, 2)).join(' ')} (other work on the machine skews every figure)` +
        (gcFunction ? '' : '; gc() not available, no collection between phases'),
    )
    console.log(`fdatasync floor: ${int(fsyncRate)} appends of 4 KiB + fdatasync per second on this file system`)
    if (bytesWritten() === null) console.log('(no /proc/self/io here: the bytes-written counts are left out)')
    console.log('"vs tailroot" = the engine\'s median ÷ tailroot\'s median; each title says whether higher or lower is better')
    for (const e of engines) console.log(`- ${e.name}: ${e.describe}`)
    for (const s of skipped) console.log(`- ${s}`)

    for (let r = 1; r <= opts.repeat; r++) {
      for (const engine of engines) {
        if (failed.has(engine.name)) continue
        const dir = path.join(base, `${engine.name}-${r}`)
        fs.mkdirSync(dir)
        const tag = `[${r}/${opts.repeat}] ${engine.name}`
        try {
          const sample = await runOnce(engine, dir, data, (s) => progress(`${tag}: ${s}`))
          let list = results.get(engine.name)
          if (!list) results.set(engine.name, (list = []))
          list.push(sample)
        } catch (e) {
          const msg = errorText(e)
          failed.set(engine.name, msg)
          progress(`${tag}: FAILED: ${msg}`)
          if (e instanceof Error && e.stack) progress(e.stack)
        } finally {
          fs.rmSync(dir, { recursive: true, force: true })
        }
      }
    }
  } finally {
    cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }

  console.log(`load average at end: ${os.loadavg().map((x) => num(x, 2)).join(' ')}`)
  const names = engines.map((e) => e.name).filter((x) => results.has(x))
  for (const spec of METRICS) printTable(spec, data, names, results)
  if (skipped.length > 0 || failed.size > 0) {
    console.log('')
    for (const s of skipped) console.log(s)
    for (const [name, msg] of failed) console.log(`failed ${name}: ${msg}${results.has(name) ? ' (repeats before the failure are in the tables)' : ''}`)
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
