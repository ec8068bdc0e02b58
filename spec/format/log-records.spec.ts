/**
 * Change records (FORMAT.md §10): writeRecords against a plain reference encoder (the bytes of
 * each record spelled out from the table, keys written by Buffer's latin1 encoder), for random
 * runs of byte-string keys with shared prefixes, including where a run stops because the next
 * record does not fit; and readRecords gives the batch back.
 */
import t from 'tap'
import { LOG_OP_INSERT } from '../../lib/format/constants.ts'
import { readRecords, recordsSize, writeRecords } from '../../lib/format/log-records.ts'
import { writeVarint } from '../../lib/format/varint.ts'
import type { Batch } from '../../lib/tree/batch.ts'
import { Rng } from '../helpers/rng.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

/** The records from `from` as one run, as long as they fit in `room` bytes: the reference. */
function reference(b: Batch, from: number, room: number): { bytes: Buffer; next: number } {
  const parts: Buffer[] = []
  let size = 0
  let i = from
  for (; i < b.keys.length; i++) {
    const k = b.keys[i]!
    const prev = i === from ? '' : b.keys[i - 1]!
    let shared = 0
    while (shared < Math.min(prev.length, k.length) && prev[shared] === k[shared]) shared++
    const rec = Buffer.alloc(32 + k.length)
    let pos = writeVarint(rec, 0, shared * 2 + (b.ins[i] ? LOG_OP_INSERT : 0))
    pos = writeVarint(rec, pos, k.length - shared)
    pos += rec.write(k.slice(shared), pos, 'latin1')
    pos = writeVarint(rec, pos, b.ids[i]!)
    if (size + pos > room) break
    parts.push(rec.subarray(0, pos))
    size += pos
  }
  return { bytes: Buffer.concat(parts), next: i }
}

/** A sorted batch of `n` distinct pairs over keys of bytes 0–255 that often share prefixes. */
function randomBatch(rng: Rng, n: number): Batch {
  const stems = Array.from({ length: 1 + rng.int(4) }, () => rng.bytes(rng.int(12)).toString('latin1'))
  const pairs = new Map<string, [string, number]>()
  for (let i = 0; i < n; i++) {
    const k = rng.pick(stems) + rng.bytes(rng.int(6)).toString('latin1')
    const r = rng.int(3) === 0 ? rng.int(4) : Math.floor(rng.next() * 2 ** (1 + rng.int(53)))
    pairs.set(`${k}\u0100${r}`, [k, r])
  }
  const sorted = [...pairs.values()].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1])
  return { keys: sorted.map(p => p[0]), ids: sorted.map(p => p[1]), ins: sorted.map(() => rng.int(3) > 0) }
}

t.test('writeRecords writes the bytes the table spells out, and readRecords reads them back', t => {
  const rng = new Rng(seed)
  for (let round = 0; round < 300; round++) {
    const b = randomBatch(rng, 1 + rng.int(40))
    const whole = reference(b, 0, Infinity)
    t.equal(recordsSize(b), whole.bytes.length, `round ${round}: recordsSize`)
    // From a random record, into a room that may end anywhere (mid-record included).
    const from = rng.int(b.keys.length)
    const room = rng.int(3) === 0 ? Infinity : rng.int(whole.bytes.length + 8)
    const want = reference(b, from, room)
    const at = rng.int(5)
    const buf = Buffer.alloc(at + want.bytes.length + 16, 0xee)
    const end = room === Infinity ? buf.length : at + room
    const got = writeRecords(b, from, buf, at, Math.min(end, buf.length))
    t.equal(got.next, want.next, `round ${round}: records written`)
    t.equal(got.pos, at + want.bytes.length, `round ${round}: end position`)
    if (!buf.subarray(at, got.pos).equals(want.bytes)) t.fail(`round ${round}: bytes differ (seed ${seed})`)
    t.ok(buf.subarray(0, at).every(x => x === 0xee) && buf.subarray(got.pos).every(x => x === 0xee), `round ${round}: nothing written outside the run`)
    const back: Batch = { keys: [], ids: [], ins: [] }
    readRecords(buf, at, got.pos, got.next - from, 65536, back)
    t.same(back, { keys: b.keys.slice(from, got.next), ids: b.ids.slice(from, got.next), ins: b.ins.slice(from, got.next) }, `round ${round}: read back`)
  }
  t.end()
})

t.test('maxCount stops a run', t => {
  const b: Batch = { keys: ['a', 'ab', 'abc'], ids: [1, 2, 3], ins: [true, false, true] }
  const buf = Buffer.alloc(64)
  const w = writeRecords(b, 0, buf, 0, buf.length, 2)
  t.equal(w.next, 2)
  t.ok(buf.subarray(0, w.pos).equals(reference(b, 0, Infinity).bytes.subarray(0, w.pos)))
  t.equal(w.pos, recordsSize(b, 0, 2))
  t.end()
})
