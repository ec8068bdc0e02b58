/**
 * Reference implementations written from FORMAT.md alone, independent of lib/: CRC32C, LEB128
 * and a minimal node-page reader. Tests compare the real codecs against these.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC32C continuing from `seed` (0 to start), reflected, init/xorout 0xFFFFFFFF. */
export function refCrc32c(data: Uint8Array, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** FORMAT.md §2: crc32c(page[8..P], crc32c(page[0..4])). */
export function refPageCrc(page: Uint8Array): number {
  return refCrc32c(page.subarray(8), refCrc32c(page.subarray(0, 4)))
}

export function refLeb128(n: number): number[] {
  let v = BigInt(n)
  const out: number[] = []
  do {
    let b = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) b |= 0x80
    out.push(b)
  } while (v > 0n)
  return out
}

/** Reads a LEB128 varint at `pos`; returns [value, next position]. No validation beyond bounds. */
export function refReadVarint(buf: Uint8Array, pos: number): [number, number] {
  let v = 0n
  let shift = 0n
  for (;;) {
    if (pos >= buf.length) throw new Error('reference varint runs past the buffer')
    const b = buf[pos++]!
    v |= BigInt(b & 0x7f) << shift
    shift += 7n
    if (b < 0x80) return [Number(v), pos]
  }
}

export interface RefLeaf { keys: Buffer[]; ids: number[][]; end: number }
export interface RefInternal { level: number; children: number[]; counts: number[]; sepKeys: Buffer[]; sepIds: number[]; end: number }

/** Parses a leaf page as FORMAT.md §5 lays it out; `end` is one past the last group byte. */
export function refParseLeaf(page: Buffer): RefLeaf {
  const g = page.readUInt16LE(2)
  const keys: Buffer[] = []
  const ids: number[][] = []
  let end = 16 + 2 * g
  for (let i = 0; i < g; i++) {
    let pos = page.readUInt16LE(16 + 2 * i)
    let klen: number
    ;[klen, pos] = refReadVarint(page, pos)
    keys.push(Buffer.from(page.subarray(pos, pos + klen)))
    pos += klen
    let n: number
    ;[n, pos] = refReadVarint(page, pos)
    const list: number[] = []
    let id = 0
    for (let j = 0; j < n; j++) {
      let v: number
      ;[v, pos] = refReadVarint(page, pos)
      id = j === 0 ? v : id + v
      list.push(id)
    }
    ids.push(list)
    end = Math.max(end, pos)
  }
  return { keys, ids, end }
}

/** Parses an internal page as FORMAT.md §6 lays it out. */
export function refParseInternal(page: Buffer): RefInternal {
  const c = page.readUInt16LE(2)
  const children: number[] = []
  const counts: number[] = []
  for (let i = 0; i < c; i++) {
    children.push(page.readUInt32LE(16 + 4 * i))
    counts.push(page.readUIntLE(16 + 4 * c + 6 * i, 6))
  }
  const slotsAt = 16 + 10 * c
  const sepKeys: Buffer[] = []
  const sepIds: number[] = []
  let end = slotsAt + 2 * (c - 1)
  for (let i = 0; i < c - 1; i++) {
    let pos = page.readUInt16LE(slotsAt + 2 * i)
    let klen: number
    ;[klen, pos] = refReadVarint(page, pos)
    sepKeys.push(Buffer.from(page.subarray(pos, pos + klen)))
    pos += klen
    let id: number
    ;[id, pos] = refReadVarint(page, pos)
    sepIds.push(id)
    end = Math.max(end, pos)
  }
  return { level: page[1]!, children, counts, sepKeys, sepIds, end }
}
