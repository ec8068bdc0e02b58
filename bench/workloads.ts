// The workloads W1..W7, run inside a child process per engine (bench/child.ts).
// What each one measures is described in bench/run.ts's header. Every answer is
// checked; a wrong one throws WrongAnswer, which fails the child and the run.

import fs from 'node:fs'
import path from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { sortedPrefix, type BenchData, type PairList } from './data.ts'
import { dirBytes, type Engine, type Handle } from './engines.ts'
import { deviceBytesNow, processWriteBytes, type DiskDevice } from './diskstats.ts'

export type FigureId =
  | 'w1EntriesPerSec'
  | 'w1Bytes'
  | 'w2EntriesPerSec'
  | 'w2DeviceBytes'
  | 'w2ProcessBytes'
  | 'w2Bytes'
  | 'w2PeakRss'
  | 'w3LookupsPerSec'
  | 'w4ScanEntriesPerSec'
  | 'w4ShortScansPerSec'
  | 'w5CommitsPerSec'
  | 'w5P50Us'
  | 'w5P99Us'
  | 'w5WarmCommitsPerSec'
  | 'w5WarmP50Us'
  | 'w5WarmP99Us'
  | 'w6Ms'
  | 'w7EntriesPerSec'
  | 'w7DeviceBytes'
  | 'w7ProcessBytes'
  | 'w7Bytes'
  | 'readPeakRss'
  | 'w8WritesPerSec'
  | 'w8P50Us'
  | 'w8P99Us'
  | 'w8WarmWritesPerSec'
  | 'w8WarmP50Us'
  | 'w8WarmP99Us'

/** One repeat of one engine: a value per figure; null = could not be measured here. */
export type Sample = Partial<Record<FigureId, number | null>>

export class WrongAnswer extends Error {
  override name = 'WrongAnswer'
}

type Log = (s: string) => void

function now(): bigint {
  return process.hrtime.bigint()
}

function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024
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

function sameRows(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function show(rows: number[]): string {
  return `[${rows.slice(0, 10).join(',')}${rows.length > 10 ? ',…' : ''}]`
}

async function get(h: Handle, key: string): Promise<number[]> {
  return h.async ? await h.get(key) : h.get(key)
}

async function checkGet(h: Handle, key: string, want: number[], when: string): Promise<void> {
  const got = await get(h, key)
  if (!sameRows(got, want)) throw new WrongAnswer(`${when}: get(${key}) returned ${show(got)}, expected ${show(want)}`)
}

// ---------------------------------------------------------------- W3

/** First pass over the lookup sample: warms caches; checks every answer. */
async function checkLookups(h: Handle, data: BenchData): Promise<void> {
  for (let i = 0; i < data.lookupKeys.length; i++) {
    const k = data.lookupIdx[i]!
    await checkGet(h, data.lookupKeys[i]!, k < 0 ? [] : data.rowsOf(k), 'W3')
  }
}

/** Timed pass over the lookup sample; checks the count and sum of all rowIds; returns seconds. */
async function timeLookups(h: Handle, data: BenchData): Promise<number> {
  const keys = data.lookupKeys
  let rows = 0
  let sum = 0
  const t0 = now()
  for (let i = 0; i < keys.length; i++) {
    const r = h.async ? await h.get(keys[i]!) : h.get(keys[i]!)
    rows += r.length
    for (let j = 0; j < r.length; j++) sum += r[j]!
  }
  const seconds = secondsSince(t0)
  if (rows !== data.expectedLookupRows || sum !== data.expectedLookupSum) {
    throw new WrongAnswer(`W3: lookups returned ${rows} rowIds summing to ${sum}, expected ${data.expectedLookupRows} summing to ${data.expectedLookupSum}`)
  }
  return seconds
}

// ---------------------------------------------------------------- W4

async function scan(h: Handle, gte: string | null, limit: number, visit: (key: string, rowId: number) => void): Promise<void> {
  if (h.async) await h.scan(gte, limit, visit)
  else h.scan(gte, limit, visit)
}

/**
 * Checks a full scan against the expected pairs: the base pairs in order, minus
 * those with skip[p] = 1 when skip is given. Also warms caches.
 */
async function checkFullScan(h: Handle, data: BenchData, skip: Uint8Array | null, when: string): Promise<void> {
  const R = data.sizes.rowsPerKey
  const N = data.pairCount
  let p = 0
  const advance = (): void => {
    if (skip) while (p < N && skip[p] === 1) p++
  }
  advance()
  await scan(h, null, Infinity, (key, rowId) => {
    if (p >= N) throw new WrongAnswer(`${when}: full scan returned an extra pair (${key}, ${rowId})`)
    const wantKey = data.keys[Math.floor(p / R)]!
    const wantRow = data.sortedRowIds[p]!
    if (key !== wantKey || rowId !== wantRow) {
      throw new WrongAnswer(`${when}: full scan returned (${key}, ${rowId}) where (${wantKey}, ${wantRow}) was expected`)
    }
    p++
    advance()
  })
  if (p !== N) throw new WrongAnswer(`${when}: full scan ended early, before the pair (${data.keys[Math.floor(p / R)]}, ${data.sortedRowIds[p]})`)
}

/** Timed full scan; checks every rowId (in order) and the count; returns seconds. */
async function timeFullScan(h: Handle, data: BenchData): Promise<number> {
  const want = data.sortedRowIds
  let n = 0
  let bad = 0
  const t0 = now()
  await scan(h, null, Infinity, (_key, rowId) => {
    if (rowId !== want[n]) bad++
    n++
  })
  const seconds = secondsSince(t0)
  if (n !== data.pairCount || bad !== 0) throw new WrongAnswer(`W4: full scan returned ${n} pairs (${bad} out of order), expected ${data.pairCount}`)
  return seconds
}

/** First pass over the short scans: checks every pair of every scan; warms caches. */
async function checkShortScans(h: Handle, data: BenchData): Promise<void> {
  const R = data.sizes.rowsPerKey
  const limit = data.sizes.shortScanLimit
  for (let i = 0; i < data.scanStarts.length; i++) {
    const s = data.scanStarts[i]!
    const from = s * R
    const end = Math.min(data.pairCount, from + limit)
    let p = from
    await scan(h, data.keys[s]!, limit, (key, rowId) => {
      const wantKey = p < end ? data.keys[Math.floor(p / R)] : '(none)'
      if (p >= end || key !== wantKey || rowId !== data.sortedRowIds[p]) {
        throw new WrongAnswer(`W4: scan from ${data.keys[s]} limit ${limit}: pair ${p - from} is (${key}, ${rowId}), expected (${wantKey}, ${data.sortedRowIds[p]})`)
      }
      p++
    })
    if (p !== end) throw new WrongAnswer(`W4: scan from ${data.keys[s]} limit ${limit} returned ${p - from} pairs, expected ${end - from}`)
  }
}

/** Timed pass over the short scans; checks the count and rowId sum; returns seconds. */
async function timeShortScans(h: Handle, data: BenchData): Promise<number> {
  const limit = data.sizes.shortScanLimit
  let n = 0
  let sum = 0
  const visit = (_key: string, rowId: number): void => {
    n++
    sum += rowId
  }
  const t0 = now()
  for (let i = 0; i < data.scanStarts.length; i++) await scan(h, data.keys[data.scanStarts[i]!]!, limit, visit)
  const seconds = secondsSince(t0)
  if (n !== data.expectedScanPairs || sum !== data.expectedScanSum) {
    throw new WrongAnswer(`W4: short scans returned ${n} pairs summing to ${sum}, expected ${data.expectedScanPairs} summing to ${data.expectedScanSum}`)
  }
  return seconds
}

// ---------------------------------------------------------------- writes

async function insertBatches(h: Handle, list: PairList, batchSize: number): Promise<void> {
  const n = list.keys.length
  for (let i = 0; i < n; i += batchSize) {
    if (h.async) await h.insertBatch(list, i, Math.min(n, i + batchSize))
    else h.insertBatch(list, i, Math.min(n, i + batchSize))
  }
}

/** Reads back (up to maxKeys) keys of list and checks that each has exactly base(key) plus the list's rowIds. */
async function checkHasPairs(h: Handle, list: PairList, base: (key: string) => number[], when: string, maxKeys = Infinity): Promise<void> {
  const want = new Map<string, number[]>()
  for (let i = 0; i < list.keys.length; i++) {
    const k = list.keys[i]!
    let rows = want.get(k)
    if (!rows) want.set(k, (rows = base(k).slice()))
    rows.push(list.rowIds[i]!)
  }
  let checked = 0
  for (const [key, rows] of want) {
    if (checked++ >= maxKeys) break
    rows.sort((a, b) => a - b)
    await checkGet(h, key, rows, when)
  }
}

function percentile(sorted: Float64Array, q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]!
}

// ---------------------------------------------------------------- children

/** W1, W3, W4, W6, W5 on one store: the bulk-loaded one. */
export async function runBulkWorkloads(engine: Engine, dir: string, data: BenchData, log: Log): Promise<Sample> {
  const sample: Sample = {}
  const N = data.pairCount

  collectGarbage()
  let t0 = now()
  await engine.bulkLoad(dir, data)
  sample.w1EntriesPerSec = N / secondsSince(t0)
  sample.w1Bytes = dirBytes(dir)
  log(`W1 ${Math.round(sample.w1EntriesPerSec)} entries/s, ${sample.w1Bytes} bytes`)

  let h = await engine.open(dir)
  try {
    collectGarbage()
    await checkLookups(h, data)
    sample.w3LookupsPerSec = data.lookupKeys.length / (await timeLookups(h, data))
    log(`W3 ${Math.round(sample.w3LookupsPerSec)} lookups/s`)

    collectGarbage()
    await checkFullScan(h, data, null, 'W4')
    sample.w4ScanEntriesPerSec = N / (await timeFullScan(h, data))
    collectGarbage()
    await checkShortScans(h, data)
    sample.w4ShortScansPerSec = data.scanStarts.length / (await timeShortScans(h, data))
    log(`W4 full scan ${Math.round(sample.w4ScanEntriesPerSec)} entries/s, ${Math.round(sample.w4ShortScansPerSec)} short scans/s`)

    // W6: close, reopen, first lookup; 5 times, the median
    const w6 = new Float64Array(5)
    for (let i = 0; i < w6.length; i++) {
      collectGarbage()
      const k = Math.floor((i * data.keys.length) / w6.length)
      const key = data.keys[k]!
      t0 = now()
      await h.close()
      h = await engine.open(dir)
      const first = await get(h, key)
      w6[i] = secondsSince(t0) * 1000
      if (!sameRows(first, data.rowsOf(k))) throw new WrongAnswer(`W6: get(${key}) after reopen returned ${show(first)}, expected ${show(data.rowsOf(k))}`)
    }
    sample.w6Ms = w6.sort()[w6.length >> 1]!
    log(`W6 ${sample.w6Ms.toFixed(2)} ms (${Array.from(w6, (v) => v.toFixed(2)).join(' ')})`)

    // W5: single-pair durable commits
    collectGarbage()
    const list = data.singlePairs
    let w5 = await singleCommits(h, list)
    sample.w5CommitsPerSec = w5.perSec
    sample.w5P50Us = w5.p50Us
    sample.w5P99Us = w5.p99Us
    log(`W5 ${Math.round(w5.perSec)} commits/s, p50 ${Math.round(w5.p50Us)} µs, p99 ${Math.round(w5.p99Us)} µs`)
    await checkHasPairs(h, list, () => [], 'W5')

    // W5 warm: the same commits once more, now that the commit path has run. First W5's pairs
    // are deleted again in single-pair durable commits (unmeasured), which leaves the store as it
    // was before W5; no full collection in between (see W8_WARM_ROUNDS).
    for (let i = 0; i < list.keys.length; i++) {
      const gone = h.async ? await h.deleteBatch(list, i, i + 1) : h.deleteBatch(list, i, i + 1)
      if (gone === 0) throw new WrongAnswer(`W5 warm-up: deleting (${list.keys[i]}, ${list.rowIds[i]}) found no such pair`)
    }
    for (const key of new Set(list.keys)) await checkGet(h, key, [], 'W5 warm-up')
    w5 = await singleCommits(h, list)
    sample.w5WarmCommitsPerSec = w5.perSec
    sample.w5WarmP50Us = w5.p50Us
    sample.w5WarmP99Us = w5.p99Us
    log(`W5 warm ${Math.round(w5.perSec)} commits/s, p50 ${Math.round(w5.p50Us)} µs, p99 ${Math.round(w5.p99Us)} µs`)
    await checkHasPairs(h, list, () => [], 'W5 warm')
  } finally {
    await h.close()
  }
  sample.readPeakRss = peakRss()
  return sample
}

/** The pairs of `list` inserted one per durable commit, in order: commits/s and latency p50, p99 (µs). */
async function singleCommits(h: Handle, list: PairList): Promise<{ perSec: number; p50Us: number; p99Us: number }> {
  const n = list.keys.length
  const lat = new Float64Array(n)
  const t0 = now()
  for (let i = 0; i < n; i++) {
    const t = now()
    if (h.async) await h.insert(list.keys[i]!, list.rowIds[i]!)
    else h.insert(list.keys[i]!, list.rowIds[i]!)
    lat[i] = Number(now() - t) / 1e3
  }
  const perSec = n / secondsSince(t0)
  lat.sort()
  return { perSec, p50Us: percentile(lat, 0.5), p99Us: percentile(lat, 0.99) }
}

/** W2 into an empty store, then W7 on it. */
export async function runRandomWorkloads(engine: Engine, dir: string, data: BenchData, dev: DiskDevice | null, log: Log): Promise<Sample> {
  const sample: Sample = {}
  const N = data.pairCount
  const B = data.sizes.batchSize

  // W2
  let h = await engine.open(dir)
  collectGarbage()
  let dev0 = deviceBytesNow(dir, dev)
  let io0 = processWriteBytes()
  let t0 = now()
  try {
    await insertBatches(h, data.randomPairs, B)
    sample.w2EntriesPerSec = N / secondsSince(t0)
    for (let i = 0; i < Math.min(1000, data.lookupKeys.length); i++) {
      const k = data.lookupIdx[i]!
      await checkGet(h, data.lookupKeys[i]!, k < 0 ? [] : data.rowsOf(k), 'W2')
    }
  } finally {
    await h.close()
  }
  let dev1 = deviceBytesNow(dir, dev)
  let io1 = processWriteBytes()
  sample.w2DeviceBytes = dev0 === null || dev1 === null ? null : dev1 - dev0
  sample.w2ProcessBytes = io0 === null || io1 === null ? null : io1 - io0
  sample.w2Bytes = dirBytes(dir)
  sample.w2PeakRss = peakRss()
  log(`W2 ${Math.round(sample.w2EntriesPerSec)} entries/s, ${sample.w2Bytes} bytes, device ${sample.w2DeviceBytes ?? 'n/a'} bytes written`)

  // W7
  h = await engine.open(dir)
  collectGarbage()
  const del = data.deletePairs
  const D = del.keys.length
  let removed = 0
  let reported = true
  dev0 = deviceBytesNow(dir, dev)
  io0 = processWriteBytes()
  t0 = now()
  try {
    for (let i = 0; i < D; i += B) {
      const r = h.async ? await h.deleteBatch(del, i, Math.min(D, i + B)) : h.deleteBatch(del, i, Math.min(D, i + B))
      if (r < 0) reported = false
      else removed += r
    }
    sample.w7EntriesPerSec = D / secondsSince(t0)
  } finally {
    await h.close()
  }
  if (reported && removed !== D) throw new WrongAnswer(`W7: the deletes removed ${removed} pairs, expected ${D}`)
  dev1 = deviceBytesNow(dir, dev)
  io1 = processWriteBytes()
  sample.w7DeviceBytes = dev0 === null || dev1 === null ? null : dev1 - dev0
  sample.w7ProcessBytes = io0 === null || io1 === null ? null : io1 - io0
  sample.w7Bytes = dirBytes(dir)
  log(`W7 ${Math.round(sample.w7EntriesPerSec)} entries/s, ${sample.w7Bytes} bytes, device ${sample.w7DeviceBytes ?? 'n/a'} bytes written`)

  // Every pair that is left, and only those, in order.
  h = await engine.open(dir)
  try {
    await checkFullScan(h, data, data.deleted, 'W2+W7')
  } finally {
    await h.close()
  }
  return sample
}

// ---------------------------------------------------------------- W8

/**
 * data.sizes.callers concurrent callers, each awaiting its writesPerCaller
 * single-pair writes (insertConcurrent) in turn; returns the latency of every
 * write (µs, in pair order) and the seconds of the whole. With an engine whose
 * insertConcurrent returns nothing (a synchronous commit), a caller never
 * yields and the callers run one after another.
 */
async function concurrentWrites(h: Handle, data: BenchData, callers: number, perCaller: number): Promise<{ lat: Float64Array; seconds: number }> {
  const list = data.concurrentPairs
  const lat = new Float64Array(callers * perCaller)
  const caller = async (c: number): Promise<void> => {
    for (let i = c * perCaller; i < (c + 1) * perCaller; i++) {
      const t = now()
      const p = h.insertConcurrent(list.keys[i]!, list.rowIds[i]!)
      if (p !== undefined) await p
      lat[i] = Number(now() - t) / 1e3
    }
  }
  const t0 = now()
  await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)))
  return { lat, seconds: secondsSince(t0) }
}

/** Checks, on a new handle, that the W8 keys hold exactly their base rowIds and the first `count` written ones. */
async function checkConcurrentWrites(engine: Engine, dir: string, data: BenchData, count: number, when: string): Promise<void> {
  const list = data.concurrentPairs
  const idx = data.concurrentKeyIdx
  const byKey = new Map<string, number>()
  for (let i = 0; i < count; i++) byKey.set(list.keys[i]!, idx[i]!)
  const h = await engine.open(dir)
  try {
    await checkHasPairs(h, { keys: list.keys.slice(0, count), rowIds: list.rowIds.slice(0, count) }, (key) => data.rowsOf(byKey.get(key)!), when)
  } finally {
    await h.close()
  }
}

/**
 * W8 rounds in one child process: the first is W8 proper (the figures of a process whose write
 * path has never run); W8_WARM_ROUNDS more follow, each on a store of its own, and the last one's
 * figures are W8 warm (what a process that has been serving writes a while gets: the JavaScript
 * of every engine's write path compiled by then). Every round's writes are checked. Only the first
 * round starts with a full collection: one between rounds would also throw away optimized code
 * that the previous round's handle, closed and collected, made (V8 drops code that refers to
 * objects that died), which is not what a process that keeps its handle sees.
 */
export const W8_WARM_ROUNDS = 2

/** W8 on a store of the first concurrentBase sorted pairs: concurrent durable single-pair writes. */
export async function runConcurrentWorkload(engine: Engine, dir: string, data: BenchData, log: Log): Promise<Sample> {
  const sample: Sample = {}
  for (let round = 0; round <= W8_WARM_ROUNDS; round++) {
    const d = path.join(dir, `round-${round}`)
    fs.mkdirSync(d)
    const r = await concurrentRound(engine, d, data, round === 0 ? 'W8' : `W8 round ${round + 1}`, round === 0)
    fs.rmSync(d, { recursive: true, force: true })
    if (round === 0) {
      sample.w8WritesPerSec = r.writesPerSec
      sample.w8P50Us = r.p50Us
      sample.w8P99Us = r.p99Us
    } else if (round === W8_WARM_ROUNDS) {
      sample.w8WarmWritesPerSec = r.writesPerSec
      sample.w8WarmP50Us = r.p50Us
      sample.w8WarmP99Us = r.p99Us
    }
    log(`W8${round === 0 ? '' : ` round ${round + 1}${round === W8_WARM_ROUNDS ? ' (warm)' : ' (unmeasured)'}`} ${Math.round(r.writesPerSec)} writes/s, p50 ${Math.round(r.p50Us)} µs, p99 ${Math.round(r.p99Us)} µs`)
  }
  return sample
}

/** One W8 round in the empty directory `dir`: bulk load, the concurrent writes, their check. */
async function concurrentRound(engine: Engine, dir: string, data: BenchData, when: string, gcFirst: boolean): Promise<{ writesPerSec: number; p50Us: number; p99Us: number }> {
  const { callers, writesPerCaller } = data.sizes
  await engine.bulkLoad(dir, sortedPrefix(data, data.sizes.concurrentBase))
  const h = await engine.open(dir)
  let r: { lat: Float64Array; seconds: number }
  try {
    // the store is open and answers before the clock starts
    await checkGet(h, data.keys[0]!, data.rowsOf(0), `${when} before the writes`)
    if (gcFirst) collectGarbage()
    r = await concurrentWrites(h, data, callers, writesPerCaller)
  } finally {
    await h.close()
  }
  const n = r.lat.length
  r.lat.sort()
  await checkConcurrentWrites(engine, dir, data, n, when)
  return { writesPerSec: n / r.seconds, p50Us: percentile(r.lat, 0.5), p99Us: percentile(r.lat, 0.99) }
}

/** Markers for strace: a failing access() of a path that names the phase. */
export function straceMarker(dir: string, name: string): string {
  return `${dir}/.strace-marker-${name}`
}

/** The strace child: W5, a short W2 and a short W8 (callers × commits.perCaller writes), each between two markers. */
export async function runStraceWorkloads(
  engine: Engine,
  dirs: { a: string; b: string; c: string },
  data: BenchData,
  commits: { single: number; batches: number; perCaller: number },
  mark: (name: string) => void,
): Promise<void> {
  const { a: dirA, b: dirB, c: dirC } = dirs
  await engine.bulkLoad(dirA, data)
  let h = await engine.open(dirA)
  const list = data.singlePairs
  try {
    mark('w5-begin')
    for (let i = 0; i < commits.single; i++) {
      if (h.async) await h.insert(list.keys[i]!, list.rowIds[i]!)
      else h.insert(list.keys[i]!, list.rowIds[i]!)
    }
    mark('w5-end')
    await checkHasPairs(h, { keys: list.keys.slice(0, commits.single), rowIds: list.rowIds.slice(0, commits.single) }, () => [], 'strace W5')
  } finally {
    await h.close()
  }
  h = await engine.open(dirB)
  const B = data.sizes.batchSize
  const part = { keys: data.randomPairs.keys.slice(0, commits.batches * B), rowIds: data.randomPairs.rowIds.slice(0, commits.batches * B) }
  try {
    mark('w2-begin')
    await insertBatches(h, part, B)
    mark('w2-end')
    await checkHasPairs(h, part, () => [], 'strace W2', 500)
  } finally {
    await h.close()
  }
  await engine.bulkLoad(dirC, sortedPrefix(data, data.sizes.concurrentBase))
  h = await engine.open(dirC)
  try {
    await checkGet(h, data.keys[0]!, data.rowsOf(0), 'strace W8 before the writes')
    mark('w8-begin')
    await concurrentWrites(h, data, data.sizes.callers, commits.perCaller)
    mark('w8-end')
  } finally {
    await h.close()
  }
  await checkConcurrentWrites(engine, dirC, data, data.sizes.callers * commits.perCaller, 'strace W8')
}
