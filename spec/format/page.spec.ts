/** The common page header and checksums (FORMAT.md §2), and the u48/u64 helpers. */
import t from 'tap'
import { crc32c } from '@node-rs/crc32'
import { OFF_CRC, PAGE_COMMIT, PAGE_HEADER_SIZE, PAGE_INTERNAL, PAGE_LEAF } from '../../lib/format/constants.ts'
import {
  DecodeError, crcMatches, headCrc, pageCrc, readPageHeader, readU48, readU64, sealPage, writeU48, writeU64,
} from '../../lib/format/page.ts'
import { Rng } from '../helpers/rng.ts'
import { refCrc32c, refPageCrc } from './ref.ts'

t.test('the CRC32C is the Castagnoli one FORMAT.md names', async t => {
  // The standard check value of CRC-32C over "123456789".
  t.equal(refCrc32c(Buffer.from('123456789')), 0xe3069283, 'reference implementation check value')
  t.equal(crc32c(Buffer.from('123456789')) >>> 0, 0xe3069283, '@node-rs/crc32 check value')
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  for (let i = 0; i < 50; i++) {
    const a = rng.bytes(rng.int(300))
    const b = rng.bytes(rng.int(300))
    t.equal(crc32c(b, crc32c(a)) >>> 0, refCrc32c(Buffer.concat([a, b])), `continuing a CRC (seed ${seed})`)
  }
})

t.test('headCrc, the CRC of the first four bytes folded in JavaScript, is crc32c of them', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  for (let i = 0; i < 2000; i++) {
    const b = rng.bytes(4 + rng.int(4))
    const want = crc32c(b.subarray(0, 4)) >>> 0
    if (headCrc(b) !== want || want !== refCrc32c(b.subarray(0, 4))) t.fail(`bytes ${b.subarray(0, 4).toString('hex')} (seed ${seed})`)
  }
  for (const b of [[0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [4, 0, 0, 0]]) t.equal(headCrc(Uint8Array.from(b)), crc32c(Buffer.from(b)) >>> 0, `bytes ${b.join(',')}`)
})

t.test('sealPage writes the header fields and a CRC over everything but the CRC field', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed}`)
  for (const size of [512, 4096, 65536]) {
    const page = rng.bytes(size)
    sealPage(page, PAGE_INTERNAL, 0xfedcba98, 7, 0xbeef, 0x12345678)
    t.equal(page[0], PAGE_INTERNAL, 'type at offset 0')
    t.equal(page[1], 7, 'level at offset 1')
    t.equal(page.readUInt16LE(2), 0xbeef, 'count at offset 2, u16 LE')
    t.equal(page.readUInt32LE(8), 0xfedcba98, 'pageNo at offset 8, u32 LE')
    t.equal(page.readUInt32LE(12), 0x12345678, 'aux at offset 12, u32 LE')
    t.equal(page.readUInt32LE(4), refPageCrc(page), `crc at offset 4 matches the reference (size ${size}, seed ${seed})`)
    t.equal(pageCrc(page), refPageCrc(page), 'pageCrc matches the reference')
    t.ok(crcMatches(page), 'a sealed page matches')
    t.same(readPageHeader(page), { type: PAGE_INTERNAL, level: 7, count: 0xbeef, pageNo: 0xfedcba98, aux: 0x12345678 })
  }
  // Defaults: level, count and aux 0.
  const p = Buffer.alloc(512, 0xff)
  sealPage(p, PAGE_COMMIT, 3)
  t.same(readPageHeader(p), { type: PAGE_COMMIT, level: 0, count: 0, pageNo: 3, aux: 0 })
  t.ok(crcMatches(p))
})

t.test('every byte outside the CRC field is covered; the CRC field itself is not', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  for (const size of [512, 4096]) {
    const page = rng.bytes(size)
    sealPage(page, PAGE_LEAF, 42, 0, 3, 9)
    const crc = pageCrc(page)
    const missed: number[] = []
    const changedByCrcField: number[] = []
    for (let i = 0; i < size; i++) {
      const bit = 1 << rng.int(8)
      page[i]! ^= bit
      const stillMatches = crcMatches(page)
      const crcNow = pageCrc(page)
      page[i]! ^= bit
      if (i >= OFF_CRC && i < OFF_CRC + 4) {
        // Changing the stored CRC breaks the match but not the computed value.
        if (stillMatches) missed.push(i)
        if (crcNow !== crc) changedByCrcField.push(i)
      } else if (stillMatches || crcNow === crc) missed.push(i)
    }
    t.same(missed, [], `a flipped bit at any offset is detected (page size ${size}, seed ${seed})`)
    t.same(changedByCrcField, [], 'the CRC field is not part of its own checksum')
    t.ok(crcMatches(page), 'the page is intact after the flips were undone')
    // A whole-byte change of every value at a few offsets.
    for (const off of [0, 3, 8, 15, 16, size - 1]) {
      const orig = page[off]!
      let undetected = 0
      for (let v = 0; v < 256; v++) {
        if (v === orig) continue
        page[off] = v
        if (crcMatches(page)) undetected++
      }
      page[off] = orig
      t.equal(undetected, 0, `every other value at offset ${off} is detected (seed ${seed})`)
    }
  }
})

t.test('crcMatches on short and zero buffers', async t => {
  t.notOk(crcMatches(Buffer.alloc(0)), 'empty buffer')
  t.notOk(crcMatches(Buffer.alloc(PAGE_HEADER_SIZE - 1)), 'shorter than a header')
  // A zero page: its stored CRC is 0 and crc32c of zeros is not.
  t.notOk(crcMatches(Buffer.alloc(512)), 'a zero page does not pass as a sealed page')
})

t.test('u48 and u64 helpers', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  const u48 = [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, 2 ** 48 - 1]
  for (let i = 0; i < 200; i++) u48.push(Math.floor(rng.next() * 2 ** 48))
  const bad48: number[] = []
  for (const v of u48) {
    const b = Buffer.alloc(10, 0xaa)
    writeU48(b, 2, v)
    const ref = Buffer.alloc(8)
    ref.writeBigUInt64LE(BigInt(v))
    if (!b.subarray(2, 8).equals(ref.subarray(0, 6)) || b[1] !== 0xaa || b[8] !== 0xaa || readU48(b, 2) !== v) bad48.push(v)
  }
  t.same(bad48, [], `u48 values written little-endian in 6 bytes and read back (seed ${seed})`)

  const u64 = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER]
  for (let i = 0; i < 200; i++) u64.push(Math.floor(rng.next() * 2 ** 53))
  const bad64: number[] = []
  for (const v of u64) {
    const b = Buffer.alloc(12, 0xaa)
    writeU64(b, 2, v)
    const ref = Buffer.alloc(8)
    ref.writeBigUInt64LE(BigInt(v))
    if (!b.subarray(2, 10).equals(ref) || b[1] !== 0xaa || b[10] !== 0xaa || readU64(b, 2) !== v) bad64.push(v)
  }
  t.same(bad64, [], `u64 values written little-endian in 8 bytes and read back (seed ${seed})`)

  // Values of 2^53 and above do not fit a JavaScript number exactly: readU64 says -1.
  for (const big of [2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(big)
    t.equal(readU64(b, 0), -1, `readU64 of ${big} is -1`)
  }
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(2n ** 53n - 1n)
  t.equal(readU64(b, 0), Number.MAX_SAFE_INTEGER, 'readU64 of 2^53-1')
})

t.test('DecodeError is an Error', async t => {
  const e = new DecodeError('x')
  t.ok(e instanceof Error)
  t.equal(e.message, 'x')
})
