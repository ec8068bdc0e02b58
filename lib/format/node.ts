/**
 * Leaf and internal node pages (FORMAT.md §5, §6): in-memory shapes, sizes, and their codecs.
 * Keys are held as byte strings (one char per byte, 0-255), so comparing with < is byte order.
 * Pure; decoders check every bound and throw DecodeError on any malformed byte pattern.
 */
import {
  CHILD_COUNT_SIZE, CHILD_FIXED_SIZE, CHILD_PAGE_SIZE, OFF_AUX, OFF_COUNT, OFF_LEVEL, OFF_PAGE_NO,
  OFF_TYPE, PAGE_HEADER_SIZE, PAGE_INTERNAL, PAGE_LEAF, SLOT_SIZE,
} from './constants.ts'
import { DecodeError, readU48, sealPage, writeU48 } from './page.ts'
import { readVarint, varintSize, writeVarint } from './varint.ts'

export interface LeafNode {
  level: 0
  /** Distinct keys, strictly ascending. */
  keys: string[]
  /** rowIds of each key, strictly ascending, never empty. */
  ids: number[][]
  /** Total entries. */
  count: number
  /** starts[i] = entries before group i (built on demand). */
  starts?: number[]
}

/**
 * An internal node whose children are `Child`. As a page holds it (decoded, or about to be
 * encoded), each child is a page number: the default. Tree code rebuilding a tree also holds
 * children it has not written yet (see tree/node-ref.ts).
 */
export interface InternalNode<Child = number> {
  level: number
  children: Child[]
  counts: number[]
  /** Separator of child i is (sepKeys[i-1], sepIds[i-1]), for i ≥ 1. */
  sepKeys: string[]
  sepIds: number[]
  count: number
  /** prefix[i] = entries under children before i (built on demand). */
  prefix?: number[]
}

/** A node; by default as a page holds it, every child a page number. */
export type TreeNode<Child = number> = LeafNode | InternalNode<Child>

export function isLeaf<Child>(n: TreeNode<Child>): n is LeafNode {
  return n.level === 0
}

/** Bytes of one leaf group. */
export function groupSize(key: string, ids: number[]): number {
  let s = SLOT_SIZE + varintSize(key.length) + key.length + varintSize(ids.length) + varintSize(ids[0]!)
  for (let i = 1; i < ids.length; i++) s += varintSize(ids[i]! - ids[i - 1]!)
  return s
}

export function leafSize(n: LeafNode): number {
  let s = PAGE_HEADER_SIZE
  for (let i = 0; i < n.keys.length; i++) s += groupSize(n.keys[i]!, n.ids[i]!)
  return s
}

export function separatorSize(key: string, rowId: number): number {
  return SLOT_SIZE + varintSize(key.length) + key.length + varintSize(rowId)
}

export function internalSize(n: InternalNode<unknown>): number {
  let s = PAGE_HEADER_SIZE + CHILD_FIXED_SIZE * n.children.length
  for (let i = 0; i < n.sepKeys.length; i++) s += separatorSize(n.sepKeys[i]!, n.sepIds[i]!)
  return s
}

export function nodeSize(n: TreeNode<unknown>): number {
  return isLeaf(n) ? leafSize(n) : internalSize(n)
}

export function encodeLeaf(n: LeafNode, pageNo: number, pageSize: number): Buffer {
  if (leafSize(n) > pageSize) throw new RangeError(`internal error: leaf of ${leafSize(n)} bytes overflows its page`)
  const page = Buffer.alloc(pageSize)
  const g = n.keys.length
  let pos = PAGE_HEADER_SIZE + SLOT_SIZE * g
  for (let i = 0; i < g; i++) {
    const key = n.keys[i]!
    const ids = n.ids[i]!
    page.writeUInt16LE(pos, PAGE_HEADER_SIZE + SLOT_SIZE * i)
    pos = writeVarint(page, pos, key.length)
    pos += page.write(key, pos, 'latin1')
    pos = writeVarint(page, pos, ids.length)
    pos = writeVarint(page, pos, ids[0]!)
    for (let j = 1; j < ids.length; j++) {
      pos = writeVarint(page, pos, ids[j]! - ids[j - 1]!)
    }
  }
  sealPage(page, PAGE_LEAF, pageNo, 0, g, n.count)
  return page
}

export function encodeInternal(n: InternalNode, pageNo: number, pageSize: number): Buffer {
  if (internalSize(n) > pageSize) throw new RangeError(`internal error: internal node of ${internalSize(n)} bytes overflows its page`)
  const page = Buffer.alloc(pageSize)
  const c = n.children.length
  const countsAt = PAGE_HEADER_SIZE + CHILD_PAGE_SIZE * c
  const slotsAt = PAGE_HEADER_SIZE + CHILD_FIXED_SIZE * c
  for (let i = 0; i < c; i++) {
    page.writeUInt32LE(n.children[i]!, PAGE_HEADER_SIZE + CHILD_PAGE_SIZE * i)
    writeU48(page, countsAt + CHILD_COUNT_SIZE * i, n.counts[i]!)
  }
  let pos = slotsAt + SLOT_SIZE * (c - 1)
  for (let i = 0; i < c - 1; i++) {
    const key = n.sepKeys[i]!
    page.writeUInt16LE(pos, slotsAt + SLOT_SIZE * i)
    pos = writeVarint(page, pos, key.length)
    pos += page.write(key, pos, 'latin1')
    pos = writeVarint(page, pos, n.sepIds[i]!)
  }
  sealPage(page, PAGE_INTERNAL, pageNo, n.level, c, 0)
  return page
}

export function encodeNode(n: TreeNode, pageNo: number, pageSize: number): Buffer {
  return isLeaf(n) ? encodeLeaf(n, pageNo, pageSize) : encodeInternal(n, pageNo, pageSize)
}

/**
 * Decodes a node page whose CRC and page number were already checked. Checks the layout:
 * slots in bounds, varints well formed, keys ascending, rowIds ascending, counts consistent.
 */
export function decodeNode(page: Buffer): TreeNode {
  if (page.length < PAGE_HEADER_SIZE) throw new DecodeError(`a node page of ${page.length} bytes is shorter than its header`)
  const type = page[OFF_TYPE]
  if (type === PAGE_LEAF) return decodeLeaf(page)
  if (type === PAGE_INTERNAL) return decodeInternal(page)
  throw new DecodeError(`expected a node page, found page type 0x${(type ?? 0).toString(16)}`)
}

/** A leaf page's header fields, checked: its groups, its entries, and where its slot array ends. */
export function leafHeader(page: Buffer): { g: number; total: number; slotsEnd: number } {
  const g = page.readUInt16LE(OFF_COUNT)
  const total = page.readUInt32LE(OFF_AUX)
  if (page[OFF_LEVEL] !== 0) throw new DecodeError('leaf page with a nonzero level')
  if (g === 0) throw new DecodeError('leaf page with no groups')
  const slotsEnd = PAGE_HEADER_SIZE + SLOT_SIZE * g
  if (slotsEnd > page.length) throw new DecodeError(`leaf slot array of ${g} groups overflows the page`)
  return { g, total, slotsEnd }
}

/*
 * The checks of one leaf group, shared by decodeLeaf and leafHasPair (leaf-search.ts), which walk
 * a leaf in one pass each: `cur.pos` moves along the group, `i` names it in errors.
 */

/** Group i's slot and key length, checked; `cur.pos` is then at the key's bytes. */
export function leafKeyLength(page: Buffer, cur: { pos: number }, i: number, slotsEnd: number): number {
  const end = page.length
  cur.pos = page.readUInt16LE(PAGE_HEADER_SIZE + SLOT_SIZE * i)
  if (cur.pos < slotsEnd) throw new DecodeError(`leaf group ${i} offset ${cur.pos} points into the header`)
  const klen = readVarint(page, cur, end)
  if (klen < 0 || cur.pos + klen > end) throw new DecodeError(`leaf group ${i}: bad key length`)
  return klen
}

/** Group i's rowId count, checked. */
export function leafIdCount(page: Buffer, cur: { pos: number }, i: number): number {
  const n = readVarint(page, cur, page.length)
  if (n < 1 || n > page.length) throw new DecodeError(`leaf group ${i}: bad rowId count`)
  return n
}

/** Group i's first rowId, checked. */
export function leafFirstId(page: Buffer, cur: { pos: number }, i: number): number {
  const id = readVarint(page, cur, page.length)
  if (id < 0) throw new DecodeError(`leaf group ${i}: bad rowId`)
  return id
}

/** The rowId of group i after `id`: its delta read and checked. */
export function leafNextId(page: Buffer, cur: { pos: number }, i: number, id: number): number {
  const d = readVarint(page, cur, page.length)
  if (d < 1) throw new DecodeError(`leaf group ${i}: bad rowId delta`)
  id += d
  if (id > Number.MAX_SAFE_INTEGER) throw new DecodeError(`leaf group ${i}: rowId out of range`)
  return id
}

function decodeLeaf(page: Buffer): LeafNode {
  const { g, total, slotsEnd } = leafHeader(page)
  const keys: string[] = new Array(g)
  const ids: number[][] = new Array(g)
  const cur = { pos: 0 }
  let count = 0
  for (let i = 0; i < g; i++) {
    const klen = leafKeyLength(page, cur, i, slotsEnd)
    const key = page.toString('latin1', cur.pos, cur.pos + klen)
    cur.pos += klen
    if (i > 0 && !(keys[i - 1]! < key)) throw new DecodeError(`leaf group ${i}: keys out of order`)
    const n = leafIdCount(page, cur, i)
    const list: number[] = new Array(n)
    let id = leafFirstId(page, cur, i)
    list[0] = id
    for (let j = 1; j < n; j++) list[j] = id = leafNextId(page, cur, i, id)
    keys[i] = key
    ids[i] = list
    count += n
  }
  if (count !== total) throw new DecodeError(`leaf holds ${count} entries but its header says ${total}`)
  return { level: 0, keys, ids, count }
}

function decodeInternal(page: Buffer): InternalNode {
  const end = page.length
  const level = page[OFF_LEVEL]!
  const c = page.readUInt16LE(OFF_COUNT)
  if (level < 1) throw new DecodeError('internal page with level 0')
  if (c < 2) throw new DecodeError(`internal page with ${c} children`)
  const countsAt = PAGE_HEADER_SIZE + CHILD_PAGE_SIZE * c
  const slotsAt = PAGE_HEADER_SIZE + CHILD_FIXED_SIZE * c
  const slotsEnd = slotsAt + SLOT_SIZE * (c - 1)
  if (slotsEnd > end) throw new DecodeError(`internal page of ${c} children overflows the page`)
  const self = page.readUInt32LE(OFF_PAGE_NO)
  const children: number[] = new Array(c)
  const counts: number[] = new Array(c)
  let count = 0
  for (let i = 0; i < c; i++) {
    const child = page.readUInt32LE(PAGE_HEADER_SIZE + CHILD_PAGE_SIZE * i)
    if (child === 0 || child >= self) throw new DecodeError(`child ${i} page ${child} is not below its parent ${self}`)
    children[i] = child
    counts[i] = readU48(page, countsAt + CHILD_COUNT_SIZE * i)
    if (counts[i] === 0) throw new DecodeError(`child ${i} has an entry count of 0`)
    count += counts[i]!
  }
  if (count > Number.MAX_SAFE_INTEGER) throw new DecodeError('subtree counts overflow')
  const sepKeys: string[] = new Array(c - 1)
  const sepIds: number[] = new Array(c - 1)
  const cur = { pos: 0 }
  for (let i = 0; i < c - 1; i++) {
    cur.pos = page.readUInt16LE(slotsAt + SLOT_SIZE * i)
    if (cur.pos < slotsEnd) throw new DecodeError(`separator ${i + 1} offset ${cur.pos} points into the header`)
    const klen = readVarint(page, cur, end)
    if (klen < 0 || cur.pos + klen > end) throw new DecodeError(`separator ${i + 1}: bad key length`)
    const key = page.toString('latin1', cur.pos, cur.pos + klen)
    cur.pos += klen
    const id = readVarint(page, cur, end)
    if (id < 0) throw new DecodeError(`separator ${i + 1}: bad rowId`)
    if (i > 0 && comparePair(sepKeys[i - 1]!, sepIds[i - 1]!, key, id) >= 0) {
      throw new DecodeError(`separator ${i + 1} out of order`)
    }
    sepKeys[i] = key
    sepIds[i] = id
  }
  return { level, children, counts, sepKeys, sepIds, count }
}

/** Order of pairs: key bytes, then rowId. rowId may be -1 or Infinity as a bound. */
export function comparePair(ak: string, ar: number, bk: string, br: number): number {
  return ak < bk ? -1 : ak > bk ? 1 : ar < br ? -1 : ar > br ? 1 : 0
}

export function leafStarts(n: LeafNode): number[] {
  if (n.starts) return n.starts
  const s: number[] = new Array(n.keys.length)
  let acc = 0
  for (let i = 0; i < n.keys.length; i++) { s[i] = acc; acc += n.ids[i]!.length }
  n.starts = s
  return s
}

export function internalPrefix(n: InternalNode<unknown>): number[] {
  if (n.prefix) return n.prefix
  const p: number[] = new Array(n.children.length)
  let acc = 0
  for (let i = 0; i < n.children.length; i++) { p[i] = acc; acc += n.counts[i]! }
  n.prefix = p
  return p
}
