/**
 * Keys and rowIds at the API boundary: validation and the conversion between user keys and the
 * byte strings the tree holds (one char per byte, so `<` on them is unsigned byte order).
 */
import { TailrootError, invalid, naming } from './errors.ts'
import type { KeyEncoding } from './format/header.ts'
import { MAX_ROW_ID } from './format/constants.ts'
import { DecodeError } from './format/page.ts'
import { decodeTypedKey, encodeTypedKey, encodeTypedPrefix } from './format/typed-key.ts'
import type { TypedKey } from './format/typed-key.ts'
import { isWellFormed } from './format/well-formed.ts'

/** A key of any index: a string (utf8), a Uint8Array (binary) or a TypedKey (typed). */
export type Key = string | Uint8Array | TypedKey

const ASCII = /^[\x00-\x7f]*$/

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
  /**
   * For a named index of a set file (FORMAT.md §12), the bytes every stored key of the index
   * starts with, and reads without bounds stop at the end of its range; null for a whole file.
   */
  readonly scope: string | null = null

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
    return this.bytesOf(key, what, bound)
  }

  /** encode() without any scope: the key's bytes in this encoding. */
  protected bytesOf(key: unknown, what: string, bound: boolean): string {
    let bytes: string
    if (this.encoding === 'utf8') {
      if (typeof key !== 'string') throw invalid(`${this.path}: ${what} must be a string for a utf8 index, got ${describe(key)}`)
      if (ASCII.test(key)) bytes = key
      else {
        if (!isWellFormed(key)) throw invalid(`${this.path}: ${what} is not well-formed UTF-16 (it has a lone surrogate)`)
        bytes = Buffer.from(key, 'utf8').toString('latin1')
      }
    } else if (this.encoding === 'typed') {
      try { bytes = encodeTypedKey(key, what).toString('latin1') } catch (err) { throw naming(this.path, err) }
    } else {
      if (!(key instanceof Uint8Array)) throw invalid(`${this.path}: ${what} must be a Uint8Array or Buffer for a binary index, got ${describe(key)}`)
      bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
    }
    if (bytes.length > this.maxKeyBytes && !bound) {
      throw new TailrootError('KEY_TOO_LARGE', `${this.path}: ${what} is ${bytes.length} bytes; the maximum at this page size is ${this.maxKeyBytes}`, { path: this.path })
    }
    return bytes
  }

  /** A stored key's user value; CORRUPT when the bytes are not a key of this encoding. */
  decode(bytes: string): Key {
    if (this.encoding === 'binary') return Buffer.from(bytes, 'latin1')
    if (this.encoding === 'typed') {
      try {
        return decodeTypedKey(Buffer.from(bytes, 'latin1'))
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err
        throw new TailrootError('CORRUPT', `${this.path}: a stored key is not a typed key (${err.message})`, { path: this.path })
      }
    }
    return ASCII.test(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8')
  }

  /**
   * The byte string that the keys matching `prefix` (range option) start with, and only they:
   * a string's UTF-8 bytes (utf8), the bytes themselves (binary); for typed keys, an array's tag
   * and elements, or a string's or byte string's tag and escaped bytes (FORMAT.md §4.1).
   */
  prefix(prefix: unknown): string {
    if (this.encoding === 'typed') return encodeTypedPrefix(prefix, 'prefix').toString('latin1')
    return this.bytesOf(prefix, 'prefix', true)
  }

  rowId(r: unknown, what = 'rowId'): number {
    if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0 || r > MAX_ROW_ID) {
      throw invalid(`${this.path}: ${what} must be a safe integer from 0 to 2^53-1, got ${describe(r)}`)
    }
    return r
  }
}

/**
 * The codec of a named index in a set file (FORMAT.md §12): its keys in `encoding`, stored after
 * the index's two-byte prefix, so two bytes shorter at most than a whole file's.
 */
export class ScopedKeyCodec extends KeyCodec {
  override readonly scope: string

  constructor(scope: string, encoding: KeyEncoding, fileMaxKeyBytes: number, path: string) {
    super(encoding, fileMaxKeyBytes - scope.length, path)
    this.scope = scope
  }

  override encode(key: unknown, what = 'key', bound = false): string {
    return this.scope + this.bytesOf(key, what, bound)
  }

  override decode(bytes: string): Key {
    return super.decode(bytes.slice(this.scope.length))
  }

  override prefix(prefix: unknown): string {
    return this.scope + super.prefix(prefix)
  }
}
