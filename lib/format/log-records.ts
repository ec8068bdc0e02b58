/**
 * Change records (FORMAT.md §10): a commit's changes kept as a sorted list of (key, rowId, op)
 * records, inline in its commit page or in log pages (type 0x05). Pure; decoders check every
 * bound and throw DecodeError.
 */
import { LOG_OP_INSERT, OFF_AUX, OFF_COUNT, OFF_LEVEL, OFF_TYPE, PAGE_HEADER_SIZE, PAGE_LOG, maxKeyBytes } from './constants.ts'
import { DecodeError, sealPage } from './page.ts'
import { comparePair } from './node.ts'
import { readVarint, varintSize, writeVarint } from './varint.ts'
import type { Batch } from '../tree/batch.ts'

function sharedPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

function recordSize(prev: string | null, k: string, r: number): number {
  const shared = prev === null ? 0 : sharedPrefix(prev, k)
  return sizeOf(shared, k.length - shared, r)
}

/** Bytes of a record sharing `shared` key bytes with the previous one, with `rest` bytes of its own. */
function sizeOf(shared: number, rest: number, r: number): number {
  return varintSize(shared * 2 + 1) + varintSize(rest) + rest + varintSize(r)
}

/** Bytes of records [from, to) of `b` encoded as one run. */
export function recordsSize(b: Batch, from = 0, to = b.keys.length): number {
  let n = 0
  for (let i = from; i < to; i++) n += recordSize(i === from ? null : b.keys[i - 1]!, b.keys[i]!, b.ids[i]!)
  return n
}

/**
 * Writes records from `from` of `b` as one run into buf[pos, end), as many as fit (at most
 * `maxCount`); returns the index of the first record not written and the end position.
 */
export function writeRecords(b: Batch, from: number, buf: Buffer, pos: number, end: number, maxCount = Infinity): { next: number; pos: number } {
  let i = from
  let prev: string | null = null
  for (; i < b.keys.length && i - from < maxCount; i++) {
    const k = b.keys[i]!
    const r = b.ids[i]!
    const shared = prev === null ? 0 : sharedPrefix(prev, k)
    const rest = k.length - shared
    if (pos + sizeOf(shared, rest, r) > end) break
    pos = writeVarint(buf, pos, shared * 2 + (b.ins[i] ? LOG_OP_INSERT : 0))
    pos = writeVarint(buf, pos, rest)
    // A key is a byte string (one char per byte): its bytes as they are, no encoder needed.
    for (let j = shared; j < k.length; j++) buf[pos++] = k.charCodeAt(j)
    pos = writeVarint(buf, pos, r)
    prev = k
  }
  return { next: i, pos }
}

/**
 * Reads `count` records from buf[pos, end) (one run) and appends them to `out`. Records must be
 * strictly ascending, continuing from the last record already in `out`.
 */
export function readRecords(buf: Buffer, pos: number, end: number, count: number, pageSize: number, out: Batch): void {
  const cur = { pos }
  const maxKey = maxKeyBytes(pageSize)
  let prev: string | null = null
  for (let i = 0; i < count; i++) {
    const head = readVarint(buf, cur, end)
    const rest = head < 0 ? -1 : readVarint(buf, cur, end)
    if (rest < 0) throw new DecodeError(`change record ${i + 1}: malformed varint`)
    const shared = Math.floor(head / 2)
    if (shared > (prev?.length ?? 0)) throw new DecodeError(`change record ${i + 1}: shares ${shared} bytes with a shorter key`)
    if (shared + rest > maxKey) throw new DecodeError(`change record ${i + 1}: a key of ${shared + rest} bytes (the maximum is ${maxKey})`)
    if (cur.pos + rest > end) throw new DecodeError(`change record ${i + 1}: key runs past the end`)
    const k: string = (prev === null ? '' : prev.slice(0, shared)) + buf.toString('latin1', cur.pos, cur.pos + rest)
    cur.pos += rest
    const r = readVarint(buf, cur, end)
    if (r < 0) throw new DecodeError(`change record ${i + 1}: malformed rowId`)
    const n = out.keys.length
    if (n > 0 && comparePair(out.keys[n - 1]!, out.ids[n - 1]!, k, r) >= 0) throw new DecodeError(`change record ${i + 1}: out of order`)
    out.keys.push(k)
    out.ids.push(r)
    out.ins.push((head & 1) === LOG_OP_INSERT)
    prev = k
  }
  if (cur.pos !== end) throw new DecodeError(`${end - cur.pos} bytes after the last change record`)
}

/** Encodes records from `from` of `b` into a log page; returns it and the first record left out. */
export function encodeLogPage(b: Batch, from: number, pageNo: number, pageSize: number): { page: Buffer; next: number } {
  const page = Buffer.alloc(pageSize)
  const w = writeRecords(b, from, page, PAGE_HEADER_SIZE, pageSize, 0xffff)
  if (w.next === from) throw new Error('internal error: a change record larger than a log page')
  sealPage(page, PAGE_LOG, pageNo, 0, w.next - from, w.pos - PAGE_HEADER_SIZE)
  return { page, next: w.next }
}

/** Reads the records of a log page (CRC and page number already checked) into `out`. */
export function decodeLogPage(page: Buffer, out: Batch): void {
  if (page[OFF_TYPE] !== PAGE_LOG) throw new DecodeError(`expected a log page, found page type 0x${(page[OFF_TYPE] ?? 0).toString(16)}`)
  if (page[OFF_LEVEL] !== 0) throw new DecodeError('log page with a nonzero level')
  const count = page.readUInt16LE(OFF_COUNT)
  const used = page.readUInt32LE(OFF_AUX)
  if (count === 0 || used > page.length - PAGE_HEADER_SIZE) throw new DecodeError(`log page with ${count} records in ${used} bytes`)
  readRecords(page, PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + used, count, page.length, out)
}
