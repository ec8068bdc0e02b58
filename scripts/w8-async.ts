/**
 * W8, standalone: 100 concurrent async callers each await 200 single-entry durable inserts (new
 * rowIds on existing keys) into an index bulk-loaded with 200,000 entries; reports writes/s and
 * per-write latency p50/p99, and checks every written entry afterwards. For comparison, the same
 * inserts made with the synchronous insert() (one durable commit each). Each measurement runs on
 * a fresh copy of the bulk-loaded file, three times; the median run (by writes/s) is reported.
 *
 *   npx tsx scripts/w8-async.ts [--runs n] [--dir d] [--warm] [--async-only]
 *
 * Each figure comes with the process's CPU time per write (all threads, process.cpuUsage), which
 * varies much less than wall-clock figures on a busy machine. --async-only skips the synchronous runs.
 *
 * Each run opens a new handle on the copy (its page cache empty); --warm reads the whole index
 * through it before the clock starts, as in a server that has been running for a while.
 *
 * The benchmark runs the same W8 against lmdb, LevelDB and SQLite, on its own data, in child
 * processes: `npm run bench -- --workloads=W8` (bench/workloads.ts, runConcurrentWorkload).
 *
 * The data mimics the benchmark's: 50,000 keys of 13 ASCII bytes ('k' and 12 digits), 4 rowIds
 * each, seeded. The file goes into the OS temporary directory unless --dir names another one
 * (durable-write figures depend on the file system of that directory).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Index } from '../lib/index.ts'
import { Rng } from '../spec/helpers/rng.ts'

const KEYS = 50_000
const ROWS_PER_KEY = 4
const CALLERS = 100
const PER_CALLER = 200
const SYNC_WRITES = 2_000

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

/** Deterministic data without Math.random (the tests' seeded mulberry32). */
function rng(seed: number): () => number {
  const r = new Rng(seed)
  return () => r.next()
}

function makeKeys(): string[] {
  const r = rng(8)
  const set = new Set<string>()
  while (set.size < KEYS) set.add('k' + String(Math.floor(r() * 1e12)).padStart(12, '0'))
  return [...set].sort()
}

function* basePairs(keys: string[]): Generator<[string, number]> {
  let row = 0
  for (const k of keys) for (let j = 0; j < ROWS_PER_KEY; j++) yield [k, row++]
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

interface Result { writes: number; seconds: number; perSec: number; p50: number; p99: number; cpuUs: number }

/** `cpu`: the process's CPU time (user and system, all threads) over the run, from process.cpuUsage. */
function summarise(lat: number[], seconds: number, cpu: NodeJS.CpuUsage): Result {
  lat.sort((a, b) => a - b)
  const cpuUs = (cpu.user + cpu.system) / lat.length
  return { writes: lat.length, seconds, perSec: lat.length / seconds, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), cpuUs }
}

/** The writes: new rowIds (from 1,000,000 up) on random existing keys. */
function newPairs(keys: string[], n: number, seed: number): [string, number][] {
  const r = rng(seed)
  const out: [string, number][] = []
  for (let i = 0; i < n; i++) out.push([keys[Math.floor(r() * keys.length)]!, 1_000_000 + i])
  return out
}

function check(file: string, written: [string, number][], where: string): void {
  const idx = Index.open(file, { readOnly: true })
  try {
    for (const [k, r] of written) if (!idx.has(k, r)) throw new Error(`${where}: (${k}, ${r}) is missing`)
    const want = KEYS * ROWS_PER_KEY + written.length
    if (idx.count() !== want) throw new Error(`${where}: ${idx.count()} entries, expected ${want}`)
  } finally {
    idx.close()
  }
}

async function runAsync(base: string, file: string, keys: string[], run: number): Promise<Result> {
  fs.copyFileSync(base, file)
  const writes = newPairs(keys, CALLERS * PER_CALLER, 100 + run)
  const idx = Index.open(file)
  if (process.argv.includes('--warm')) for (const _ of idx.range()) { /* warm the cache */ }
  else idx.count() // open and read the commit before the clock starts
  const lat: number[] = []
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CALLERS }, async (_, c) => {
    for (let i = 0; i < PER_CALLER; i++) {
      const [k, r] = writes[c * PER_CALLER + i]!
      const s = performance.now()
      if (!(await idx.insertAsync(k, r))) throw new Error(`insert of (${k}, ${r}) returned false`)
      lat.push(performance.now() - s)
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const seq = idx.sequence
  idx.close()
  check(file, writes, `async run ${run}`)
  const res = summarise(lat, seconds, cpu)
  console.log(`  async run ${run + 1}: ${fmt(res)}, ${seq - 1} commits (${(res.writes / (seq - 1)).toFixed(1)} writes per commit)`)
  return res
}

function runSync(base: string, file: string, keys: string[], run: number): Result {
  fs.copyFileSync(base, file)
  const writes = newPairs(keys, SYNC_WRITES, 200 + run)
  const idx = Index.open(file)
  if (process.argv.includes('--warm')) for (const _ of idx.range()) { /* warm the cache */ }
  else idx.count()
  const lat: number[] = []
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (const [k, r] of writes) {
    const s = performance.now()
    if (!idx.insert(k, r)) throw new Error(`insert of (${k}, ${r}) returned false`)
    lat.push(performance.now() - s)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  idx.close()
  check(file, writes, `sync run ${run}`)
  const res = summarise(lat, seconds, cpu)
  console.log(`  sync run ${run + 1}: ${fmt(res)}`)
  return res
}

function fmt(r: Result): string {
  return `${Math.round(r.perSec).toLocaleString('en-US')} writes/s, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, ${r.cpuUs.toFixed(1)} µs CPU per write (${r.writes} writes in ${r.seconds.toFixed(2)} s)`
}

function median(rs: Result[]): Result {
  return [...rs].sort((a, b) => a.perSec - b.perSec)[Math.floor(rs.length / 2)]!
}

async function main(): Promise<void> {
  const runs = Number(argValue('--runs') ?? 3)
  const dir = fs.mkdtempSync(path.join(argValue('--dir') ?? os.tmpdir(), 'tailroot-w8-'))
  try {
    const keys = makeKeys()
    const base = path.join(dir, 'base.idx')
    Index.build(base, basePairs(keys)).close()
    const file = path.join(dir, 'w8.idx')
    console.log(`W8: ${CALLERS} concurrent callers x ${PER_CALLER} awaited insertAsync, durable, on ${KEYS * ROWS_PER_KEY} entries`)
    const a: Result[] = []
    for (let i = 0; i < runs; i++) a.push(await runAsync(base, file, keys, i))
    const s: Result[] = []
    if (!process.argv.includes('--async-only')) {
      console.log(`synchronous insert(), one durable commit each, ${SYNC_WRITES} writes`)
      for (let i = 0; i < runs; i++) s.push(runSync(base, file, keys, i))
    }
    console.log(`median of ${runs}: async ${fmt(median(a))}`)
    if (s.length > 0) console.log(`median of ${runs}: sync  ${fmt(median(s))}`)
    console.log('every written entry checked present after each run')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch(err => { console.error(err); process.exit(1) })
