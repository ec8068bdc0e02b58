/**
 * Typed key values for tests, independent of the codec: their natural order and equality (the
 * oracle the encoding must agree with), a JSON description for fixtures, a readable form for
 * messages, and random values biased towards near-ties (shared tuple prefixes, equal numbers
 * and bigints, neighbouring floats, strings that differ in their last code point).
 */
import type { TypedKey } from '../../lib/index.ts'
import type { Rng } from './rng.ts'

function rank(v: TypedKey): number {
  if (v === null) return 0
  if (v === false) return 1
  if (v === true) return 2
  if (typeof v === 'number' || typeof v === 'bigint') return 3
  if (v instanceof Date) return 4
  if (typeof v === 'string') return 5
  if (v instanceof Uint8Array) return 6
  return 7
}

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0)

/** Exact numeric comparison of a number and a bigint; a tie puts the number first. */
function compareNumberBigInt(x: number, n: bigint): number {
  if (x === Infinity) return 1
  if (x === -Infinity) return -1
  const f = Math.floor(x)
  const F = BigInt(f)
  if (F < n) return -1
  if (F > n) return 1
  return x === f ? -1 : 1
}

function compareNumeric(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'number') return compareNumberBigInt(a, b as bigint)
  return -compareNumberBigInt(b as number, a)
}

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, c => c.codePointAt(0)!)
  const y = Array.from(b, c => c.codePointAt(0)!)
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return sign(x[i]! - y[i]!)
  return sign(x.length - y.length)
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return sign(a[i]! - b[i]!)
  return sign(a.length - b.length)
}

/** The natural order of typed keys (FORMAT.md §4.1), computed on the values: -1, 0 or 1. */
export function compareNatural(a: TypedKey, b: TypedKey): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return sign(ra - rb)
  switch (ra) {
    case 3: return compareNumeric(a as number | bigint, b as number | bigint)
    case 4: return sign((a as Date).getTime() - (b as Date).getTime())
    case 5: return compareCodePoints(a as string, b as string)
    case 6: return compareBytes(a as Uint8Array, b as Uint8Array)
    case 7: {
      const x = a as readonly TypedKey[]
      const y = b as readonly TypedKey[]
      for (let i = 0; i < x.length && i < y.length; i++) {
        const c = compareNatural(x[i]!, y[i]!)
        if (c !== 0) return c
      }
      return sign(x.length - y.length)
    }
    default: return 0
  }
}

/** Whether `decoded` is what decoding `v` must give: equal values of the same types (-0 reads back as 0). */
export function sameValue(decoded: unknown, v: TypedKey): boolean {
  if (typeof v === 'number') return typeof decoded === 'number' && (Object.is(decoded, v) || (v === 0 && Object.is(decoded, 0)))
  if (v instanceof Date) return decoded instanceof Date && decoded.getTime() === v.getTime()
  if (v instanceof Uint8Array) return decoded instanceof Uint8Array && !Buffer.isBuffer(decoded) && compareBytes(decoded, v) === 0
  if (Array.isArray(v)) return Array.isArray(decoded) && decoded.length === v.length && v.every((x, i) => sameValue(decoded[i], x))
  return decoded === v
}

/** Whether tuple (or string, or bytes) `k` starts with `prefix`, on the values. */
export function startsWithNatural(k: TypedKey, prefix: readonly TypedKey[] | string | Uint8Array): boolean {
  if (typeof prefix === 'string') return typeof k === 'string' && k.startsWith(prefix)
  if (prefix instanceof Uint8Array) return k instanceof Uint8Array && k.length >= prefix.length && compareBytes(k.subarray(0, prefix.length), prefix) === 0
  if (!Array.isArray(k) || k.length < prefix.length) return false
  return prefix.every((p, i) => compareNatural(p, (k as readonly TypedKey[])[i]!) === 0)
}

/** A readable, exact form of a value for messages and model ids. */
export function showTyped(v: TypedKey): string {
  if (v === null || typeof v === 'boolean') return String(v)
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'string') return JSON.stringify(v)
  if (v instanceof Date) return `Date(${v.getTime()})`
  if (v instanceof Uint8Array) return `x${Buffer.from(v).toString('hex')}`
  return `[${(v as readonly TypedKey[]).map(showTyped).join(', ')}]`
}

/** The JSON form used by fixtures/typed-keys.json. */
export type Described = null | boolean | { number: string } | { bigint: string } | { string: string } | { date: number } | { bytes: string } | Described[]

export function describeTyped(v: TypedKey): Described {
  if (v === null || typeof v === 'boolean') return v
  if (typeof v === 'number') return { number: Object.is(v, -0) ? '-0' : String(v) }
  if (typeof v === 'bigint') return { bigint: String(v) }
  if (typeof v === 'string') return { string: v }
  if (v instanceof Date) return { date: v.getTime() }
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') }
  return (v as readonly TypedKey[]).map(describeTyped)
}

export function fromDescribed(d: Described): TypedKey {
  if (d === null || typeof d === 'boolean') return d
  if (Array.isArray(d)) return d.map(fromDescribed)
  if ('number' in d) return Number(d.number)
  if ('bigint' in d) return BigInt(d.bigint)
  if ('string' in d) return d.string
  if ('date' in d) return new Date(d.date)
  return Uint8Array.from(Buffer.from(d.bytes, 'hex'))
}

const CHARS = ['', 'a', 'b', 'z', '\u0000', '\u0001', '\u0002', '\u007f', '\u0080', 'é', '\u07ff', '\u0800', '\ufeff', '\uffff', '😀', '\u{10ffff}', 'Smith']
const SPECIAL_NUMBERS = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2, 3, 0.1, -0.1, 1e-300, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
  Number.MAX_VALUE, -Number.MAX_VALUE, Infinity, -Infinity, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 2 ** 63, 2 ** 64, 1e21, 127, 128, 255, 256]
const f64 = new DataView(new ArrayBuffer(8))

export function randomNumber(rng: Rng): number {
  const x = rng.next()
  if (x < 0.25) return rng.pick(SPECIAL_NUMBERS)
  if (x < 0.45) return rng.int(2000) - 1000
  if (x < 0.6) return (rng.int(2000) - 1000) / rng.pick([2, 3, 4, 8, 10, 1024])
  if (x < 0.75) {
    // A neighbour of a special value: one ulp up or down, by its bits.
    const v = rng.pick(SPECIAL_NUMBERS.filter(n => Number.isFinite(n) && n !== 0))
    f64.setFloat64(0, v)
    f64.setBigUint64(0, f64.getBigUint64(0) + (rng.next() < 0.5 ? 1n : -1n))
    return f64.getFloat64(0)
  }
  // Any finite float64, from random bits (subnormals and huge exponents included).
  for (;;) {
    f64.setUint32(0, rng.int(2 ** 32))
    f64.setUint32(4, rng.int(2 ** 32))
    const v = f64.getFloat64(0)
    if (!Number.isNaN(v)) return v
  }
}

export function randomBigInt(rng: Rng): bigint {
  const x = rng.next()
  const s = rng.next() < 0.5 ? -1n : 1n
  if (x < 0.3) return BigInt(rng.int(2000) - 1000)
  if (x < 0.5) return s * (2n ** BigInt(rng.pick([52, 53, 54, 63, 64, 65, 100, 1023, 1024]))) + BigInt(rng.int(5) - 2)
  if (x < 0.7) {
    // Equal in value to a number (an integer float), so ties are common.
    const n = randomNumber(rng)
    if (Number.isFinite(n)) return BigInt(Math.trunc(n))
  }
  let v = 0n
  const words = 1 + rng.int(rng.next() < 0.1 ? 80 : 6)
  for (let i = 0; i < words; i++) v = (v << 32n) | BigInt(rng.int(2 ** 32))
  return s * v
}

export function randomString(rng: Rng): string {
  let s = ''
  const n = rng.int(6)
  for (let i = 0; i < n; i++) s += rng.pick(CHARS)
  return s
}

export function randomScalar(rng: Rng): TypedKey {
  const x = rng.int(10)
  if (x === 0) return rng.pick([null, false, true])
  if (x <= 2) return randomNumber(rng)
  if (x === 3) return randomBigInt(rng)
  if (x === 4) return new Date(rng.next() < 0.1 ? rng.pick([8.64e15, -8.64e15, 0, -1]) : Math.round((rng.next() - 0.5) * 2 * 8.64e15))
  if (x <= 7) return randomString(rng)
  const b = new Uint8Array(rng.int(5))
  for (let i = 0; i < b.length; i++) b[i] = rng.pick([0, 1, 2, 0x7f, 0xfe, 0xff, rng.int(256)])
  return b
}

/** A random typed key: a scalar or a tuple, nested up to `depth` more levels. */
export function randomTyped(rng: Rng, depth = 2): TypedKey {
  if (depth === 0 || rng.next() < 0.5) return randomScalar(rng)
  const n = rng.int(4)
  const out: TypedKey[] = []
  for (let i = 0; i < n; i++) out.push(randomTyped(rng, depth - 1))
  return out
}

/** A value near `v`: often equal in part, so that a comparison must look deep. */
export function nearby(rng: Rng, v: TypedKey): TypedKey {
  const x = rng.next()
  if (Array.isArray(v)) {
    const t = (v as readonly TypedKey[]).slice()
    if (x < 0.3 && t.length > 0) t[t.length - 1] = nearby(rng, t[t.length - 1]!)
    else if (x < 0.55) t.push(randomTyped(rng, 1))
    else if (x < 0.7) t.pop()
    else if (t.length > 0) t[rng.int(t.length)] = randomScalar(rng)
    return t
  }
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (x < 0.3 && Number.isInteger(v) && Math.abs(v) < 2 ** 1000) return BigInt(v)
    if (x < 0.6) { f64.setFloat64(0, v); f64.setBigUint64(0, f64.getBigUint64(0) ^ 1n); return f64.getFloat64(0) }
  }
  if (typeof v === 'bigint') {
    if (x < 0.4) return Number(v)
    if (x < 0.7) return v + BigInt(rng.int(3) - 1)
  }
  if (typeof v === 'string' && x < 0.6) return v + rng.pick(CHARS)
  return randomTyped(rng)
}
