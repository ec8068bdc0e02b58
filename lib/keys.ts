/**
 * Keys and rowIds at the API boundary: validation and the conversion between user keys and the
 * byte strings the tree holds (one char per byte, so `<` on them is unsigned byte order).
 */
import { TailrootError, invalid } from './errors.ts'
import type { KeyEncoding } from './format/header.ts'
import { MAX_ROW_ID } from './format/constants.ts'

/** The key type an index of each encoding hands back. */
export type Key = string | Buffer

const ASCII = /^[\x00-\x7f]*$/
const SURROGATE = /[\ud800-\udfff]/

function isWellFormed(s: string): boolean {
  if (!SURROGATE.test(s)) return true
  const f = (s as unknown as { isWellFormed?: () => boolean }).isWellFormed
  if (f) return f.call(s)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) return false
  }
  return true
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'string') return `a string of length ${v.length}`
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`
  return `${typeof v} ${String(v).slice(0, 40)}`
}

export class KeyCodec {
  readonly encoding: KeyEncoding
  readonly maxKeyBytes: number
  /** The index file, named in error messages. */
  readonly path: string

  constructor(encoding: KeyEncoding, maxKeyBytes: number, path: string) {
    this.encoding = encoding
    this.maxKeyBytes = maxKeyBytes
    this.path = path
  }

  /**
   * Validates a user key and returns its byte string. `what` names the argument in errors. A
   * `bound` (a range bound, compared with keys but never stored) may be longer than any key.
   */
  encode(key: unknown, what = 'key', bound = false): string {
    let bytes: string
    if (this.encoding === 'utf8') {
      if (typeof key !== 'string') throw invalid(`${this.path}: ${what} must be a string for a utf8 index, got ${describe(key)}`)
      if (ASCII.test(key)) bytes = key
      else {
        if (!isWellFormed(key)) throw invalid(`${this.path}: ${what} is not well-formed UTF-16 (it has a lone surrogate)`)
        bytes = Buffer.from(key, 'utf8').toString('latin1')
      }
    } else {
      if (!(key instanceof Uint8Array)) throw invalid(`${this.path}: ${what} must be a Uint8Array or Buffer for a binary index, got ${describe(key)}`)
      bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
    }
    if (bytes.length > this.maxKeyBytes && !bound) {
      throw new TailrootError('KEY_TOO_LARGE', `${this.path}: ${what} is ${bytes.length} bytes; the maximum at this page size is ${this.maxKeyBytes}`, { path: this.path })
    }
    return bytes
  }

  decode(bytes: string): Key {
    if (this.encoding === 'binary') return Buffer.from(bytes, 'latin1')
    return ASCII.test(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8')
  }

  rowId(r: unknown, what = 'rowId'): number {
    if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0 || r > MAX_ROW_ID) {
      throw invalid(`${this.path}: ${what} must be a safe integer from 0 to 2^53-1, got ${describe(r)}`)
    }
    return r
  }
}
