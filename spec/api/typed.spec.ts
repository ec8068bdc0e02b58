/**
 * Typed keys and prefix queries through the public API: values come back as given and in their
 * natural order, `prefix` with the other range options and bounds, key sizes, refused values,
 * the encoding fixed in the file, and a stored key that does not decode.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { HDR_OFF_KEY_ENCODING, KEY_ENCODING_TYPED, PAGE_FILE_HEADER } from '../../lib/format/constants.ts'
import { sealPage } from '../../lib/format/page.ts'
import { Index, TailrootError } from '../../lib/index.ts'
import type { TypedKey } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { compareNatural, sameValue, showTyped } from '../helpers/typed-values.ts'

function code(fn: () => unknown): string {
  try { fn() } catch (err) { return err instanceof TailrootError ? `${err.code}: ${err.message}` : `foreign: ${String(err)}` }
  return 'no error'
}

const show = (pairs: Iterable<[TypedKey, number]>): string[] => [...pairs].map(([k, r]) => `${showTyped(k)}:${r}`)

const people: [string, string, number][] = [
  ['Smith', 'John', 1], ['Smith', 'Anna', 2], ['Smit', 'Xavier', 3], ['Smithe', 'Yann', 4], ['Jones', 'Zoe', 5],
  ['Smith', 'John', 6], ['Smith\u0000', 'Null', 7], ['Smith', 'Émile', 8], ['Smith', 'Zed', 9], ['Smiths', 'Ann', 10],
]

t.test('keys come back as given, in natural order', async t => {
  const file = path.join(tmpDir(t), 'typed.idx')
  const idx = Index.open(file, { keyEncoding: 'typed', pageSize: 512, durability: 'none' })
  const values: TypedKey[] = [
    null, true, false, -Infinity, Infinity, -1.5, 0, 0n, 1, 1n, 2 ** 60, 2n ** 60n + 1n, -(2n ** 100n), 0.1, new Date(86400000), new Date(-1),
    '', 'a', 'é', '😀', new Uint8Array([0, 1, 255]), [], ['a', 1], ['a', [1, 2]], [new Date(0), null],
  ]
  idx.transaction(tx => values.forEach((v, i) => tx.insert(v, i)))
  const got = [...idx.range()]
  const want = values.map((v, i) => [v, i] as [TypedKey, number]).sort((a, b) => compareNatural(a[0], b[0]))
  t.same(show(got), show(want), 'range() is in natural order')
  t.ok(got.every(([k, r]) => sameValue(k, values[r]!)), 'every key comes back equal to the value inserted')
  t.ok(got.find(([, r]) => r === values.indexOf(values[14]!))![0] instanceof Date, 'a Date comes back as a Date')
  t.same(idx.get(new Date(86400000)), [14], 'get by an equal Date')
  t.same(idx.get(1n), [9], '1n is its own key')
  t.same(idx.get(1), [8], '1 is its own key')
  t.same(idx.get(-0), [6], '-0 finds 0')
  t.same(idx.get(['a', [1, 2]]), [23], 'a nested tuple')
  t.equal(idx.countRange({ gte: 0, lt: 2 }), 5, 'numbers and bigints in one range: 0, 0n, 0.1, 1, 1n')
  t.same(show(idx.range({ gt: 1, lte: 2n ** 64n })), show([[1n, 9], [2 ** 60, 10], [2n ** 60n + 1n, 11]]), 'a range across numbers and bigints')
  idx.close()
  const again = Index.open(file, { readOnly: true })
  t.equal(again.keyEncoding, 'typed', 'the file knows its encoding')
  t.same(show(again.range()), show(want), 'the same after reopening')
  again.close()
  t.match(code(() => Index.open(file, { keyEncoding: 'utf8' })), /INVALID_ARGUMENT: .*keyEncoding is utf8 but the file was created with typed/)
})

t.test('prefix on tuples, with every range option', async t => {
  const idx = Index.open(path.join(tmpDir(t), 'people.idx'), { keyEncoding: 'typed', pageSize: 512, durability: 'none' })
  idx.transaction(tx => { for (const [last, first, id] of people) tx.insert([last, first], id) })
  idx.insert('Smith', 11) // a string, not a tuple
  idx.insert(['Smith'], 12)
  const smiths = ['["Smith"]:12', '["Smith", "Anna"]:2', '["Smith", "John"]:1', '["Smith", "John"]:6', '["Smith", "Zed"]:9', '["Smith", "Émile"]:8']
  t.same(show(idx.range({ prefix: ['Smith'] })), smiths, "every tuple that starts with 'Smith', in order, and no other")
  t.equal(idx.countRange({ prefix: ['Smith'] }), 6, 'countRange counts them')
  t.same(show(idx.range({ prefix: ['Smith'], reverse: true, limit: 2 })), smiths.slice().reverse().slice(0, 2), 'reverse and limit')
  t.same(show(idx.range({ prefix: ['Smith'], offset: 2, limit: 2 })), smiths.slice(2, 4), 'offset')
  t.same(show(idx.range({ prefix: ['Smith'], after: [['Smith', 'John'], 1] })), smiths.slice(3), 'after')
  t.same(show(idx.range({ prefix: ['Smith'], after: [['Smith', 'John'], 6], reverse: true })), smiths.slice(0, 3).reverse(), 'after, reverse')
  t.same(show(idx.range({ prefix: ['Smith', 'John'] })), smiths.slice(2, 4), 'a prefix of two elements')
  t.same(show(idx.range({ prefix: ['Smith', 'John', 1] })), [], 'a prefix longer than the keys')
  t.same(show(idx.range({ prefix: [] })).length, people.length + 1, '[] matches every tuple')
  t.same(show(idx.range({ prefix: 'Smi' })), ['"Smith":11'], 'a string prefix matches string keys only')
  // Bounds and prefix: the intersection.
  t.same(show(idx.range({ prefix: ['Smith'], gte: ['Smith', 'B'], lt: ['Smith', 'Z'] })), smiths.slice(2, 4), 'prefix and bounds intersect')
  t.equal(idx.countRange({ prefix: ['Smith'], gt: ['Smith', 'Zed'] }), 1, 'countRange intersects too')
  t.same(show(idx.range({ prefix: ['Smith'], lt: ['Jones'] })), [], 'disjoint: nothing')
  t.match(code(() => idx.range({ prefix: 5 as never })), /INVALID_ARGUMENT: .*people\.idx: prefix must be an array/)
  t.match(code(() => idx.countRange({ prefix: [NaN] })), /INVALID_ARGUMENT: .*prefix\[0\] is NaN/)
  idx.close()
})

t.test('prefix on utf8 and binary keys', async t => {
  const dir = tmpDir(t)
  const s = Index.open(path.join(dir, 's.idx'), { pageSize: 512, durability: 'none' })
  s.transaction(tx => { for (const k of ['San Diego', 'San', 'Santa Fe', 'Sao Paulo', 'São Paulo', 'Sa', 'Sam', 'Sanaa']) tx.insert(k, k.length) })
  t.same([...s.range({ prefix: 'San' })].map(p => p[0]), ['San', 'San Diego', 'Sanaa', 'Santa Fe'], 'strings that start with San')
  t.same([...s.range({ prefix: 'San', reverse: true, limit: 1 })].map(p => p[0]), ['Santa Fe'], 'reverse, limit')
  t.same([...s.range({ prefix: 'Sã' })].map(p => p[0]), ['São Paulo'], 'a non-ASCII prefix')
  t.equal(s.countRange({ prefix: '' }), 8, "'' matches every key")
  t.equal(s.countRange({ prefix: 'San', lt: 'Santa' }), 3, 'intersected with lt')
  t.match(code(() => s.range({ prefix: ['San'] as never })), /INVALID_ARGUMENT: .*prefix must be a string/)
  s.close()
  const b = Index.open(path.join(dir, 'b.idx'), { keyEncoding: 'binary', pageSize: 512, durability: 'none' })
  const keys = [[0xff], [0xff, 0xff], [0xff, 0xff, 0], [0xfe, 0xff], [0xff, 0xfe], [0]]
  b.transaction(tx => keys.forEach((k, i) => tx.insert(Buffer.from(k), i)))
  const hex = (it: Iterable<[Uint8Array, number]>): string[] => [...it].map(p => Buffer.from(p[0]).toString('hex'))
  t.same(hex(b.range({ prefix: new Uint8Array([0xff, 0xff]) })), ['ffff', 'ffff00'], 'a prefix of 0xFF bytes has no upper neighbour')
  t.same(hex(b.range({ prefix: Buffer.from([0xff]), reverse: true })), ['ffff00', 'ffff', 'fffe', 'ff'], 'reverse')
  t.same(hex(b.range({ prefix: Buffer.from([0xfe]) })), ['feff'], 'the next prefix up stops at 0xFF')
  b.close()
})

t.test('the encoded key is what the size limit bounds', async t => {
  const file = path.join(tmpDir(t), 'size.idx')
  const idx = Index.open(file, { keyEncoding: 'typed', pageSize: 512, durability: 'none' })
  const max = idx.maxKeyBytes
  t.equal(max, 220)
  t.equal(idx.insert('a'.repeat(max - 2), 1), true, 'a string of max − 2 characters: tag + bytes + end = max')
  t.match(code(() => idx.insert('a'.repeat(max - 1), 1)), /KEY_TOO_LARGE: .*key is 221 bytes/)
  t.match(code(() => idx.insert(['\u0000'.repeat(110)], 1)), /KEY_TOO_LARGE: .*224 bytes/, 'escaped bytes count')
  t.equal(idx.countRange({ gte: ['a'.repeat(1000)] }), 0, 'a bound may be longer than any key')
  t.match(code(() => idx.insert({} as never, 1)), /INVALID_ARGUMENT: .*size\.idx: key is an object/)
  t.match(code(() => idx.transaction(tx => tx.insert([1, undefined] as never, 1))), /INVALID_ARGUMENT: .*key\[1\] is undefined/)
  t.match(code(() => idx.get(NaN)), /INVALID_ARGUMENT: .*NaN/)
  t.match(code(() => idx.range({ gte: new Date(NaN) })), /INVALID_ARGUMENT: .*gte is an invalid Date/)
  t.equal(idx.sequence, 1, 'refused keys wrote nothing')
  idx.close()
})

t.test('Index.build with typed keys', async t => {
  const file = path.join(tmpDir(t), 'built.idx')
  const pairs: [TypedKey, number][] = people.map(([l, f, id]) => [[l, f], id])
  const idx = Index.build(file, pairs.slice().reverse(), { keyEncoding: 'typed', pageSize: 512, durability: 'none' })
  t.equal(idx.keyEncoding, 'typed')
  const want = pairs.slice().sort((a, b) => compareNatural(a[0], b[0]) || a[1] - b[1])
  t.same(show(idx.range()), show(want), 'unsorted input is sorted by the natural order')
  idx.close()
  t.match(code(() => Index.build(path.join(tmpDir(t), 'bad.idx'), [[[1, NaN], 1]], { keyEncoding: 'typed' })), /INVALID_ARGUMENT: .*NaN/)
})

t.test('a stored key that is not a typed key is CORRUPT where it is read', async t => {
  const file = path.join(tmpDir(t), 'forged.idx')
  const b = Index.open(file, { keyEncoding: 'binary', pageSize: 512 })
  b.insert(Buffer.from([0x10]), 1) // null
  b.insert(Buffer.from([0x50, 0x61]), 2) // a string without its end byte
  b.close()
  // Relabel the file as typed, with a good header checksum.
  const fd = fs.openSync(file, 'r+')
  const page = Buffer.alloc(512)
  fs.readSync(fd, page, 0, 512, 0)
  page[HDR_OFF_KEY_ENCODING] = KEY_ENCODING_TYPED
  sealPage(page, PAGE_FILE_HEADER, 0)
  fs.writeSync(fd, page, 0, 512, 0)
  fs.closeSync(fd)
  const idx = Index.open(file, { readOnly: true, keyEncoding: 'typed' })
  t.equal(idx.keyEncoding, 'typed')
  t.same(idx.get(null), [1], 'the valid key reads')
  t.match(code(() => [...idx.range()]), /CORRUPT: .*forged\.idx: a stored key is not a typed key \(typed key: ends inside a string/)
  idx.close()
})
