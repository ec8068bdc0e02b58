/**
 * Leaf and internal node pages (FORMAT.md §5, §6): random round trips at 512 and 4096 bytes,
 * sizes equal to the bytes the encoder uses (checked with a reference parser written from
 * FORMAT.md), and every layout check of the decoder.
 */
import t from 'tap'
import type { Test } from 'tap'
import { PAGE_INTERNAL, PAGE_LEAF, maxKeyBytes } from '../../lib/format/constants.ts'
import {
  decodeNode, encodeInternal, encodeLeaf, encodeNode, internalSize, leafSize, nodeSize,
} from '../../lib/format/node.ts'
import type { InternalNode, LeafNode } from '../../lib/format/node.ts'
import { DecodeError, crcMatches, sealPage } from '../../lib/format/page.ts'
import { Rng } from '../helpers/rng.ts'
import { randomInternal, randomLeaf, refInternalSize, refLeafSize } from './gen.ts'
import { refLeb128, refPageCrc, refParseInternal, refParseLeaf } from './ref.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}`)
const rng = new Rng(seed)
const MAX_ID = Number.MAX_SAFE_INTEGER

function checkLeafRoundTrip(t: Test, n: LeafNode, pageSize: number, pageNo: number, label: string): void {
  const page = encodeLeaf(n, pageNo, pageSize)
  const size = leafSize(n)
  t.equal(size, refLeafSize(n.keys, n.ids), `leafSize follows FORMAT.md's formula (${label})`)
  t.equal(nodeSize(n), size)
  t.equal(page.length, pageSize)
  t.equal(page[0], PAGE_LEAF)
  t.equal(page[1], 0, 'level 0')
  t.equal(page.readUInt16LE(2), n.keys.length, 'count = groups')
  t.equal(page.readUInt32LE(8), pageNo, 'pageNo')
  t.equal(page.readUInt32LE(12), n.count, 'aux = entries')
  t.equal(page.readUInt32LE(4), refPageCrc(page), 'CRC')
  const ref = refParseLeaf(page)
  t.same(ref.keys.map(b => b.toString('latin1')), n.keys, `reference parser reads the keys (${label})`)
  t.same(ref.ids, n.ids, `reference parser reads the rowIds (${label})`)
  t.equal(ref.end, size, `the bytes used end at leafSize (${label})`)
  t.ok(page.subarray(size).every(b => b === 0), 'zeros after the used bytes')
  const d = decodeNode(page)
  t.same({ level: d.level, keys: (d as LeafNode).keys, ids: (d as LeafNode).ids, count: d.count },
    { level: 0, keys: n.keys, ids: n.ids, count: n.count }, `decodes to the same leaf (${label})`)
  t.same(encodeNode(d, pageNo, pageSize), page, 're-encoding gives the same bytes')
}

function checkInternalRoundTrip(t: Test, n: InternalNode, pageSize: number, pageNo: number, label: string): void {
  const page = encodeInternal(n, pageNo, pageSize)
  const size = internalSize(n)
  t.equal(size, refInternalSize(n), `internalSize follows FORMAT.md's layout (${label})`)
  t.equal(nodeSize(n), size)
  t.equal(page[0], PAGE_INTERNAL)
  t.equal(page[1], n.level, 'level')
  t.equal(page.readUInt16LE(2), n.children.length, 'count = children')
  t.equal(page.readUInt32LE(8), pageNo, 'pageNo')
  t.equal(page.readUInt32LE(12), 0, 'aux 0')
  t.ok(crcMatches(page))
  const ref = refParseInternal(page)
  t.same({ level: ref.level, children: ref.children, counts: ref.counts, sepKeys: ref.sepKeys.map(b => b.toString('latin1')), sepIds: ref.sepIds },
    { level: n.level, children: n.children, counts: n.counts, sepKeys: n.sepKeys, sepIds: n.sepIds }, `reference parser (${label})`)
  t.equal(ref.end, size, `the bytes used end at internalSize (${label})`)
  t.ok(page.subarray(size).every(b => b === 0), 'zeros after the used bytes')
  const d = decodeNode(page) as InternalNode
  t.same({ level: d.level, children: d.children, counts: d.counts, sepKeys: d.sepKeys, sepIds: d.sepIds, count: d.count },
    { level: n.level, children: n.children, counts: n.counts, sepKeys: n.sepKeys, sepIds: n.sepIds, count: n.count }, `decodes to the same node (${label})`)
  t.same(encodeNode(d, pageNo, pageSize), page, 're-encoding gives the same bytes')
}

for (const pageSize of [512, 4096]) {
  t.test(`random leaves at ${pageSize}`, async t => {
    for (let i = 0; i < 60; i++) checkLeafRoundTrip(t, randomLeaf(rng, pageSize), pageSize, 1 + rng.int(2 ** 32 - 1), `leaf ${i}, seed ${seed}`)
  })
  t.test(`random internal nodes at ${pageSize}`, async t => {
    for (let i = 0; i < 60; i++) {
      const pageNo = 2 + rng.int(2 ** 32 - 2)
      checkInternalRoundTrip(t, randomInternal(rng, pageSize, pageNo), pageSize, pageNo, `internal ${i}, seed ${seed}`)
    }
  })
  t.test(`edge contents at ${pageSize}`, async t => {
    const max = maxKeyBytes(pageSize)
    const big = 'x'.repeat(max)
    checkLeafRoundTrip(t, { level: 0, keys: [''], ids: [[0]], count: 1 }, pageSize, 1, 'empty key, rowId 0')
    checkLeafRoundTrip(t, { level: 0, keys: [big], ids: [[MAX_ID]], count: 1 }, pageSize, 1, 'largest key and rowId')
    checkLeafRoundTrip(t, { level: 0, keys: ['', '\x00', '\x00\x00', '\xff'], ids: [[0, MAX_ID], [1], [5, 6, 7], [2 ** 32]], count: 7 }, pageSize, 9, 'prefixes and byte extremes')
    // A leaf filled to exactly its page.
    const idsFill: number[] = []
    let id = 0
    while (refLeafSize(['k'], [[...idsFill, id]]) <= pageSize) { idsFill.push(id); id += 1 }
    const full: LeafNode = { level: 0, keys: ['k'], ids: [idsFill], count: idsFill.length }
    t.ok(leafSize(full) > pageSize - 2, 'the leaf is (nearly) full')
    checkLeafRoundTrip(t, full, pageSize, 3, 'a full leaf')
    // Three children with two maximal separators fit (FORMAT.md §7).
    const three: InternalNode = { level: 1, children: [1, 2, 3], counts: [1, 1, 1], sepKeys: [big, big + ''], sepIds: [MAX_ID - 1, MAX_ID], count: 3 }
    t.ok(internalSize(three) <= pageSize, 'three children and two maximal separators fit in a page')
    checkInternalRoundTrip(t, three, pageSize, 4, 'maximal separators')
    checkInternalRoundTrip(t, { level: 255, children: [1, 0xfffffffe], counts: [2 ** 48 - 1, 1], sepKeys: [''], sepIds: [0], count: 2 ** 48 }, pageSize, 0xffffffff, 'extremes')
    t.throws(() => encodeLeaf({ level: 0, keys: ['k'.repeat(pageSize)], ids: [[1]], count: 1 }, 1, pageSize), 'an overflowing leaf is refused')
  })
}

// ---- decoder checks ----------------------------------------------------------------------

/** Writes a leaf page by hand: each group is raw bytes, placed after the slots unless `at` is given. */
function rawLeaf(pageSize: number, groups: { bytes: number[]; at?: number; slot?: number }[], aux: number, opts: { level?: number; count?: number; pageNo?: number } = {}): Buffer {
  const page = Buffer.alloc(pageSize)
  const g = groups.length
  let pos = 16 + 2 * g
  groups.forEach((gr, i) => {
    const at = gr.at ?? pos
    page.set(gr.bytes, at)
    page.writeUInt16LE(gr.slot ?? at, 16 + 2 * i)
    if (gr.at === undefined) pos += gr.bytes.length
  })
  sealPage(page, PAGE_LEAF, opts.pageNo ?? 5, opts.level ?? 0, opts.count ?? g, aux)
  return page
}

function group(key: string, ids: number[], deltas = false): number[] {
  const out = [...refLeb128(key.length), ...Buffer.from(key, 'latin1'), ...refLeb128(ids.length)]
  ids.forEach((id, j) => out.push(...refLeb128(j === 0 || deltas ? id : id - ids[j - 1]!)))
  return out
}

function rejects(t: Test, page: Buffer, why: RegExp, label: string): void {
  try {
    decodeNode(page)
    t.fail(`${label}: decoded without an error`)
  } catch (err) {
    t.ok(err instanceof DecodeError, `${label}: DecodeError (got ${String(err)})`)
    t.match((err as Error).message, why, `${label}: the right check fired`)
  }
}

t.test('a hand-written valid leaf decodes (the raw writer is sound)', async t => {
  const page = rawLeaf(512, [{ bytes: group('a', [1, 2]) }, { bytes: group('b', [0]) }], 3)
  t.same(decodeNode(page), { level: 0, keys: ['a', 'b'], ids: [[1, 2], [0]], count: 3 })
  // Readers follow the slots: groups may sit anywhere after the slot array, in any physical order.
  const moved = rawLeaf(512, [{ bytes: group('a', [1, 2]), at: 400 }, { bytes: group('b', [0]), at: 100 }], 3)
  t.same(decodeNode(moved), { level: 0, keys: ['a', 'b'], ids: [[1, 2], [0]], count: 3 })
})

t.test('leaf layout checks', async t => {
  const P = 512
  rejects(t, rawLeaf(P, [{ bytes: group('b', [1]) }, { bytes: group('a', [1]) }], 2), /order/, 'keys out of order')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]) }, { bytes: group('a', [2]) }], 2), /order/, 'equal keys')
  rejects(t, rawLeaf(P, [{ bytes: group('ab', [1]) }, { bytes: group('a', [1]) }], 2), /order/, 'a key before its prefix')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]), slot: 16 }], 1), /offset|header/, 'slot pointing into the slot array')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]), slot: 0 }], 1), /offset|header/, 'slot 0')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]), slot: 17 }], 1), /offset|header/, 'slot into its own slot bytes')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]), slot: P }], 1), /key length/, 'slot at the end of the page')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]), slot: 0xffff }], 1), /key length/, 'slot beyond the page')
  rejects(t, rawLeaf(P, [{ bytes: [...refLeb128(200), 0x61], at: P - 3 }], 1), /key length/, 'key running past the page')
  rejects(t, rawLeaf(P, [{ bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01] }], 1), /key length/, '9-byte key length varint')
  rejects(t, rawLeaf(P, [{ bytes: [0x81], at: P - 1 }], 1), /key length/, 'key length varint running past the page')
  rejects(t, rawLeaf(P, [{ bytes: [1, 0x61, 0] }], 0), /count/, 'a group of 0 rowIds')
  rejects(t, rawLeaf(P, [{ bytes: [1, 0x61, ...refLeb128(P + 1), 1] }], P + 1), /count/, 'more rowIds than the page has bytes')
  rejects(t, rawLeaf(P, [{ bytes: [1, 0x61, ...refLeb128(2 ** 40), 1] }], 1), /count/, 'a huge rowId count')
  rejects(t, rawLeaf(P, [{ bytes: [1, 0x61, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1] }], 1), /count/, '9-byte count varint')
  rejects(t, rawLeaf(P, [{ bytes: [1, 0x61, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1] }], 1), /rowId/, '9-byte rowId varint')
  rejects(t, rawLeaf(P, [{ bytes: [1, 0x61, 1, ...refLeb128(2 ** 53)] }], 1), /rowId/, 'rowId 2^53')
  rejects(t, rawLeaf(P, [{ bytes: [1, 0x61, 1, 0xff], at: P - 4 }], 1), /rowId/, 'rowId varint running past the page')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [5, 0], true) }], 2), /delta/, 'a delta of 0 (duplicate rowId)')
  rejects(t, rawLeaf(P, [{ bytes: [1, 0x61, 3, 5, 1], at: P - 5 }], 3), /delta/, 'deltas running past the page')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [MAX_ID - 1, 2], true) }], 2), /range/, 'rowId overflowing 2^53-1 through deltas')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1, 2]) }], 3), /entries|header says/, 'aux larger than the entries')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1, 2]) }], 1), /entries|header says/, 'aux smaller than the entries')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]) }], 1 + 2 ** 32 - 2), /entries|header says/, 'aux huge')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]) }], 1, { level: 1 }), /level/, 'a leaf with a nonzero level')
  rejects(t, rawLeaf(P, [], 0), /no groups/, 'a leaf with no groups')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]) }], 1, { count: 0xffff }), /slot array|overflow/, 'slot array larger than the page')
  rejects(t, rawLeaf(P, [{ bytes: group('a', [1]) }], 1, { count: (P - 16) / 2 + 1 }), /slot array|overflow/, 'slot array one past the page')
})

/** Writes an internal page by hand. */
function rawInternal(pageSize: number, pageNo: number, level: number, children: number[], counts: number[], seps: { bytes: number[]; slot?: number }[], count?: number): Buffer {
  const page = Buffer.alloc(pageSize)
  const c = children.length
  children.forEach((ch, i) => page.writeUInt32LE(ch, 16 + 4 * i))
  counts.forEach((n, i) => page.writeUIntLE(n, 16 + 4 * c + 6 * i, 6))
  const slotsAt = 16 + 10 * c
  let pos = slotsAt + 2 * Math.max(0, c - 1)
  seps.forEach((s, i) => {
    page.set(s.bytes, pos)
    page.writeUInt16LE(s.slot ?? pos, slotsAt + 2 * i)
    pos += s.bytes.length
  })
  sealPage(page, PAGE_INTERNAL, pageNo, level, count ?? c, 0)
  return page
}

function sep(key: string, id: number): { bytes: number[] } {
  return { bytes: [...refLeb128(key.length), ...Buffer.from(key, 'latin1'), ...refLeb128(id)] }
}

t.test('internal layout checks', async t => {
  const P = 512
  const ok = rawInternal(P, 10, 1, [1, 2, 3], [5, 6, 7], [sep('a', 1), sep('a', 2)])
  t.same(decodeNode(ok), { level: 1, children: [1, 2, 3], counts: [5, 6, 7], sepKeys: ['a', 'a'], sepIds: [1, 2], count: 18 }, 'a hand-written node decodes')
  rejects(t, rawInternal(P, 10, 0, [1, 2], [1, 1], [sep('a', 1)]), /level/, 'level 0')
  rejects(t, rawInternal(P, 10, 1, [1], [1], []), /children/, 'one child')
  rejects(t, rawInternal(P, 10, 1, [], [], []), /children/, 'no children')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [sep('a', 1)], 0xffff), /overflow/, 'more children than the page holds')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [sep('a', 1)], Math.floor((P - 16 + 2) / 12) + 1), /overflow/, 'slots one past the page')
  rejects(t, rawInternal(P, 10, 1, [0, 2], [1, 1], [sep('a', 1)]), /below/, 'child page 0')
  rejects(t, rawInternal(P, 10, 1, [1, 10], [1, 1], [sep('a', 1)]), /below/, 'child = own page')
  rejects(t, rawInternal(P, 10, 1, [11, 2], [1, 1], [sep('a', 1)]), /below/, 'child above own page')
  rejects(t, rawInternal(P, 10, 1, [1, 0xffffffff], [1, 1], [sep('a', 1)]), /below/, 'child 2^32-1')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 0], [sep('a', 1)]), /count/, 'a child with 0 entries')
  const many = 40
  rejects(t, rawInternal(4096, 100, 1, Array.from({ length: many }, (_, i) => i + 1), Array(many).fill(2 ** 48 - 1),
    Array.from({ length: many - 1 }, (_, i) => sep(String.fromCharCode(65 + i), 0))), /overflow/, 'subtree counts summing past 2^53')
  rejects(t, rawInternal(P, 10, 1, [1, 2, 3], [1, 1, 1], [sep('b', 1), sep('a', 1)]), /order/, 'separators out of order by key')
  rejects(t, rawInternal(P, 10, 1, [1, 2, 3], [1, 1, 1], [sep('a', 2), sep('a', 1)]), /order/, 'separators out of order by rowId')
  rejects(t, rawInternal(P, 10, 1, [1, 2, 3], [1, 1, 1], [sep('a', 1), sep('a', 1)]), /order/, 'equal separators')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [{ ...sep('a', 1), slot: 16 }]), /offset|header/, 'separator slot into the child arrays')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [{ ...sep('a', 1), slot: 16 + 20 }]), /offset|header/, 'separator slot into its own slot')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [{ ...sep('a', 1), slot: 0xffff }]), /key length/, 'separator slot beyond the page')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [{ bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f] }]), /key length/, '9-byte separator key length')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [{ bytes: [...refLeb128(P)] }]), /key length/, 'separator key past the page')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [{ bytes: [1, 0x61, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0] }]), /rowId/, '9-byte separator rowId')
  rejects(t, rawInternal(P, 10, 1, [1, 2], [1, 1], [{ bytes: [1, 0x61, ...refLeb128(2 ** 53)] }]), /rowId/, 'separator rowId 2^53')
})

t.test('pages that are not nodes', async t => {
  for (const type of [0x00, 0x01, 0x04, 0x05, 0x7f, 0xff]) {
    const page = Buffer.alloc(512)
    sealPage(page, type, 3)
    rejects(t, page, /page type/, `type 0x${type.toString(16)}`)
  }
})
