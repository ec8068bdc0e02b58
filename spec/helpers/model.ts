/**
 * A simple in-memory reference for model-based tests: a sorted set of (key, rowId) pairs, with
 * keys ordered by their bytes (Buffer.compare) and rowIds ascending. Also random key, range and
 * bound generators, and a comparison helper that stops a run at the first divergence.
 */
import type { Rng } from './rng.ts'

/** How a test handles the user keys of one key encoding. */
export interface KeyKind<K> {
  encoding: 'utf8' | 'binary' | 'typed'
  /** The key's stored bytes. */
  bytes(k: K): Buffer
  /** A readable string for messages. */
  show(k: K): string
  /** A string that identifies the key exactly, cheap to compute (for comparing results). */
  id(k: K): string
  /** A random key of between min and max encoded bytes (max is reached exactly when min = max). */
  random(rng: Rng, min: number, max: number): K
  /** `a` followed by `b`. */
  concat(a: K, b: K): K
  /** A proper prefix of k (well-formed for utf8), or k itself when it is empty. */
  prefix(rng: Rng, k: K): K
  /** The key that sorts right after k among all keys: k followed by a zero byte. */
  succ(k: K): K
  empty: K
  /** A value for range option `prefix` drawn from key k (often a prefix of it, sometimes not). */
  prefixOf(rng: Rng, k: K): unknown
  /** The bytes that the keys matching prefix p start with. */
  prefixBytes(p: unknown): Buffer
  /** Whether key k matches prefix p, decided on the values (the check on prefixBytes). */
  matches(k: K, p: unknown): boolean
}

// utf8: ASCII, 2-, 3- and 4-byte characters, and characters above the surrogates in UTF-16 (which
// sort below emoji in code-point order but above them in UTF-16 order).
const UTF8_CHARS = ['a', 'b', 'c', 'x', 'z', '0', '1', ':', '\u0000', '\u007f', 'é', 'ß', 'Ω', '中', '文', '\ue000', '\uffee', '😀', '🎉', '𝄞']

export const utf8Kind: KeyKind<string> = {
  encoding: 'utf8',
  bytes: k => Buffer.from(k, 'utf8'),
  show: k => JSON.stringify(k),
  id: k => k,
  random(rng, min, max) {
    const target = min + rng.int(max - min + 1)
    let s = ''
    let n = 0
    while (n < target) {
      let c = rng.pick(UTF8_CHARS)
      if (n + Buffer.byteLength(c) > target) c = rng.pick(['a', 'q', '~'])
      s += c
      n += Buffer.byteLength(c)
    }
    return s
  },
  concat: (a, b) => a + b,
  prefix(rng, k) {
    const chars = Array.from(k)
    return chars.length === 0 ? k : chars.slice(0, rng.int(chars.length)).join('')
  },
  succ: k => k + '\u0000',
  empty: '',
  prefixOf: (rng, k) => (rng.next() < 0.8 ? utf8Kind.prefix(rng, k) : k),
  prefixBytes: p => Buffer.from(p as string, 'utf8'),
  matches: (k, p) => k.startsWith(p as string),
}

export const binaryKind: KeyKind<Buffer> = {
  encoding: 'binary',
  bytes: k => k,
  show: k => 'x' + k.toString('hex'),
  id: k => k.toString('latin1'),
  random(rng, min, max) {
    const n = min + rng.int(max - min + 1)
    const b = Buffer.alloc(n)
    // Mostly a small alphabet (so keys share prefixes), sometimes any byte, including 0x00 and 0xff.
    for (let i = 0; i < n; i++) b[i] = rng.next() < 0.7 ? rng.pick([0x00, 0x01, 0x61, 0x62, 0x7f, 0x80, 0xfe, 0xff]) : rng.int(256)
    return b
  },
  concat: (a, b) => Buffer.concat([a, b]),
  prefix: (rng, k) => (k.length === 0 ? k : Buffer.from(k.subarray(0, rng.int(k.length)))),
  succ: k => Buffer.concat([k, Buffer.from([0])]),
  empty: Buffer.alloc(0),
  prefixOf: (rng, k) => (rng.next() < 0.8 ? binaryKind.prefix(rng, k) : k),
  prefixBytes: p => Buffer.from(p as Uint8Array),
  matches: (k, p) => k.subarray(0, (p as Uint8Array).length).equals(p as Uint8Array),
}

interface Entry<K> {
  key: K
  bytes: Buffer
  ids: number[]
}

function lowerId(ids: number[], r: number): number {
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ids[mid]! < r) lo = mid + 1
    else hi = mid
  }
  return lo
}

export type Pair<K> = [K, number]

/** Key bounds and range options as the public API takes them. */
export interface RangeQuery<K> {
  prefix?: unknown
  gt?: K
  gte?: K
  lt?: K
  lte?: K
  after?: [K, number]
  reverse?: boolean
  offset?: number
  limit?: number
}

/** The reference model. */
export class Model<K> {
  readonly kind: KeyKind<K>
  readonly unique: boolean
  private entries: Entry<K>[] = []
  private byKey = new Map<string, Entry<K>>()
  private flat: Pair<K>[] | null = null
  private flatBytes: Buffer[] | null = null
  size = 0

  constructor(kind: KeyKind<K>, unique = false) {
    this.kind = kind
    this.unique = unique
  }

  private id(b: Buffer): string {
    return b.toString('latin1')
  }

  private keyIndex(b: Buffer): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (Buffer.compare(this.entries[mid]!.bytes, b) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  get keyCount(): number { return this.entries.length }

  get(k: K): number[] {
    const e = this.byKey.get(this.id(this.kind.bytes(k)))
    return e ? e.ids.slice() : []
  }

  has(k: K, r: number): boolean {
    const e = this.byKey.get(this.id(this.kind.bytes(k)))
    if (!e) return false
    const i = lowerId(e.ids, r)
    return i < e.ids.length && e.ids[i] === r
  }

  count(k?: K): number {
    if (k === undefined) return this.size
    return this.byKey.get(this.id(this.kind.bytes(k)))?.ids.length ?? 0
  }

  /** Whether inserting (k, r) into a unique index would violate uniqueness. */
  violates(k: K, r: number): boolean {
    return this.unique && !this.has(k, r) && this.count(k) > 0
  }

  /** Inserts; false when present. Does not check uniqueness (see violates). */
  insert(k: K, r: number): boolean {
    const b = Buffer.from(this.kind.bytes(k))
    const id = this.id(b)
    let e = this.byKey.get(id)
    if (!e) {
      e = { key: k, bytes: b, ids: [] }
      this.byKey.set(id, e)
      this.entries.splice(this.keyIndex(b), 0, e)
    }
    const i = lowerId(e.ids, r)
    if (i < e.ids.length && e.ids[i] === r) return false
    e.ids.splice(i, 0, r)
    this.size++
    this.flat = null
    return true
  }

  delete(k: K, r: number): boolean {
    const b = this.kind.bytes(k)
    const id = this.id(b)
    const e = this.byKey.get(id)
    if (!e) return false
    const i = lowerId(e.ids, r)
    if (i >= e.ids.length || e.ids[i] !== r) return false
    e.ids.splice(i, 1)
    this.size--
    this.flat = null
    if (e.ids.length === 0) {
      this.byKey.delete(id)
      this.entries.splice(this.keyIndex(b), 1)
    }
    return true
  }

  clone(): Model<K> {
    const m = new Model<K>(this.kind, this.unique)
    m.entries = this.entries.map(e => ({ key: e.key, bytes: e.bytes, ids: e.ids.slice() }))
    for (const e of m.entries) m.byKey.set(this.id(e.bytes), e)
    m.size = this.size
    return m
  }

  /** Every pair in order. */
  pairs(): Pair<K>[] {
    if (this.flat === null) {
      const flat: Pair<K>[] = []
      const fb: Buffer[] = []
      for (const e of this.entries) for (const r of e.ids) { flat.push([e.key, r]); fb.push(e.bytes) }
      this.flat = flat
      this.flatBytes = fb
    }
    return this.flat
  }

  /** A uniformly random present pair, or null when empty. */
  randomPair(rng: Rng): Pair<K> | null {
    if (this.size === 0) return null
    return this.pairs()[rng.int(this.size)]!
  }

  /** A random present pair chosen by key first (cheap; no flattening). */
  randomPairByKey(rng: Rng): Pair<K> | null {
    if (this.entries.length === 0) return null
    const e = this.entries[rng.int(this.entries.length)]!
    return [e.key, e.ids[rng.int(e.ids.length)]!]
  }

  randomKey(rng: Rng): K | null {
    if (this.entries.length === 0) return null
    return this.entries[rng.int(this.entries.length)]!.key
  }

  /** Keys in order (for building bounds from neighbours). */
  keys(): K[] {
    return this.entries.map(e => e.key)
  }

  /** First flat index whose pair satisfies `pred`, which must be monotone (false… then true…). */
  private firstWhere(pred: (b: Buffer, r: number) => boolean): number {
    const flat = this.pairs()
    const fb = this.flatBytes!
    let lo = 0
    let hi = flat.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (pred(fb[mid]!, flat[mid]![1])) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  /** [lo, hi) flat indices of the pairs within the query's key bounds and `after`. */
  private bounds(q: RangeQuery<K>): [number, number] {
    const kb = (k: K): Buffer => this.kind.bytes(k)
    let lo = 0
    let hi = this.size
    this.pairs()
    if (q.gte !== undefined) { const k = kb(q.gte); lo = Math.max(lo, this.firstWhere(b => Buffer.compare(b, k) >= 0)) }
    if (q.gt !== undefined) { const k = kb(q.gt); lo = Math.max(lo, this.firstWhere(b => Buffer.compare(b, k) > 0)) }
    if (q.lte !== undefined) { const k = kb(q.lte); hi = Math.min(hi, this.firstWhere(b => Buffer.compare(b, k) > 0)) }
    if (q.lt !== undefined) { const k = kb(q.lt); hi = Math.min(hi, this.firstWhere(b => Buffer.compare(b, k) >= 0)) }
    if (q.prefix !== undefined) {
      const p = this.kind.prefixBytes(q.prefix)
      const extends_ = (b: Buffer): boolean => b.length >= p.length && b.subarray(0, p.length).equals(p)
      const plo = this.firstWhere(b => Buffer.compare(b, p) >= 0)
      const phi = this.firstWhere(b => Buffer.compare(b, p) > 0 && !extends_(b))
      this.checkPrefixEdges(q.prefix, plo, phi)
      lo = Math.max(lo, plo)
      hi = Math.min(hi, phi)
    }
    if (q.after !== undefined) {
      const k = kb(q.after[0])
      const ar = q.after[1]
      if (!q.reverse) {
        // Strictly after (k, ar).
        lo = Math.max(lo, this.firstWhere((b, r) => { const c = Buffer.compare(b, k); return c > 0 || (c === 0 && r > ar) }))
      } else {
        // Strictly before (k, ar).
        hi = Math.min(hi, this.firstWhere((b, r) => { const c = Buffer.compare(b, k); return c > 0 || (c === 0 && r >= ar) }))
      }
    }
    return [lo, hi]
  }

  /**
   * The byte range of a prefix must hold exactly the keys that match it on the values: its first
   * and last keys match, and the keys just outside do not (the matches are contiguous in key order).
   */
  private checkPrefixEdges(p: unknown, lo: number, hi: number): void {
    const flat = this.pairs()
    const bad = (i: number, want: boolean): boolean => i >= 0 && i < flat.length && this.kind.matches(flat[i]![0], p) !== want
    if ((lo < hi && (bad(lo, true) || bad(hi - 1, true))) || bad(lo - 1, false) || bad(hi, false)) {
      throw new Error(`model: the bytes of prefix ${String(p)} do not select the keys that match it`)
    }
  }

  countRange(q: RangeQuery<K>): number {
    const [lo, hi] = this.bounds(q)
    return Math.max(0, hi - lo)
  }

  range(q: RangeQuery<K>): Pair<K>[] {
    const [lo, hi] = this.bounds(q)
    if (hi <= lo) return []
    const flat = this.pairs()
    const offset = q.offset ?? 0
    const limit = q.limit ?? Infinity
    const out: Pair<K>[] = []
    if (!q.reverse) {
      for (let i = lo + offset; i < hi && out.length < limit; i++) out.push(flat[i]!)
    } else {
      for (let i = hi - 1 - offset; i >= lo && out.length < limit; i--) out.push(flat[i]!)
    }
    return out
  }
}

/**
 * Random keys for one index: mostly short keys with shared prefixes drawn from a pool (so keys
 * collect many rowIds), sometimes long keys up to the maximum size (sharing long prefixes), and
 * sometimes fresh keys.
 */
export class KeyGen<K> {
  readonly kind: KeyKind<K>
  readonly maxBytes: number
  private readonly rng: Rng
  readonly pool: K[] = []
  readonly longPool: K[] = []
  longRate: number

  constructor(rng: Rng, kind: KeyKind<K>, maxBytes: number, poolSize = 40, longRate = 0.06) {
    this.rng = rng
    this.kind = kind
    this.maxBytes = maxBytes
    this.longRate = longRate
    const bases: K[] = [kind.empty]
    for (let i = 0; i < 6; i++) bases.push(kind.random(rng, 1, 3))
    for (let i = 0; i < poolSize; i++) {
      const base = rng.pick(bases)
      this.pool.push(rng.next() < 0.1 ? base : kind.concat(base, kind.random(rng, 0, 6)))
    }
    const longPrefix = kind.random(rng, Math.floor(maxBytes / 2), Math.floor(maxBytes * 0.8))
    for (let i = 0; i < 8; i++) this.longPool.push(this.long(longPrefix))
  }

  /** A key of up to the maximum size (exactly the maximum a third of the time). */
  long(prefix?: K): K {
    const rng = this.rng
    const p = prefix ?? (rng.next() < 0.5 && this.longPool.length > 0 ? this.kind.prefix(rng, rng.pick(this.longPool)) : this.kind.empty)
    const used = this.kind.bytes(p).length
    const room = this.maxBytes - used
    if (room <= 0) return p
    const exact = rng.next() < 0.35
    return this.kind.concat(p, this.kind.random(rng, exact ? room : Math.max(0, Math.floor(room / 2)), room))
  }

  next(): K {
    const rng = this.rng
    const x = rng.next()
    if (x < this.longRate) return rng.next() < 0.6 ? rng.pick(this.longPool) : this.long()
    if (x < 0.85) return rng.pick(this.pool)
    return this.kind.random(rng, 0, 24)
  }

  /** A key for a read bound: often an existing key, or one just after or before it, or absent. */
  bound(m: Model<K>): K {
    const rng = this.rng
    const x = rng.next()
    const k = m.randomKey(rng)
    if (k !== null && x < 0.45) return k
    if (k !== null && x < 0.6 && this.kind.bytes(k).length < this.maxBytes) return this.kind.succ(k)
    if (k !== null && x < 0.7) return this.kind.prefix(rng, k)
    return this.next()
  }
}

/** A random rowId: mostly small (so runs are dense), sometimes of every varint width. */
export function randomRowId(rng: Rng): number {
  const x = rng.next()
  if (x < 0.7) return rng.int(64)
  if (x < 0.85) return rng.int(5000)
  if (x < 0.95) return rng.int(2 ** (7 * (1 + rng.int(7))))
  return rng.pick([0, 1, 127, 128, 16383, 16384, 2 ** 53 - 1, 2 ** 53 - 2, 2 ** 32, 2 ** 48])
}

/** Random range options over model `m`: bounds (absent keys, empty and inverted ranges), after, reverse, offset, limit. */
export function randomRange<K>(rng: Rng, gen: KeyGen<K>, m: Model<K>, boundsOnly: boolean): RangeQuery<K> {
  const q: RangeQuery<K> = {}
  const lo = rng.int(3)
  if (lo === 1) q.gt = gen.bound(m)
  if (lo === 2) q.gte = gen.bound(m)
  const hi = rng.int(3)
  if (hi === 1) q.lt = gen.bound(m)
  if (hi === 2) q.lte = gen.bound(m)
  if (rng.next() < 0.3) q.prefix = gen.kind.prefixOf(rng, gen.bound(m))
  if (boundsOnly) return q
  if (rng.next() < 0.5) q.reverse = rng.next() < 0.5
  if (rng.next() < 0.35) {
    const p = rng.next() < 0.6 ? m.randomPair(rng) : null
    q.after = p !== null ? [p[0], p[1]] : [gen.bound(m), randomRowId(rng)]
  }
  if (rng.next() < 0.3) q.offset = rng.int(Math.max(1, m.size + 3))
  const l = rng.next()
  if (l < 0.3) q.limit = rng.int(40)
  else if (l < 0.4) q.limit = Infinity
  else if (l < 0.5) q.limit = rng.int(Math.max(1, m.size + 3))
  return q
}

export function describeQuery<K>(kind: KeyKind<K>, q: RangeQuery<K>): string {
  const parts: string[] = []
  if (q.prefix !== undefined) parts.push(`prefix: ${kind.show(q.prefix as K)}`)
  for (const n of ['gt', 'gte', 'lt', 'lte'] as const) if (q[n] !== undefined) parts.push(`${n}: ${kind.show(q[n])}`)
  if (q.after) parts.push(`after: [${kind.show(q.after[0])}, ${q.after[1]}]`)
  if (q.reverse !== undefined) parts.push(`reverse: ${q.reverse}`)
  if (q.offset !== undefined) parts.push(`offset: ${q.offset}`)
  if (q.limit !== undefined) parts.push(`limit: ${q.limit}`)
  return `{ ${parts.join(', ')} }`
}

/** Pairs in a form that compares exactly and cheaply: [kind.id(key), rowId]. */
export function showPairs<K>(kind: KeyKind<K>, pairs: Iterable<readonly [K, number]>): [string, number][] {
  const out: [string, number][] = []
  for (const [k, r] of pairs) out.push([kind.id(k), r])
  return out
}

/** Thrown to stop a model run at its first divergence (the assertion was already reported). */
export class Divergence extends Error {}

interface Asserter {
  same(found: unknown, wanted: unknown, message: string): boolean
  pass(message: string): boolean
}

/**
 * t.same for long lists without tap's cost of diffing equal values: equal lists pass at once; on
 * a difference, t.same reports the region around the first difference.
 */
export function sameList(t: Asserter, got: unknown[], want: unknown[], message: string): boolean {
  if (equal(got, want)) return t.pass(message)
  const g = got.length > 200 || want.length > 200 ? windowAround(got, want) : [got, want]
  return t.same(g[0], g[1], message)
}

/** Compares two values cheaply; on a difference reports it through t.same and throws Divergence. */
export function expectSame(t: Asserter, got: unknown, want: unknown, what: string | (() => string)): void {
  if (equal(got, want)) return
  const message = typeof what === 'string' ? what : what()
  const g = Array.isArray(got) && got.length > 200 ? windowAround(got, want as unknown[]) : [got, want]
  t.same(g[0], g[1], message)
  throw new Divergence(message)
}

function windowAround(a: unknown[], b: unknown[]): [unknown, unknown] {
  let i = 0
  while (i < a.length && i < b.length && equal(a[i], b[i])) i++
  const from = Math.max(0, i - 5)
  return [{ length: a.length, firstDifferenceAt: i, slice: a.slice(from, i + 10) }, { length: b.length, firstDifferenceAt: i, slice: b.slice(from, i + 10) }]
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false
    return true
  }
  return false
}
