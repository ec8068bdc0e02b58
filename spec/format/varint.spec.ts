/** Varints (FORMAT.md §3): round trips at every 7-bit boundary, sizes, and malformed input. */
import t from 'tap'
import type { Test } from 'tap'
import { MAX_VARINT_BYTES } from '../../lib/format/constants.ts'
import { readVarint, varintSize, writeVarint } from '../../lib/format/varint.ts'
import { Rng } from '../helpers/rng.ts'
import { refLeb128 as leb128 } from './ref.ts'


function roundTrip(t: Test, n: number, msg = ''): void {
  const buf = Buffer.alloc(16, 0xee)
  const end = writeVarint(buf, 3, n)
  const expected = leb128(n)
  t.same([...buf.subarray(3, end)], expected, `bytes of ${n} ${msg}`)
  t.equal(varintSize(n), expected.length, `varintSize(${n}) ${msg}`)
  t.equal(buf[2], 0xee, `writeVarint(${n}) does not write before its position`)
  t.equal(buf[end], 0xee, `writeVarint(${n}) does not write past its length`)
  const cur = { pos: 3 }
  t.equal(readVarint(buf, cur, end), n, `read back ${n} ${msg}`)
  t.equal(cur.pos, end, `cursor after ${n} ${msg}`)
  // Reading with `end` one short of the varint's last byte must fail without moving the cursor.
  const cur2 = { pos: 3 }
  t.equal(readVarint(buf, cur2, end - 1), -1, `truncated ${n} ${msg}`)
  t.equal(cur2.pos, 3, `cursor unchanged after a failed read of ${n} ${msg}`)
}

t.test('round trips at every boundary', async t => {
  const values = new Set<number>([0, 1, 126, 127, 128, 129, 255, 256, 300, 16383, 16384, 16385])
  for (let bits = 7; bits <= 53; bits += 7) {
    for (const d of [-1, 0, 1]) {
      const v = 2 ** bits + d
      if (v <= Number.MAX_SAFE_INTEGER) values.add(v)
    }
  }
  values.add(Number.MAX_SAFE_INTEGER)
  values.add(Number.MAX_SAFE_INTEGER - 1)
  values.add(2 ** 52)
  for (const v of values) roundTrip(t, v)
  t.equal(varintSize(Number.MAX_SAFE_INTEGER), MAX_VARINT_BYTES, '2^53-1 takes MAX_VARINT_BYTES')
  t.equal(varintSize(127), 1)
  t.equal(varintSize(128), 2)
  t.equal(varintSize(2 ** 14 - 1), 2)
  t.equal(varintSize(2 ** 14), 3)
  t.equal(varintSize(2 ** 49 - 1), 7)
  t.equal(varintSize(2 ** 49), 8)
})

t.test('random values round trip', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed}`)
  const bad: string[] = []
  const buf = Buffer.alloc(16)
  for (let i = 0; i < 20000; i++) {
    const bits = 1 + rng.int(53)
    const v = Math.min(Math.floor(rng.next() * 2 ** bits), Number.MAX_SAFE_INTEGER)
    const end = writeVarint(buf, 1, v)
    const ref = leb128(v)
    const cur = { pos: 1 }
    const back = readVarint(buf, cur, end)
    if (end - 1 !== ref.length || !buf.subarray(1, end).equals(Buffer.from(ref)) || varintSize(v) !== ref.length ||
        back !== v || cur.pos !== end) bad.push(`${v}`)
  }
  t.same(bad, [], `values that do not round trip (seed ${seed})`)
})

t.test('several varints back to back', async t => {
  const vals = [0, 127, 128, 2 ** 21, Number.MAX_SAFE_INTEGER, 5]
  const buf = Buffer.alloc(64)
  let pos = 0
  for (const v of vals) pos = writeVarint(buf, pos, v)
  const cur = { pos: 0 }
  for (const v of vals) t.equal(readVarint(buf, cur, pos), v)
  t.equal(cur.pos, pos)
  t.equal(readVarint(buf, cur, pos), -1, 'reading at the end fails')
})

t.test('malformed varints', async t => {
  // 8 bytes with the continuation bit on every one: the 9th byte would be needed.
  for (let len = MAX_VARINT_BYTES + 1; len <= 12; len++) {
    const buf = Buffer.alloc(len, 0x80)
    buf[len - 1] = 0x01
    const cur = { pos: 0 }
    t.equal(readVarint(buf, cur, buf.length), -1, `${len}-byte varint is refused`)
    t.equal(cur.pos, 0, 'cursor unchanged')
  }
  // 9 continuation bytes followed by nothing.
  t.equal(readVarint(Buffer.alloc(9, 0xff), { pos: 0 }, 9), -1, '9 bytes of 0xff')
  // Continuation bits running to the end of the buffer.
  for (let len = 1; len <= MAX_VARINT_BYTES; len++) {
    const buf = Buffer.alloc(len, 0x80)
    t.equal(readVarint(buf, { pos: 0 }, len), -1, `truncated after ${len} continuation bytes`)
  }
  // `end` limits the read even when the buffer goes on.
  const buf = Buffer.from([0x80, 0x80, 0x01, 0x00])
  t.equal(readVarint(buf, { pos: 0 }, 2), -1, 'end before the last byte')
  t.equal(readVarint(buf, { pos: 0 }, 3), 2 ** 14, 'end just after the last byte')
  t.equal(readVarint(buf, { pos: 4 }, 4), -1, 'position at end')
  t.equal(readVarint(buf, { pos: 10 }, 12), -1, 'position beyond the buffer (end lies)')
  // 8 bytes whose value exceeds 2^53-1 (8 × 7 = 56 bits) is refused.
  const big = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
  t.equal(readVarint(big, { pos: 0 }, 8), -1, '2^56-1 is out of range')
  const justOver = Buffer.from(leb128(2 ** 53)) // 2^53 is not a safe integer
  t.equal(justOver.length, 8)
  t.equal(readVarint(justOver, { pos: 0 }, 8), -1, '2^53 is out of range')
  const max = Buffer.from(leb128(Number.MAX_SAFE_INTEGER))
  t.equal(readVarint(max, { pos: 0 }, 8), Number.MAX_SAFE_INTEGER, '2^53-1 is the largest accepted')
  // Non-minimal encodings within 8 bytes decode to their value (the format does not forbid them).
  t.equal(readVarint(Buffer.from([0x81, 0x00]), { pos: 0 }, 2), 1)
})
