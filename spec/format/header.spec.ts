/** Page 0, the file header (FORMAT.md §4): round trips and the checks in their documented order. */
import t from 'tap'
import { FORMAT_VERSION, PAGE_FILE_HEADER } from '../../lib/format/constants.ts'
import { decodeHeader, encodeHeader, isHeaderProblem } from '../../lib/format/header.ts'
import type { FileHeader, HeaderProblem } from '../../lib/format/header.ts'
import { crcMatches, sealPage } from '../../lib/format/page.ts'
import { Rng } from '../helpers/rng.ts'
import { refPageCrc } from './ref.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}`)
const rng = new Rng(seed)

function header(over: Partial<FileHeader> = {}): FileHeader {
  return {
    formatVersion: FORMAT_VERSION, pageSize: 4096, keyEncoding: 'utf8', unique: false,
    fileId: rng.bytes(16), createdAt: 1_700_000_000_123, ...over,
  }
}

function problem(bytes: Buffer): HeaderProblem['code'] | 'ok' {
  const h = decodeHeader(bytes)
  return isHeaderProblem(h) ? h.code : 'ok'
}

/** Re-seals page 0 after a patch, keeping its header fields. */
function reseal(page: Buffer): Buffer {
  sealPage(page, page[0]!, page.readUInt32LE(8), page[1]!, page.readUInt16LE(2), page.readUInt32LE(12))
  return page
}

t.test('round trip at every page size, encoding and flag', async t => {
  for (let log2 = 9; log2 <= 16; log2++) {
    for (const keyEncoding of ['utf8', 'binary', 'typed'] as const) {
      for (const unique of [false, true]) {
        const h = header({ pageSize: 2 ** log2, keyEncoding, unique, createdAt: Math.floor(rng.next() * 2 ** 50) })
        const page = encodeHeader(h)
        t.equal(page.length, h.pageSize, 'one page long')
        t.equal(page[0], PAGE_FILE_HEADER)
        t.equal(page.readUInt32LE(4), refPageCrc(page), 'CRC as FORMAT.md defines it')
        t.ok(crcMatches(page))
        t.equal(page.toString('latin1', 16, 24), 'TAILROOT')
        t.equal(page[26], log2, 'pageSizeLog2')
        t.equal(page[27], { utf8: 0, binary: 1, typed: 2 }[keyEncoding], 'keyEncoding byte')
        t.equal(page[28], unique ? 1 : 0, 'flags byte')
        t.same([...page.subarray(29, 32)], [0, 0, 0], 'reserved bytes are zero')
        t.ok(page.subarray(56).every(b => b === 0), 'the rest of the page is zero')
        t.same(decodeHeader(page), h, `decodes to what was encoded (P=${h.pageSize}, seed ${seed})`)
        // Decoding from the first 64 KiB of a file (more than one page) gives the same.
        const file = Buffer.concat([page, rng.bytes(65536 - (page.length % 65536 || 65536)), Buffer.alloc(10)])
        t.same(decodeHeader(file.subarray(0, Math.max(page.length, 65536))), h, 'decodes with bytes following page 0')
      }
    }
  }
})

t.test('NOT_AN_INDEX: short, foreign, or without the magic', async t => {
  const good = encodeHeader(header({ pageSize: 512 }))
  t.equal(problem(Buffer.alloc(0)), 'NOT_AN_INDEX', 'empty')
  t.equal(problem(good.subarray(0, 63)), 'NOT_AN_INDEX', '63 bytes of a real header')
  t.equal(problem(Buffer.from('hello, world\n'.repeat(100))), 'NOT_AN_INDEX', 'a text file')
  t.equal(problem(Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(600)])), 'NOT_AN_INDEX', 'a PNG header')
  t.equal(problem(Buffer.alloc(4096)), 'NOT_AN_INDEX', 'zeros')
  for (const b0 of [0x00, 0x02, 0x03, 0x04, 0xff]) {
    const p = Buffer.from(good)
    p[0] = b0
    t.equal(problem(reseal(p)), 'NOT_AN_INDEX', `byte 0 = 0x${b0.toString(16)}`)
  }
  for (let i = 16; i < 24; i++) {
    const p = Buffer.from(good)
    p[i]! ^= 0x20
    t.equal(problem(reseal(p)), 'NOT_AN_INDEX', `magic byte ${i - 16} changed`)
  }
  // The magic check comes before the version check.
  const p = Buffer.from(good)
  p.write('TAILR00T', 16, 'latin1')
  p.writeUInt16LE(9, 24)
  t.equal(problem(p), 'NOT_AN_INDEX', 'bad magic and a newer version')
  let foreign = 0
  for (let i = 0; i < 500; i++) if (problem(rng.bytes(64 + rng.int(2000))) !== 'NOT_AN_INDEX') foreign++
  t.equal(foreign, 0, `random bytes are not an index (seed ${seed})`)
})

t.test('VERSION: a newer format version or unknown flags (checked before the CRC), an unknown key encoding (after it)', async t => {
  const good = encodeHeader(header({ pageSize: 1024 }))
  for (const v of [FORMAT_VERSION + 1, 3, 255, 0xffff]) {
    const p = Buffer.from(good)
    p.writeUInt16LE(v, 24)
    t.equal(problem(reseal(Buffer.from(p))), 'VERSION', `version ${v}, resealed`)
    t.equal(problem(p), 'VERSION', `version ${v} with a stale CRC`)
    const h = decodeHeader(p) as HeaderProblem
    t.match(h.message, String(v), 'the message names the version')
  }
  for (let bit = 2; bit < 8; bit++) {
    const p = Buffer.from(good)
    p[28] = 1 << bit
    t.equal(problem(reseal(p)), 'VERSION', `unknown flag bit ${bit}`)
  }
  const p = Buffer.from(good)
  p[28] = 0x81
  t.equal(problem(reseal(p)), 'VERSION', 'unique flag with an unknown bit')
  // An intact header with a key encoding this version does not know: a newer version's file.
  for (const e of [3, 4, 0x7f, 0xff]) {
    const p = Buffer.from(good)
    p[27] = e
    t.equal(problem(reseal(p)), 'VERSION', `key encoding ${e}, resealed`)
    t.match((decodeHeader(reseal(p)) as HeaderProblem).message, `key encoding ${e}`, 'the message names the encoding')
  }
  // A newer version in a file that is also too short for its page size: still VERSION.
  const q = Buffer.from(good.subarray(0, 100))
  q.writeUInt16LE(FORMAT_VERSION + 1, 24)
  t.equal(problem(q), 'VERSION', 'version checked before the length')
  // Bad page size log2 with a newer version: VERSION first.
  const r = Buffer.from(good)
  r.writeUInt16LE(FORMAT_VERSION + 1, 24)
  r[26] = 30
  t.equal(problem(r), 'VERSION', 'version checked before the page size')
})

t.test('FLAG_SET (§12): a set file is binary, not unique, version 2 or later', async t => {
  const h = header({ keyEncoding: 'binary', set: true })
  const page = encodeHeader(h)
  t.equal(page[28], 0x02, 'flags byte of a set file')
  t.same(decodeHeader(page), h, 'round trip')
  t.notOk('set' in decodeHeader(encodeHeader(header())), 'a single-index header has no set field')
  for (const [what, over] of [
    ['utf8', { keyEncoding: 'utf8' }], ['typed', { keyEncoding: 'typed' }], ['unique', { unique: true }], ['version 1', { formatVersion: 1 }],
  ] as const) {
    t.equal(problem(encodeHeader(header({ keyEncoding: 'binary', set: true, ...over }))), 'CORRUPT', `a set file with ${what} is CORRUPT`)
  }
})

t.test('CORRUPT: bad CRC, bad page size, short file, impossible fields', async t => {
  const good = encodeHeader(header({ pageSize: 512 }))
  const flipped: number[] = []
  for (let i = 0; i < good.length; i++) {
    if (i === 0 || (i >= 16 && i < 29)) continue // type, magic, version, log2, encoding, flags: checked by name
    const p = Buffer.from(good)
    p[i]! ^= 1 << rng.int(8)
    if (problem(p) !== 'CORRUPT') flipped.push(i)
  }
  t.same(flipped, [], `a flipped bit anywhere else is CORRUPT (seed ${seed})`)
  for (const log2 of [0, 1, 8, 17, 31, 32, 53, 64, 255]) {
    const p = Buffer.from(good)
    p[26] = log2
    t.equal(problem(reseal(p)), 'CORRUPT', `pageSizeLog2 ${log2}`)
    t.match((decodeHeader(reseal(p)) as HeaderProblem).message, /page size/, 'the message says page size')
  }
  // A pageSizeLog2 that says 4096 in a file of one 512-byte page.
  const p = Buffer.from(good)
  p[26] = 12
  t.equal(problem(reseal(p)), 'CORRUPT', 'file shorter than one page')
  const big = encodeHeader(header({ pageSize: 65536 }))
  t.equal(problem(big.subarray(0, 65535)), 'CORRUPT', 'one byte short of a 64 KiB page')
  t.equal(problem(big.subarray(0, 64)), 'CORRUPT', 'only the first 64 bytes of a 64 KiB header')
  const v0 = Buffer.from(good)
  v0.writeUInt16LE(0, 24)
  t.equal(problem(reseal(v0)), 'CORRUPT', 'format version 0')
  const enc = Buffer.from(good)
  enc[27] = 3
  t.equal(problem(enc), 'CORRUPT', 'unknown key encoding with a stale CRC: damage')
  const pn = Buffer.from(good)
  sealPage(pn, PAGE_FILE_HEADER, 1)
  t.equal(problem(pn), 'CORRUPT', 'page 0 claiming to be page 1')
  for (const d of [-1, 1]) {
    const p = Buffer.from(good)
    p.writeUInt32LE((p.readUInt32LE(4) + d) >>> 0, 4)
    t.equal(problem(p), 'CORRUPT', `CRC off by ${d}`)
  }
})

t.test('decodeHeader never throws', async t => {
  const good = encodeHeader(header({ pageSize: 512 }))
  const thrown: string[] = []
  for (let i = 0; i < 5000; i++) {
    const p = Buffer.from(good.subarray(0, rng.int(600)))
    const flips = rng.int(4)
    for (let f = 0; f < flips && p.length > 0; f++) p[rng.int(Math.min(p.length, 64))] = rng.int(256)
    if (rng.int(2) === 0 && p.length >= 16) reseal(p)
    try {
      const h = decodeHeader(p)
      // A flip may turn the version byte into another supported version (1), resealed: still a header.
      if (!isHeaderProblem(h) && (h.pageSize > p.length || h.formatVersion < 1 || h.formatVersion > FORMAT_VERSION)) thrown.push(`accepted ${p.toString('hex', 0, 64)}`)
    } catch (err) {
      thrown.push(`${String(err)} for ${p.toString('hex', 0, 64)}`)
    }
  }
  t.same(thrown, [], `mutated headers give a header or a problem, never an exception (seed ${seed})`)
})
