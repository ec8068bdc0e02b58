/**
 * The typed key encoding (FORMAT.md §4.1): null, booleans, numbers, bigints, strings, Dates,
 * byte strings and tuples of them, as byte strings whose unsigned order is the values' natural
 * order. Pure. The encoder throws INVALID_ARGUMENT for a value it cannot encode; the decoder
 * accepts exactly the encoder's outputs (one encoding per value) and throws DecodeError for any
 * other bytes, in time linear in their length.
 */
import { invalid } from '../errors.ts'
import {
  TK_BYTES, TK_DATE, TK_END, TK_ESCAPE, TK_EXPONENT_BIAS, TK_FALSE, TK_KIND_BIGINT, TK_KIND_NUMBER, TK_MAX_DATE_MS,
  TK_MAX_DEPTH, TK_MAX_EXPONENT, TK_NEG_INFINITY, TK_NEGATIVE, TK_NULL, TK_POS_INFINITY, TK_POSITIVE, TK_STRING,
  TK_TRUE, TK_TUPLE, TK_ZERO,
} from './constants.ts'
import { DecodeError } from './page.ts'
import { isWellFormed } from './well-formed.ts'

/** One element of a typed key. */
export type TypedScalar = null | boolean | number | bigint | string | Date | Uint8Array
/** A key of a `keyEncoding: 'typed'` index: a scalar or a tuple (array) of typed keys. */
export type TypedKey = TypedScalar | readonly TypedKey[]

/** Float64 exponents: the smallest subnormal is 2^-1074, the largest finite value below 2^1024. */
const MIN_FLOAT_EXPONENT = -1074
const MIN_NORMAL_EXPONENT = -1022
const MAX_FLOAT_EXPONENT = 1023
const MANTISSA_BITS = 52
const GROUP_BITS = 7
const DATE_OFFSET = 1n << 63n

const f64 = new DataView(new ArrayBuffer(8))
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

const TYPES = 'null, a boolean, a number, a bigint, a string, a Date, a Uint8Array or an array of those'

function kindOf(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (typeof v === 'object' && v !== null) return `an object (${(v as object).constructor?.name ?? 'Object'})`
  return `a ${typeof v}`
}

/** The key's bytes. `what` names the value in errors ("key", "gte", "prefix"). */
export function encodeTypedKey(value: unknown, what = 'key'): Buffer {
  const out: number[] = []
  writeElement(out, value, what, 1)
  return Buffer.from(out)
}

/**
 * The bytes that the encodings of the keys matching `prefix`, and only they, start with
 * (FORMAT.md §4.1, prefixes): an array matches the tuples that begin with its elements; a string
 * or Uint8Array matches the strings or byte strings that begin with it. No end byte is written.
 */
export function encodeTypedPrefix(prefix: unknown, what = 'prefix'): Buffer {
  const out: number[] = []
  if (Array.isArray(prefix)) {
    out.push(TK_TUPLE)
    for (let i = 0; i < prefix.length; i++) writeElement(out, prefix[i], `${what}[${i}]`, 2)
  } else if (typeof prefix === 'string' || prefix instanceof Uint8Array) {
    writeElement(out, prefix, what, 1)
    out.pop()
  } else throw invalid(`${what} must be an array (a tuple's leading elements), a string or a Uint8Array for a typed index, got ${kindOf(prefix)}`)
  return Buffer.from(out)
}

function writeElement(out: number[], v: unknown, what: string, depth: number): void {
  if (v === null) out.push(TK_NULL)
  else if (v === false) out.push(TK_FALSE)
  else if (v === true) out.push(TK_TRUE)
  else if (typeof v === 'number') writeNumber(out, v, what)
  else if (typeof v === 'bigint') writeBigInt(out, v, what)
  else if (typeof v === 'string') {
    if (!isWellFormed(v)) throw invalid(`${what} is a string that is not well-formed UTF-16 (it has a lone surrogate)`)
    out.push(TK_STRING)
    writeEscaped(out, Buffer.from(v, 'utf8'))
  } else if (v instanceof Uint8Array) {
    out.push(TK_BYTES)
    writeEscaped(out, v)
  } else if (v instanceof Date) writeDate(out, v, what)
  else if (Array.isArray(v)) {
    if (depth > TK_MAX_DEPTH) throw invalid(`${what} nests arrays more than ${TK_MAX_DEPTH} deep`)
    out.push(TK_TUPLE)
    for (let i = 0; i < v.length; i++) writeElement(out, v[i], `${what}[${i}]`, depth + 1)
    out.push(TK_END)
  } else throw invalid(`${what} is ${kindOf(v)}; a typed key is ${TYPES}`)
}

/** Bytes 0x00 and 0x01 become 0x01 0x01 and 0x01 0x02, then 0x00 ends the run (prefix-free). */
function writeEscaped(out: number[], b: Uint8Array): void {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!
    if (c <= TK_ESCAPE) out.push(TK_ESCAPE, c + 1)
    else out.push(c)
  }
  out.push(TK_END)
}

function writeNumber(out: number[], x: number, what: string): void {
  if (Number.isNaN(x)) throw invalid(`${what} is NaN, which has no place in the key order`)
  if (x === Infinity) { out.push(TK_POS_INFINITY); return }
  if (x === -Infinity) { out.push(TK_NEG_INFINITY); return }
  if (x === 0) { out.push(TK_ZERO, TK_KIND_NUMBER); return } // -0 too: it is the key 0
  f64.setFloat64(0, x)
  const hi = f64.getUint32(0)
  const field = (hi >>> 20) & 0x7ff
  const m = (hi & 0xfffff) * 2 ** 32 + f64.getUint32(4)
  let e: number
  let frac: number // the bits after the leading 1, left-aligned in MANTISSA_BITS bits
  if (field !== 0) {
    e = field - 1023
    frac = m
  } else {
    // A subnormal: m × 2^-1074, with m's top bit at position `top`.
    const high = Math.floor(m / 2 ** 32)
    const top = high !== 0 ? 63 - Math.clz32(high) : 31 - Math.clz32(m)
    e = top + MIN_FLOAT_EXPONENT
    frac = (m - 2 ** top) * 2 ** (MANTISSA_BITS - top)
  }
  // Eight 7-bit groups cover the 52 bits (the last group's low 4 bits are zero).
  const groups: number[] = []
  for (let i = 0; i < 8; i++) groups.push(Math.floor(frac / 2 ** (MANTISSA_BITS - GROUP_BITS * (i + 1))) % 128)
  writeMagnitude(out, x < 0, e, groups, TK_KIND_NUMBER)
}

function writeBigInt(out: number[], n: bigint, what: string): void {
  if (n === 0n) { out.push(TK_ZERO, TK_KIND_BIGINT); return }
  const bits = (n < 0n ? -n : n).toString(2)
  if (bits.length - 1 > TK_MAX_EXPONENT) throw invalid(`${what} is a bigint of ${bits.length} bits; the most a typed key holds is ${TK_MAX_EXPONENT + 1}`)
  const groups: number[] = []
  for (let i = 1; i < bits.length; i += GROUP_BITS) groups.push(parseInt(bits.slice(i, i + GROUP_BITS).padEnd(GROUP_BITS, '0'), 2))
  writeMagnitude(out, n < 0n, bits.length - 1, groups, TK_KIND_BIGINT)
}

/**
 * A nonzero finite value 1.f × 2^e: tag, u16 big-endian e + bias, the fraction f in 7-bit groups
 * (trailing zero groups dropped; each byte is group << 1 | more-follow; 0x00 for no fraction),
 * all of it inverted for negatives, then the kind byte (never inverted: a number before the
 * bigint of equal value, whatever the sign).
 */
function writeMagnitude(out: number[], negative: boolean, e: number, groups: number[], kind: number): void {
  out.push(negative ? TK_NEGATIVE : TK_POSITIVE)
  const start = out.length
  const be = e + TK_EXPONENT_BIAS
  out.push(be >>> 8, be & 0xff)
  let n = groups.length
  while (n > 0 && groups[n - 1] === 0) n--
  if (n === 0) out.push(0)
  for (let i = 0; i < n; i++) out.push((groups[i]! << 1) | (i < n - 1 ? 1 : 0))
  if (negative) for (let i = start; i < out.length; i++) out[i] = out[i]! ^ 0xff
  out.push(kind)
}

function writeDate(out: number[], d: Date, what: string): void {
  const t = d.getTime()
  if (Number.isNaN(t)) throw invalid(`${what} is an invalid Date`)
  const v = BigInt(t) + DATE_OFFSET
  out.push(TK_DATE)
  for (let s = 56n; s >= 0n; s -= 8n) out.push(Number((v >> s) & 0xffn))
}

// ---- decoding ---------------------------------------------------------------------------------

class Reader {
  readonly b: Uint8Array
  pos = 0

  constructor(b: Uint8Array) {
    this.b = b
  }

  byte(what: string): number {
    if (this.pos >= this.b.length) throw new DecodeError(`typed key: ends inside ${what} (${this.b.length} bytes)`)
    return this.b[this.pos++]!
  }

  fail(what: string): never {
    throw new DecodeError(`typed key: ${what} at byte ${this.pos - 1}`)
  }
}

/** The value of a typed key's bytes. Throws DecodeError unless `b` is exactly one encoded key. */
export function decodeTypedKey(b: Uint8Array): TypedKey {
  const r = new Reader(b)
  const v = readElement(r, r.byte('a key'), 1)
  if (r.pos !== b.length) throw new DecodeError(`typed key: ${b.length - r.pos} bytes after the key`)
  return v
}

function readElement(r: Reader, tag: number, depth: number): TypedKey {
  switch (tag) {
    case TK_NULL: return null
    case TK_FALSE: return false
    case TK_TRUE: return true
    case TK_NEG_INFINITY: return -Infinity
    case TK_POS_INFINITY: return Infinity
    case TK_ZERO: {
      const kind = r.byte('a zero')
      if (kind === TK_KIND_NUMBER) return 0
      if (kind === TK_KIND_BIGINT) return 0n
      return r.fail(`kind byte 0x${kind.toString(16)}`)
    }
    case TK_NEGATIVE: case TK_POSITIVE: return readMagnitude(r, tag === TK_NEGATIVE)
    case TK_DATE: return readDate(r)
    case TK_STRING: {
      const bytes = readEscaped(r, 'a string')
      try { return UTF8.decode(bytes) } catch { return r.fail('a string that is not UTF-8') }
    }
    case TK_BYTES: return readEscaped(r, 'a byte string')
    case TK_TUPLE: {
      if (depth > TK_MAX_DEPTH) r.fail(`arrays nested more than ${TK_MAX_DEPTH} deep`)
      const out: TypedKey[] = []
      for (let t = r.byte('a tuple'); t !== TK_END; t = r.byte('a tuple')) out.push(readElement(r, t, depth + 1))
      return out
    }
    default: return r.fail(`unknown tag 0x${tag.toString(16)}`)
  }
}

function readEscaped(r: Reader, what: string): Uint8Array {
  const out: number[] = []
  for (let c = r.byte(what); c !== TK_END; c = r.byte(what)) {
    if (c !== TK_ESCAPE) { out.push(c); continue }
    const d = r.byte(what)
    if (d !== TK_ESCAPE && d !== TK_ESCAPE + 1) r.fail(`escape 0x01 0x${d.toString(16)} in ${what}`)
    out.push(d - 1)
  }
  return Uint8Array.from(out)
}

function readMagnitude(r: Reader, negative: boolean): number | bigint {
  const flip = negative ? 0xff : 0
  const be = ((r.byte('an exponent') ^ flip) << 8) | (r.byte('an exponent') ^ flip)
  const e = be - TK_EXPONENT_BIAS
  const groups: number[] = []
  for (;;) {
    const c = r.byte('a fraction') ^ flip
    groups.push(c >>> 1)
    if ((c & 1) === 0) break
  }
  const last = groups[groups.length - 1]!
  if (last === 0 && groups.length > 1) r.fail('a fraction with a trailing zero group')
  // The fraction's length in bits, up to its last 1 bit.
  const bits = last === 0 ? 0 : GROUP_BITS * groups.length - Math.log2(last & -last)
  const kind = r.byte('a kind byte')
  if (kind === TK_KIND_NUMBER) {
    const fits = e >= MIN_NORMAL_EXPONENT ? MANTISSA_BITS : e - MIN_FLOAT_EXPONENT
    if (e < MIN_FLOAT_EXPONENT || e > MAX_FLOAT_EXPONENT || bits > fits) r.fail(`a number 1.f × 2^${e} with ${bits} fraction bits, not a float64`)
    return floatOf(negative, e, groups)
  }
  if (kind === TK_KIND_BIGINT) {
    if (e < 0 || e > TK_MAX_EXPONENT || bits > e) r.fail(`a bigint 1.f × 2^${e} with ${bits} fraction bits, not an integer up to 2^${TK_MAX_EXPONENT + 1}`)
    let s = '0b1'
    for (const g of groups) s += g.toString(2).padStart(GROUP_BITS, '0')
    const n = BigInt(s.slice(0, 3 + bits).padEnd(3 + e, '0'))
    return negative ? -n : n
  }
  return r.fail(`kind byte 0x${kind.toString(16)}`)
}

/** The float64 1.f × 2^e, whose fraction fits (checked by the caller). */
function floatOf(negative: boolean, e: number, groups: number[]): number {
  let frac = 0 // left-aligned in MANTISSA_BITS bits; every term is an exact integer
  for (let i = 0; i < groups.length; i++) frac += groups[i]! * 2 ** (MANTISSA_BITS - GROUP_BITS * (i + 1))
  let field: number
  let m: number
  if (e >= MIN_NORMAL_EXPONENT) {
    field = e + 1023
    m = frac
  } else {
    field = 0
    m = (2 ** MANTISSA_BITS + frac) / 2 ** (MIN_NORMAL_EXPONENT - e) // exact: the low bits are zero
  }
  f64.setUint32(0, ((negative ? 0x80000000 : 0) | (field << 20) | Math.floor(m / 2 ** 32)) >>> 0)
  f64.setUint32(4, m % 2 ** 32)
  return f64.getFloat64(0)
}

function readDate(r: Reader): Date {
  let v = 0n
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(r.byte('a Date'))
  const t = v - DATE_OFFSET
  if (t > BigInt(TK_MAX_DATE_MS) || t < -BigInt(TK_MAX_DATE_MS)) r.fail(`a Date ${t} ms from the epoch, out of range`)
  return new Date(Number(t))
}
