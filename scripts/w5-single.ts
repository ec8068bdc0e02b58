/**
 * W5 of issue 8, preallocation on and off: durable single-pair commits (one insert each, durability
 * 'full') into an index bulk-loaded with ~200,000 entries, with the disk's limits measured in the
 * same run: a 4 KiB overwrite + fdatasync (inside space written and synced before) and a 4 KiB
 * append + fdatasync. Prints commits/s and p50/p99 latency per run and the medians of the runs.
 *
 *   npx tsx scripts/w5-single.ts [--dir DIR] [--commits 2000] [--entries 200000] [--runs 3] [--before LIB]
 *
 * DIR (default: a new directory under the OS temp dir) must be on the disk to measure; it is
 * removed afterwards. LIB: the lib/index.ts of another checkout (for example an extract of the
 * commit before preallocation, `git archive <commit> lib | tar -x -C .before`), measured the same
 * way with its default options, as "before".
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Index } from '../lib/index.ts'
import { Rng } from '../spec/helpers/rng.ts'
import { pathToFileURL } from 'node:url'

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt
}

const COMMITS = Number(arg('commits', '2000'))
const ENTRIES = Number(arg('entries', '200000'))
const RUNS = Number(arg('runs', '3'))
const base = arg('dir', '')
const beforeLib = arg('before', '')
const dir = fs.mkdtempSync(path.join(base === '' ? os.tmpdir() : base, 'w5-'))

/** A deterministic generator (the tests' seeded mulberry32), so every run inserts the same pairs. */
function rng(seed: number): () => number {
  const r = new Rng(seed)
  return () => r.next()
}

/** A 13-byte key, as in issue 8's data (250,000 distinct keys per 1,000,000 pairs). */
const key = (i: number): string => `k${String(i).padStart(12, '0')}`

interface Figures { perSec: number; p50: number; p99: number }

function figures(lat: number[], totalNs: number): Figures {
  const s = [...lat].sort((a, b) => a - b)
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!
  return { perSec: lat.length / (totalNs / 1e9), p50: q(0.5) / 1e3, p99: q(0.99) / 1e3 }
}

function timed(n: number, step: (i: number) => void): Figures {
  const lat: number[] = []
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint()
    step(i)
    lat.push(Number(process.hrtime.bigint() - a))
  }
  return figures(lat, Number(process.hrtime.bigint() - t0))
}

const PAGE = Buffer.alloc(4096, 0x5a)

/**
 * 4 KiB writes + fdatasync: over space already written and synced (`prefilled`), or at the end of
 * the file.
 */
function pageSyncs(name: string, prefilled: boolean): Figures {
  const file = path.join(dir, name)
  const fd = fs.openSync(file, 'w+')
  try {
    if (prefilled) fs.writeSync(fd, Buffer.alloc(COMMITS * 4096), 0, COMMITS * 4096, 0)
    fs.fsyncSync(fd)
    return timed(COMMITS, i => { fs.writeSync(fd, PAGE, 0, 4096, i * 4096); fs.fdatasyncSync(fd) })
  } finally {
    fs.closeSync(fd)
    fs.rmSync(file)
  }
}

/** The bulk-loaded file, built once and copied for each run. */
function buildBase(): string {
  const file = path.join(dir, 'base.idx')
  const keys = Math.max(1, Math.floor(ENTRIES / 4))
  function* pairs(): Generator<[string, number]> {
    for (let k = 0; k < keys; k++) for (let j = 0; j < 4; j++) yield [key(k * 2), k * 4 + j]
  }
  Index.build(file, pairs()).close()
  return file
}

type IndexClass = typeof Index

/** One W5 run. Also reports the commits that extended the file (fstat after each, outside the timing). */
function single(I: IndexClass, baseFile: string, label: string, opts: Record<string, unknown>, run: number): Figures & { fileBytes: number; extensions: number; extensionP50: number } {
  const file = path.join(dir, `w5-${label}-${run}.idx`)
  fs.copyFileSync(baseFile, file)
  const fd = fs.openSync(file, 'r+')
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  const next = rng(run + 1)
  const idx = I.open(file, { durability: 'full', ...opts })
  try {
    // New pairs: odd keys (absent from the bulk load), so every insert commits.
    const keys = Math.max(1, Math.floor(ENTRIES / 4))
    const lat: number[] = []
    const ext: number[] = []
    let size = fs.statSync(file).size
    let total = 0
    for (let i = 0; i < COMMITS; i++) {
      const k = key(2 * Math.floor(next() * keys) + 1)
      const a = process.hrtime.bigint()
      idx.insert(k, 1e9 + i)
      const ns = Number(process.hrtime.bigint() - a)
      total += ns
      lat.push(ns)
      const now = fs.statSync(file).size
      if (now !== size) { ext.push(ns); size = now }
    }
    const f = figures(lat, total)
    return { ...f, fileBytes: size, extensions: ext.length, extensionP50: ext.length === 0 ? 0 : median(ext) / 1e3 }
  } finally {
    idx.close()
    fs.rmSync(file)
  }
}

function median(xs: number[]): number { return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! }
const fmt = (f: Figures): string => `${Math.round(f.perSec).toLocaleString('en-US')}/s, p50 ${Math.round(f.p50)} µs, p99 ${Math.round(f.p99)} µs`

try {
  console.log(`W5: ${COMMITS} durable single-pair commits into an index of ${ENTRIES} entries, ${RUNS} runs, in ${base === '' ? os.tmpdir() : base}`)
  const baseFile = buildBase()
  console.log(`bulk-loaded file: ${fs.statSync(baseFile).size} bytes`)
  const Before: IndexClass | null = beforeLib === '' ? null : (await import(pathToFileURL(path.resolve(beforeLib)).href) as { Index: IndexClass }).Index
  const results: Record<string, Figures[]> = { overwrite: [], append: [], before: [], off: [], on: [] }
  for (let r = 0; r < RUNS; r++) {
    results.overwrite!.push(pageSyncs('overwrite.bin', true))
    results.append!.push(pageSyncs('append.bin', false))
    const runs: [string, IndexClass | null, Record<string, unknown>][] = [['before', Before, {}], ['off', Index, { preallocate: false }], ['on', Index, { preallocate: true }]]
    const line: string[] = []
    for (const [label, I, opts] of runs) {
      if (I === null) continue
      const f = single(I, baseFile, label, opts, r)
      results[label]!.push(f)
      line.push(`${label} ${fmt(f)} (file ${f.fileBytes} bytes, ${f.extensions} commits grew it${f.extensions > 0 ? `, p50 ${Math.round(f.extensionP50)} µs` : ''})`)
    }
    console.log(`run ${r + 1}: overwrite+fdatasync ${fmt(results.overwrite!.at(-1)!)}; append+fdatasync ${fmt(results.append!.at(-1)!)}`)
    for (const l of line) console.log(`       ${l}`)
  }
  const med = (k: string): Figures => ({ perSec: median(results[k]!.map(f => f.perSec)), p50: median(results[k]!.map(f => f.p50)), p99: median(results[k]!.map(f => f.p99)) })
  console.log(`\nmedians of ${RUNS}:`)
  const rows: [string, string][] = [
    ['4 KiB overwrite + fdatasync', 'overwrite'], ['4 KiB append + fdatasync', 'append'],
    ...(Before === null ? [] : [['W5, before (--before)', 'before'] as [string, string]]),
    ['W5, preallocate: false', 'off'], ['W5, preallocate: true (default)', 'on'],
  ]
  console.log('| figure | per second | p50 µs | p99 µs | p99/p50 |')
  console.log('|---|---:|---:|---:|---:|')
  for (const [label, k] of rows) {
    const m = med(k)
    console.log(`| ${label} | ${Math.round(m.perSec).toLocaleString('en-US')} | ${Math.round(m.p50)} | ${Math.round(m.p99)} | ${(m.p99 / m.p50).toFixed(2)} |`)
  }
  const ow = med('overwrite').perSec
  console.log(`\npreallocate on: ${(100 * med('on').perSec / ow).toFixed(1)}% of the overwrite + fdatasync rate; off: ${(100 * med('off').perSec / ow).toFixed(1)}%`)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
