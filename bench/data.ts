// Seeded, deterministic benchmark data for bench/run.ts (every child process
// regenerates the same data from the same seed).
//
// Full size:
//   - 250,000 distinct keys, each exactly 13 ASCII bytes: 'k' + 12 zero-padded
//     decimal digits of a random value in [0, 10^12);
//   - 1,000,000 (key, rowId) pairs: every key has 4 rowIds, and the rowIds
//     0..999,999 are a random permutation dealt out to the pairs;
//   - W2: the same 1,000,000 pairs in a random order;
//   - W3: 200,000 lookup keys, 90% drawn (with replacement) from the keys,
//     10% absent keys (13-byte keys of the same form that are not in the set);
//   - W4: 10,000 short-scan start keys, drawn from the keys (each scan reads
//     the <= 100 pairs from its key on);
//   - W5: 2,000 new pairs (keys not in the set, 4 rowIds each, rowIds from
//     1,000,000 up) in random order, one durable commit each;
//   - W7: a random half of the pairs (500,000), in random order.
//   - W8: a store of the first 200,000 sorted pairs (the first 50,000 keys);
//     100 callers × 200 new pairs: keys drawn (with replacement) from those
//     50,000, new rowIds (from 1,000,000 + 2,000 up, after W5's).
// --quick divides every count by 10 (W8: the store, and the writes per
// caller; still 100 callers); transactions stay 1,000 pairs and short scans
// 100 pairs.
//
// The same seed always gives the same data: no Math.random anywhere.

export const RAW_KEY_BYTES = 13
export const RAW_ROWID_BYTES = 8

export interface BenchSizes {
  /** distinct keys in the base data */
  keys: number
  /** rowIds per key */
  rowsPerKey: number
  /** pairs per durable transaction in W2 and W7 */
  batchSize: number
  /** W3 point lookups per pass */
  lookups: number
  /** W3: every absentEvery-th lookup is of an absent key (10%) */
  absentEvery: number
  /** W4 short scans per pass */
  shortScans: number
  /** W4 pairs per short scan (at most) */
  shortScanLimit: number
  /** W5 single-pair durable commits */
  singleCommits: number
  /** W8: pairs of the store the concurrent writes go into (the first of the sorted pairs) */
  concurrentBase: number
  /** W8: concurrent callers, and awaited single-pair writes per caller */
  callers: number
  writesPerCaller: number
}

export function benchSizes(quick: boolean): BenchSizes {
  const d = quick ? 10 : 1
  return {
    keys: 250_000 / d,
    rowsPerKey: 4,
    batchSize: 1_000,
    lookups: 200_000 / d,
    absentEvery: 10,
    shortScans: 10_000 / d,
    shortScanLimit: 100,
    singleCommits: 2_000 / d,
    concurrentBase: 200_000 / d,
    callers: 100,
    writesPerCaller: 200 / d,
  }
}

/** A list of pairs kept as two parallel arrays (no tuple per pair). */
export interface PairList {
  keys: string[]
  rowIds: number[]
}

export interface BenchData {
  sizes: BenchSizes
  seed: number
  quick: boolean
  /** distinct base keys, ascending */
  keys: string[]
  /** total base pairs (keys × rowsPerKey) */
  pairCount: number
  /**
   * rowIds in sorted pair order: pair p belongs to keys[p / rowsPerKey | 0];
   * the rowIds of one key ascend.
   */
  sortedRowIds: Uint32Array
  /** W2: all base pairs in a random order */
  randomPairs: PairList
  /** W7: a random half of the base pairs, in random order */
  deletePairs: PairList
  /** W7: deleted[p] = 1 when sorted pair p is in deletePairs */
  deleted: Uint8Array
  /** W3: lookup keys; lookupIdx[i] is the index into keys[] or -1 for an absent key */
  lookupKeys: string[]
  lookupIdx: Int32Array
  /** W3: how many rowIds all lookups return together, and their sum */
  expectedLookupRows: number
  expectedLookupSum: number
  /** W4: indices into keys[] where the short scans start */
  scanStarts: Uint32Array
  /** W4: pairs all short scans return together, and the sum of their rowIds */
  expectedScanPairs: number
  expectedScanSum: number
  /** W5: new pairs, one durable commit each */
  singlePairs: PairList
  /**
   * W8: new pairs on keys of the W8 store; caller c writes pairs
   * [c × writesPerCaller, (c + 1) × writesPerCaller). concurrentKeyIdx[i] is the
   * index into keys[] of concurrentPairs.keys[i].
   */
  concurrentPairs: PairList
  concurrentKeyIdx: Uint32Array
  /** rowIds of base key i, ascending */
  rowsOf(i: number): number[]
  /** the (key, rowId) pairs ascending by key then rowId */
  sortedPairs(): IterableIterator<[string, number]>
}

/**
 * The data restricted to its first `pairs` sorted pairs (a whole number of keys): what
 * Engine.bulkLoad needs for the W8 store. Only keys, pairCount, sortedRowIds, rowsOf and
 * sortedPairs describe the smaller store; the workload lists are the full data's.
 */
export function sortedPrefix(d: BenchData, pairs: number): BenchData {
  const R = d.sizes.rowsPerKey
  if (pairs % R !== 0 || pairs > d.pairCount) throw new Error(`sortedPrefix: ${pairs} is not a whole number of keys of the data`)
  const keys = d.keys.slice(0, pairs / R)
  function* sortedPairs(): IterableIterator<[string, number]> {
    for (let p = 0; p < pairs; p++) yield [keys[Math.floor(p / R)]!, d.sortedRowIds[p]!]
  }
  return { ...d, keys, pairCount: pairs, sortedRowIds: d.sortedRowIds.subarray(0, pairs), sortedPairs }
}

export const DEFAULT_SEED = 0x7a11_2007

/** mulberry32: a small, fast 32-bit PRNG. Returns uint32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** Uniform integer in [0, n) for n <= 2^32 (float multiply; bias is negligible here). */
function below(next: () => number, n: number): number {
  return Math.floor((next() / 4294967296) * n)
}

/** In-place Fisher–Yates shuffle. */
function shuffle(next: () => number, a: Uint32Array): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = below(next, i + 1)
    const t = a[i]!
    a[i] = a[j]!
    a[j] = t
  }
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n)
  for (let i = 0; i < n; i++) a[i] = i
  return a
}

function keyString(v: number): string {
  return 'k' + v.toString().padStart(12, '0')
}

export function makeBenchData(quick: boolean, seed: number = DEFAULT_SEED): BenchData {
  const sizes = benchSizes(quick)
  const K = sizes.keys
  const R = sizes.rowsPerKey
  const N = K * R
  const next = mulberry32(seed)

  // Distinct 12-digit values: the first K are the base keys, then the W5 keys,
  // then the absent keys of W3.
  const singleKeyCount = sizes.singleCommits / R
  const absentKeyCount = Math.ceil(sizes.lookups / sizes.absentEvery)
  const seen = new Set<number>()
  const values: number[] = []
  while (values.length < K + singleKeyCount + absentKeyCount) {
    // 52 random bits, reduced to [0, 10^12)
    const v = ((next() >>> 12) * 4294967296 + next()) % 1e12
    if (seen.has(v)) continue
    seen.add(v)
    values.push(v)
  }
  const base = Float64Array.from(values.slice(0, K)).sort()
  const keys = Array.from(base, keyString)
  const singleKeys = values.slice(K, K + singleKeyCount).map(keyString)
  const absentKeys = values.slice(K + singleKeyCount).map(keyString)

  // rowIds 0..N-1 as a random permutation dealt out to the pairs; each key's
  // rowIds are then sorted so that sortedRowIds is in (key, rowId) order.
  const sortedRowIds = identity(N)
  shuffle(next, sortedRowIds)
  for (let k = 0; k < K; k++) sortedRowIds.subarray(k * R, k * R + R).sort()

  const pairList = (order: Uint32Array, count: number): PairList => {
    const ks = new Array<string>(count)
    const rs = new Array<number>(count)
    for (let i = 0; i < count; i++) {
      const p = order[i]!
      ks[i] = keys[Math.floor(p / R)]!
      rs[i] = sortedRowIds[p]!
    }
    return { keys: ks, rowIds: rs }
  }

  const insertOrder = identity(N)
  shuffle(next, insertOrder)
  const randomPairs = pairList(insertOrder, N)

  const deleteOrder = identity(N)
  shuffle(next, deleteOrder)
  const half = Math.floor(N / 2)
  const deletePairs = pairList(deleteOrder, half)
  const deleted = new Uint8Array(N)
  for (let i = 0; i < half; i++) deleted[deleteOrder[i]!] = 1

  const rowsOf = (i: number): number[] => Array.from(sortedRowIds.subarray(i * R, i * R + R))

  const lookupIdx = new Int32Array(sizes.lookups)
  const lookupKeys = new Array<string>(sizes.lookups)
  let expectedLookupRows = 0
  let expectedLookupSum = 0
  let absent = 0
  for (let i = 0; i < sizes.lookups; i++) {
    if (i % sizes.absentEvery === sizes.absentEvery - 1) {
      lookupIdx[i] = -1
      lookupKeys[i] = absentKeys[absent++]!
      continue
    }
    const k = below(next, K)
    lookupIdx[i] = k
    lookupKeys[i] = keys[k]!
    expectedLookupRows += R
    for (let j = 0; j < R; j++) expectedLookupSum += sortedRowIds[k * R + j]!
  }

  const scanStarts = new Uint32Array(sizes.shortScans)
  let expectedScanPairs = 0
  let expectedScanSum = 0
  for (let i = 0; i < sizes.shortScans; i++) {
    const k = below(next, K)
    scanStarts[i] = k
    const end = Math.min(N, k * R + sizes.shortScanLimit)
    expectedScanPairs += end - k * R
    for (let p = k * R; p < end; p++) expectedScanSum += sortedRowIds[p]!
  }

  // W5: singleKeyCount new keys, R consecutive rowIds each, in random order.
  const singleOrder = identity(sizes.singleCommits)
  shuffle(next, singleOrder)
  const singlePairs: PairList = { keys: [], rowIds: [] }
  for (let i = 0; i < sizes.singleCommits; i++) {
    const p = singleOrder[i]!
    singlePairs.keys.push(singleKeys[Math.floor(p / R)]!)
    singlePairs.rowIds.push(N + p)
  }

  // W8: its own generator (the other lists stay what they were before W8 existed).
  const next8 = mulberry32(seed ^ 0x0008_0008)
  const K8 = sizes.concurrentBase / R
  const W8 = sizes.callers * sizes.writesPerCaller
  const concurrentKeyIdx = new Uint32Array(W8)
  const concurrentPairs: PairList = { keys: new Array<string>(W8), rowIds: new Array<number>(W8) }
  for (let i = 0; i < W8; i++) {
    const k = below(next8, K8)
    concurrentKeyIdx[i] = k
    concurrentPairs.keys[i] = keys[k]!
    concurrentPairs.rowIds[i] = N + sizes.singleCommits + i
  }

  function* sortedPairs(): IterableIterator<[string, number]> {
    for (let p = 0; p < N; p++) yield [keys[Math.floor(p / R)]!, sortedRowIds[p]!]
  }

  return {
    sizes,
    seed,
    quick,
    keys,
    pairCount: N,
    sortedRowIds,
    randomPairs,
    deletePairs,
    deleted,
    lookupKeys,
    lookupIdx,
    expectedLookupRows,
    expectedLookupSum,
    scanStarts,
    expectedScanPairs,
    expectedScanSum,
    singlePairs,
    concurrentPairs,
    concurrentKeyIdx,
    rowsOf,
    sortedPairs,
  }
}

/** Bytes of the data itself as stored by a key-once index: distinct keys × 13 + pairs × 8. */
export function rawBytes(d: BenchData): number {
  return d.keys.length * RAW_KEY_BYTES + d.pairCount * RAW_ROWID_BYTES
}

/** Bytes of the pairs as inserted one by one: pairs × (13 + 8). */
export function payloadBytes(d: BenchData): number {
  return d.pairCount * (RAW_KEY_BYTES + RAW_ROWID_BYTES)
}
