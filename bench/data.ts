// Seeded, deterministic benchmark data for bench/run.ts.
//
// Full size ("benchmark data"):
//   - 250,000 distinct keys, each exactly 13 ASCII bytes: 'k' + 12 zero-padded
//     decimal digits of a random value in [0, 10^12);
//   - 1,000,000 (key, rowId) pairs: every key has 4 rowIds, and the rowIds
//     0..999,999 are a random permutation dealt out to the pairs;
//   - 200,000 lookup keys drawn (with replacement) from the existing keys;
//   - 1,000 key ranges [gte, lt), each spanning 1% of the keys (2,500 keys,
//     10,000 pairs);
//   - new pairs for the insert measurements: keys that are not in the base set
//     (4 rowIds each, rowIds from 1,000,000 up), in random order.
// --quick divides every count by 10 (the range span stays 1% of the keys).
//
// The same seed always gives the same data: no Math.random anywhere.

export const RAW_KEY_BYTES = 13
export const RAW_ROWID_BYTES = 8

export interface BenchSizes {
  /** distinct keys in the base data */
  keys: number
  /** rowIds per key */
  rowsPerKey: number
  /** point lookups per pass */
  lookups: number
  /** range counts per pass */
  ranges: number
  /** keys spanned by each range (1% of keys) */
  rangeSpan: number
  /** single-pair durable commits */
  singleInserts: number
  /** pairs inserted in random order, in transactions of batchSize */
  batchInserts: number
  batchSize: number
}

export function benchSizes(quick: boolean): BenchSizes {
  const d = quick ? 10 : 1
  const keys = 250_000 / d
  return {
    keys,
    rowsPerKey: 4,
    lookups: 200_000 / d,
    ranges: 1_000 / d,
    rangeSpan: keys / 100,
    singleInserts: 2_000 / d,
    batchInserts: 100_000 / d,
    batchSize: 1_000,
  }
}

/** A list of pairs kept as two parallel arrays (no tuple per pair). */
export interface PairList {
  keys: string[]
  rowIds: number[]
}

export interface RangeQuery {
  gte: string
  lt: string
  /** number of pairs with gte <= key < lt in the base data */
  expected: number
}

export interface BenchData {
  sizes: BenchSizes
  seed: number
  /** distinct base keys, ascending */
  keys: string[]
  /** total base pairs (keys × rowsPerKey) */
  pairCount: number
  /**
   * rowIds in sorted pair order: pair p belongs to keys[p / rowsPerKey | 0];
   * the rowIds of one key ascend.
   */
  sortedRowIds: Uint32Array
  /** a permutation of 0..pairCount-1: pair indices in random order */
  randomOrder: Uint32Array
  /** indices into keys[] of the lookup sample */
  lookupIdx: Uint32Array
  /** the lookup sample as strings (lookupKeys[i] === keys[lookupIdx[i]]) */
  lookupKeys: string[]
  /** how many rowIds all lookups of the sample return together */
  expectedLookupRows: number
  /** the sum of all rowIds all lookups of the sample return */
  expectedLookupSum: number
  ranges: RangeQuery[]
  /** new pairs, each committed on its own */
  singleInserts: PairList
  /** new pairs, committed in transactions of sizes.batchSize */
  batchInserts: PairList
  /** the (key, rowId) pairs ascending by key then rowId */
  sortedPairs(): IterableIterator<[string, number]>
  /** the same pairs in a seeded random order */
  randomPairs(): IterableIterator<[string, number]>
  /** rowIds of base key i, ascending */
  rowsOf(i: number): number[]
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

function keyString(v: number): string {
  return 'k' + v.toString().padStart(12, '0')
}

/** New pairs: `count / rowsPerKey` keys, rowsPerKey consecutive rowIds each, shuffled. */
function newPairs(
  next: () => number,
  newKeys: string[],
  firstRowId: number,
  count: number,
  rowsPerKey: number,
): PairList {
  const order = new Uint32Array(count)
  for (let i = 0; i < count; i++) order[i] = i
  shuffle(next, order)
  const keys = new Array<string>(count)
  const rowIds = new Array<number>(count)
  for (let i = 0; i < count; i++) {
    const p = order[i]!
    keys[i] = newKeys[Math.floor(p / rowsPerKey)]!
    rowIds[i] = firstRowId + p
  }
  return { keys, rowIds }
}

export function makeBenchData(quick: boolean, seed: number = DEFAULT_SEED): BenchData {
  const sizes = benchSizes(quick)
  const K = sizes.keys
  const R = sizes.rowsPerKey
  const N = K * R
  const next = mulberry32(seed)

  // Distinct 12-digit values: the first K are the base keys, the rest are
  // keys that the insert measurements add.
  const newKeyCount = (sizes.singleInserts + sizes.batchInserts) / R
  const seen = new Set<number>()
  const values: number[] = []
  while (values.length < K + newKeyCount) {
    // 52 random bits, reduced to [0, 10^12)
    const v = ((next() >>> 12) * 4294967296 + next()) % 1e12
    if (seen.has(v)) continue
    seen.add(v)
    values.push(v)
  }
  const base = Float64Array.from(values.slice(0, K)).sort()
  const keys = Array.from(base, keyString)
  const newKeys = values.slice(K).map(keyString)

  // rowIds 0..N-1 as a random permutation dealt out to the pairs; each key's
  // rowIds are then sorted so that sortedRowIds is in (key, rowId) order.
  const sortedRowIds = new Uint32Array(N)
  for (let i = 0; i < N; i++) sortedRowIds[i] = i
  shuffle(next, sortedRowIds)
  for (let k = 0; k < K; k++) sortedRowIds.subarray(k * R, k * R + R).sort()

  const randomOrder = new Uint32Array(N)
  for (let i = 0; i < N; i++) randomOrder[i] = i
  shuffle(next, randomOrder)

  const rowsOf = (i: number): number[] => Array.from(sortedRowIds.subarray(i * R, i * R + R))

  const lookupIdx = new Uint32Array(sizes.lookups)
  const lookupKeys = new Array<string>(sizes.lookups)
  let expectedLookupSum = 0
  for (let i = 0; i < sizes.lookups; i++) {
    const k = below(next, K)
    lookupIdx[i] = k
    lookupKeys[i] = keys[k]!
    for (let j = 0; j < R; j++) expectedLookupSum += sortedRowIds[k * R + j]!
  }

  const ranges: RangeQuery[] = []
  for (let i = 0; i < sizes.ranges; i++) {
    const s = below(next, K - sizes.rangeSpan)
    ranges.push({ gte: keys[s]!, lt: keys[s + sizes.rangeSpan]!, expected: sizes.rangeSpan * R })
  }

  const singleInserts = newPairs(next, newKeys.slice(0, sizes.singleInserts / R), N, sizes.singleInserts, R)
  const batchInserts = newPairs(
    next,
    newKeys.slice(sizes.singleInserts / R),
    N + sizes.singleInserts,
    sizes.batchInserts,
    R,
  )

  function* sortedPairs(): IterableIterator<[string, number]> {
    for (let p = 0; p < N; p++) yield [keys[Math.floor(p / R)]!, sortedRowIds[p]!]
  }
  function* randomPairs(): IterableIterator<[string, number]> {
    for (let i = 0; i < N; i++) {
      const p = randomOrder[i]!
      yield [keys[Math.floor(p / R)]!, sortedRowIds[p]!]
    }
  }

  return {
    sizes,
    seed,
    keys,
    pairCount: N,
    sortedRowIds,
    randomOrder,
    lookupIdx,
    lookupKeys,
    expectedLookupRows: sizes.lookups * R,
    expectedLookupSum,
    ranges,
    singleInserts,
    batchInserts,
    sortedPairs,
    randomPairs,
    rowsOf,
  }
}

/** Bytes of the data itself: distinct keys × 13 + pairs × 8. */
export function rawBytes(d: BenchData): number {
  return d.keys.length * RAW_KEY_BYTES + d.pairCount * RAW_ROWID_BYTES
}
