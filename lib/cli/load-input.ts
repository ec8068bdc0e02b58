/**
 * Reading (key, rowId) pairs for tailroot load: NDJSON (`[key, rowId]` or `{"key": …, "rowId": …}`
 * per line) or CSV (a `key,rowId` header line, then one pair per line). Streams: memory holds one
 * chunk of the input and one line, whatever the input's size. Every bad line throws
 * INVALID_ARGUMENT naming the input file and the line number.
 */
import fs from 'node:fs'
import { TailrootError, invalid, ioError } from '../errors.ts'
import type { KeyEncoding } from '../format/header.ts'
import { KeyCodec } from '../keys.ts'
import type { Key } from '../keys.ts'
import { isHex } from './keys.ts'
import { typedFromJson } from './typed-json.ts'

export type InputFormat = 'ndjson' | 'csv'

/** Bytes read from the input at once. */
const CHUNK_BYTES = 1 << 20
/** The longest line accepted (a key is at most 32 KiB even at the largest page size). */
export const MAX_LINE_BYTES = 1 << 20

/** Lines of a file, read synchronously chunk by chunk; tracks the line number and bytes read. */
export class LineReader {
  readonly path: string
  /** The number of the line last yielded (1-based). */
  line = 0
  bytesRead = 0
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  constructor(path: string) {
    this.path = path
  }

  /** Opens the file: NOT_FOUND or IO when it cannot be read. */
  size(): number {
    try { return fs.statSync(this.path).size } catch (err) { throw this.openError(err) }
  }

  private openError(err: unknown): TailrootError {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new TailrootError('NOT_FOUND', `${this.path}: no such input file`, { path: this.path })
    return ioError(this.path, 'reading the input', err)
  }

  /** An error about the current line. */
  bad(what: string): TailrootError {
    return invalid(`${this.path}:${this.line}: ${what}`)
  }

  *lines(): Generator<string> {
    let fd: number
    try { fd = fs.openSync(this.path, 'r') } catch (err) { throw this.openError(err) }
    try {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES)
      let rest = Buffer.alloc(0)
      for (;;) {
        let n: number
        try { n = fs.readSync(fd, chunk, 0, chunk.length, null) } catch (err) { throw ioError(this.path, 'reading the input', err) }
        if (n === 0) break
        this.bytesRead += n
        const buf = rest.length === 0 ? chunk.subarray(0, n) : Buffer.concat([rest, chunk.subarray(0, n)])
        let start = 0
        for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
          yield this.decode(buf.subarray(start, nl))
          start = nl + 1
        }
        rest = Buffer.from(buf.subarray(start)) // a copy: the chunk is reused
        if (rest.length > MAX_LINE_BYTES) {
          this.line++
          throw this.bad(`the line is longer than ${MAX_LINE_BYTES} bytes`)
        }
      }
      if (rest.length > 0) yield this.decode(rest)
    } finally {
      fs.closeSync(fd)
    }
  }

  private decode(bytes: Buffer): string {
    this.line++
    if (bytes.length > MAX_LINE_BYTES) throw this.bad(`the line is longer than ${MAX_LINE_BYTES} bytes`)
    let s: string
    try { s = this.decoder.decode(bytes) } catch { throw this.bad('the line is not valid UTF-8') }
    return s.endsWith('\r') ? s.slice(0, -1) : s
  }
}

export interface InputSettings {
  /** null: from the file name (.csv, .ndjson, .jsonl, .json), else from the first line. */
  format: InputFormat | null
  keyEncoding: KeyEncoding
  unique: boolean
  /** Encodes and checks keys and rowIds as the index will (its key size limit). */
  codec: KeyCodec
  /** Called every few thousand lines. */
  onLines?: (r: LineReader) => void
}

/** How often (in lines) onLines is called. */
const PROGRESS_LINES = 8192

/** The pairs of the input, in input order, each checked; throws at the first bad line. */
export function* inputPairs(r: LineReader, s: InputSettings): Generator<[Key, number]> {
  let format = s.format ?? formatFromName(r.path)
  let header = format === 'csv'
  let lastKey: string | null = null
  let lastRowId = -1
  for (const text of r.lines()) {
    if (s.onLines !== undefined && r.line % PROGRESS_LINES === 0) s.onLines(r)
    if (text.trim() === '') continue
    if (format === null) {
      format = /^\s*[[{]/.test(text) ? 'ndjson' : 'csv'
      header = format === 'csv'
    }
    if (header) {
      checkHeader(r, text)
      header = false
      continue
    }
    const [rawKey, rowId] = format === 'csv' ? csvPair(r, text) : jsonPair(r, text, s.keyEncoding === 'typed')
    const key = inputKey(r, rawKey, s.keyEncoding, format === 'csv')
    let enc: string
    let id: number
    try {
      enc = s.codec.encode(key)
      id = s.codec.rowId(rowId)
    } catch (err) {
      if (err instanceof TailrootError) throw r.bad(err.message.replace(`${s.codec.path}: `, ''))
      throw err
    }
    if (s.unique && enc === lastKey && id !== lastRowId) {
      throw r.bad(`key ${JSON.stringify(rawKey)?.slice(0, 100)} has a second rowId (${lastRowId} and ${id}) in a unique index`)
    }
    lastKey = enc
    lastRowId = id
    yield [key, id]
  }
  if (s.onLines !== undefined) s.onLines(r)
}

function formatFromName(path: string): InputFormat | null {
  if (/\.csv$/i.test(path)) return 'csv'
  if (/\.(ndjson|jsonl|json)$/i.test(path)) return 'ndjson'
  return null
}

function checkHeader(r: LineReader, text: string): void {
  const fields = csvFields(r, text).map(f => f.trim().toLowerCase())
  if (fields.length !== 2 || fields[0] !== 'key' || fields[1] !== 'rowid') {
    throw r.bad(`a CSV input starts with the header line key,rowId, got ${JSON.stringify(text.slice(0, 100))}`)
  }
}

function jsonPair(r: LineReader, text: string, anyKey: boolean): [unknown, unknown] {
  let v: unknown
  try { v = JSON.parse(text) } catch (err) { throw r.bad(`not valid JSON (${(err as Error).message})`) }
  let key: unknown
  let rowId: unknown
  if (Array.isArray(v) && v.length === 2) [key, rowId] = v
  else if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'key' in v && 'rowId' in v && Object.keys(v).length === 2) {
    ({ key, rowId } = v as { key: unknown; rowId: unknown })
  } else throw r.bad('expected [key, rowId] or {"key": …, "rowId": …}')
  if (!anyKey && typeof key !== 'string') throw r.bad(`the key must be a JSON string, got ${JSON.stringify(key)?.slice(0, 100)}`)
  return [key, rowId]
}

function csvPair(r: LineReader, text: string): [string, number] {
  const fields = csvFields(r, text)
  if (fields.length !== 2) throw r.bad(`expected 2 fields (key,rowId), got ${fields.length}`)
  const id = fields[1]!.trim()
  if (!/^\d+$/.test(id)) throw r.bad(`the rowId must be a non-negative integer, got ${JSON.stringify(fields[1]!.slice(0, 100))}`)
  return [fields[0]!, Number(id)]
}

/**
 * The fields of one CSV line (RFC 4180 quoting: "a ""quoted"" field"). A quoted field cannot
 * span lines here.
 */
function csvFields(r: LineReader, text: string): string[] {
  const out: string[] = []
  let i = 0
  for (;;) {
    if (text[i] === '"') {
      let field = ''
      i++
      for (;;) {
        const q = text.indexOf('"', i)
        if (q < 0) throw r.bad('a quoted field does not end on its line')
        field += text.slice(i, q)
        if (text[q + 1] === '"') { field += '"'; i = q + 2; continue }
        i = q + 1
        break
      }
      out.push(field)
      if (i < text.length && text[i] !== ',') throw r.bad(`unexpected ${JSON.stringify(text[i])} after a quoted field`)
    } else {
      const comma = text.indexOf(',', i)
      const end = comma < 0 ? text.length : comma
      out.push(text.slice(i, end))
      i = end
    }
    if (i >= text.length) return out
    i++ // the comma
  }
}

/**
 * The key of an input line: text for utf8, hex for binary, and for typed a JSON value (in CSV,
 * the field's text is that JSON) mapped as in typed-json.ts.
 */
function inputKey(r: LineReader, raw: unknown, encoding: KeyEncoding, csv: boolean): Key {
  if (encoding === 'utf8') return raw as string
  if (encoding === 'binary') return hexKey(r, raw as string)
  let v = raw
  if (csv) {
    try { v = JSON.parse(raw as string) } catch { throw r.bad(`a key of a typed index is a JSON value, got ${JSON.stringify(raw)?.slice(0, 100)}`) }
  }
  try { return typedFromJson(v) } catch (err) { throw r.bad((err as Error).message) }
}

function hexKey(r: LineReader, s: string): Buffer {
  if (!isHex(s)) throw r.bad(`a key of a binary index is written in hex (two digits per byte), got ${JSON.stringify(s.slice(0, 100))}`)
  return Buffer.from(s, 'hex')
}
