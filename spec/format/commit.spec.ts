/** Commit pages (FORMAT.md §8): round trips and every validity rule of decodeCommit. */
import t from 'tap'
import { COMMIT_DATA_SYNCED, PAGE_COMMIT, PAGE_LEAF, maxMetaBytes } from '../../lib/format/constants.ts'
import { EMPTY_COMMIT, NO_LOG, decodeCommit, encodeCommit } from '../../lib/format/commit.ts'
import type { Commit } from '../../lib/format/commit.ts'
import { sealPage } from '../../lib/format/page.ts'
import { Rng } from '../helpers/rng.ts'
import { refPageCrc } from './ref.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}`)
const rng = new Rng(seed)

function commit(over: Partial<Commit> = {}): Commit {
  return {
    page: 100, sequence: 7, root: 99, height: 3, flags: COMMIT_DATA_SYNCED, entryCount: 12345,
    prevCommit: 50, firstDataPage: 51, dataCrc: 0xdeadbeef, livePages: 40, timestamp: 1_700_000_000_000,
    meta: Buffer.from('hello'), ...NO_LOG, ...over,
  }
}

function randomCommit(pageSize: number): Commit {
  const page = 1 + rng.int(2 ** 32 - 1)
  const empty = rng.int(5) === 0
  const first = 1 + rng.int(page)
  const prev = rng.int(4) === 0 ? 0 : rng.int(first)
  const metaLen = rng.int(3) === 0 ? 0 : rng.int(maxMetaBytes(pageSize) + 1)
  return {
    page,
    sequence: 1 + Math.floor(rng.next() * (2 ** 53 - 1)),
    root: empty ? 0 : rng.int(page),
    height: empty ? 0 : 1 + rng.int(255),
    flags: rng.int(2),
    entryCount: empty ? 0 : 1 + Math.floor(rng.next() * (2 ** 53 - 2)),
    prevCommit: prev,
    firstDataPage: first,
    dataCrc: rng.int(2 ** 32),
    livePages: rng.int(2 ** 32),
    timestamp: Math.floor(rng.next() * 2 ** 53),
    meta: metaLen === 0 ? null : rng.bytes(metaLen),
    ...NO_LOG,
  }
}

/** Re-seals a patched commit page with its own header fields. */
function reseal(p: Buffer): Buffer {
  sealPage(p, p[0]!, p.readUInt32LE(8), p[1]!, p.readUInt16LE(2), p.readUInt32LE(12))
  return p
}

t.test('round trips', async t => {
  for (const pageSize of [512, 4096, 65536]) {
    for (let i = 0; i < 100; i++) {
      let c = randomCommit(pageSize)
      if (c.root === 0 && c.height !== 0) c = { ...c, height: 0 }
      const fileId = rng.bytes(16)
      const page = encodeCommit(c, fileId, pageSize)
      const label = `P=${pageSize} #${i} seed ${seed}`
      t.equal(page.length, pageSize)
      t.equal(page[0], PAGE_COMMIT, 'type')
      t.equal(page.readUInt32LE(8), c.page, 'pageNo')
      t.same([page[1], page.readUInt16LE(2), page.readUInt32LE(12)], [0, 0, 0], 'other header fields 0')
      t.equal(page.readUInt32LE(4), refPageCrc(page), 'CRC')
      t.ok(page.subarray(100 + (c.meta?.length ?? 0)).every(b => b === 0), 'zeros after meta')
      t.same(decodeCommit(page, c.page, fileId), c, `decodes to the same commit (${label})`)
    }
  }
  // meta of exactly the maximum length, at a page size where P − 100 < 1024 and where 1024 binds.
  for (const pageSize of [512, 1024, 2048]) {
    const max = maxMetaBytes(pageSize)
    t.equal(max, Math.min(1024, pageSize - 100))
    const c = commit({ meta: rng.bytes(max) })
    const fid = rng.bytes(16)
    t.same(decodeCommit(encodeCommit(c, fid, pageSize), c.page, fid), c, `maximal meta at ${pageSize}`)
  }
  // Boundary values that are valid.
  const fid = rng.bytes(16)
  for (const c of [
    commit({ firstDataPage: 100, root: 20 }), // appended nothing
    commit({ prevCommit: 50, firstDataPage: 51 }),
    commit({ prevCommit: 0, firstDataPage: 1 }),
    commit({ root: 99 }),
    commit({ root: 0, height: 0, entryCount: 0, livePages: 0 }), // empty tree
    commit({ sequence: 1 }),
    commit({ sequence: Number.MAX_SAFE_INTEGER, entryCount: Number.MAX_SAFE_INTEGER, timestamp: Number.MAX_SAFE_INTEGER }),
    commit({ meta: null }),
  ]) t.same(decodeCommit(encodeCommit(c, fid, 512), c.page, fid), c, `valid: ${JSON.stringify({ ...c, meta: c.meta?.length })}`)
})

t.test('EMPTY_COMMIT is the state of a file without commits', async t => {
  t.same({ ...EMPTY_COMMIT }, { page: 0, sequence: 0, root: 0, height: 0, flags: 0, entryCount: 0, prevCommit: 0, firstDataPage: 1, dataCrc: 0, livePages: 0, timestamp: 0, meta: null, ...NO_LOG })
  t.ok(Object.isFrozen(EMPTY_COMMIT))
})

t.test('version 1 layout: meta at offset 80, no change-record fields', async t => {
  const fid = rng.bytes(16)
  const c = commit({ meta: Buffer.from('v1 meta') })
  const page = encodeCommit(c, fid, 512, 1)
  t.equal(page.toString('latin1', 80, 87), 'v1 meta')
  t.ok(page.subarray(87).every(b => b === 0), 'zeros after meta')
  t.same(decodeCommit(page, c.page, fid, 1), c, 'round trip')
  t.equal(maxMetaBytes(512, 1), 432)
  t.throws(() => encodeCommit({ ...c, logHead: c.page, logRecords: 1, chainRecords: 1, inline: Buffer.from('x') }, fid, 512, 1), 'no change records in a version 1 file')
})

t.test('change-record fields (§10)', async t => {
  const fid = rng.bytes(16)
  const rt = (c: Commit): Commit | null => decodeCommit(encodeCommit(c, fid, 512), c.page, fid)
  const own = { logHead: 100, logPrev: 30, chainRecords: 12, logRecords: 5, logPages: 0, inline: Buffer.from('abc') }
  for (const [label, over] of [
    ['inline records continuing a chain', own],
    ['records in log pages, starting a chain', { ...own, logPrev: 0, chainRecords: 5, logPages: 2, inline: null }],
    ['no records of its own, a chain pending', { ...NO_LOG, logHead: 40, chainRecords: 9 }],
    ['a pending chain over an empty tree', { ...NO_LOG, logHead: 40, chainRecords: 9, root: 0, height: 0, entryCount: 3 }],
  ] as [string, Partial<Commit>][]) {
    const c = commit(over)
    t.same(rt(c), c, `valid: ${label}`)
  }
  for (const [label, over] of [
    ['records but logHead is not the page', { ...own, logHead: 99 }],
    ['records but logPrev not below the data', { ...own, logPrev: 51 }],
    ['chainRecords below logRecords', { ...own, chainRecords: 4 }],
    ['a chain start whose chainRecords differ', { ...own, logPrev: 0 }],
    ['records both inline and in pages', { ...own, logPages: 1 }],
    ['records in no place', { ...own, inline: null }],
    ['more log pages than data pages', { ...own, logPages: 50, inline: null }],
    ['no records but logPrev', { ...NO_LOG, logHead: 40, chainRecords: 9, logPrev: 3 }],
    ['no records but inline bytes', { ...NO_LOG, logHead: 40, chainRecords: 9, inline: Buffer.from('x') }],
    ['no records but log pages', { ...NO_LOG, logHead: 40, chainRecords: 9, logPages: 1 }],
    ['logHead within its own data', { ...NO_LOG, logHead: 60, chainRecords: 9 }],
    ['logHead without chainRecords', { ...NO_LOG, logHead: 40 }],
    ['chainRecords without logHead', { ...NO_LOG, chainRecords: 4 }],
    ['an empty tree with entries and nothing pending', { ...NO_LOG, root: 0, height: 0, entryCount: 3 }],
  ] as [string, Partial<Commit>][]) {
    t.equal(rt(commit(over)), null, `invalid: ${label}`)
  }
  // inlineLength beyond the page.
  const page = encodeCommit(commit(own), fid, 512)
  page.writeUInt16LE(512, 98)
  t.equal(decodeCommit(reseal(page), 100, fid), null, 'invalid: inline records past the page end')
})

t.test('decodeCommit returns null for invalid pages', async t => {
  const fid = rng.bytes(16)
  const good = encodeCommit(commit(), fid, 512)
  t.not(decodeCommit(good, 100, fid), null, 'the base page is valid')
  const invalid = (label: string, page: Buffer, pageNo = 100, fileId = fid): void => {
    t.equal(decodeCommit(page, pageNo, fileId), null, label)
  }
  const patched = (f: (p: Buffer) => void): Buffer => { const p = Buffer.from(good); f(p); return reseal(p) }
  const enc = (over: Partial<Commit>): Buffer => encodeCommit(commit(over), fid, 512)

  for (const type of [0, 1, 2, 3, 5, 0xff]) invalid(`page type ${type}`, patched(p => { p[0] = type }))
  let undetected = 0
  for (let i = 0; i < good.length; i++) {
    const p = Buffer.from(good)
    p[i]! ^= 1 << rng.int(8)
    if (decodeCommit(p, 100, fid) !== null) undetected++
  }
  t.equal(undetected, 0, `every flipped bit makes the page invalid (seed ${seed})`)
  invalid('read at another position', good, 101)
  invalid('read at position 0', good, 0)
  invalid('pageNo field says another page', patched(p => p.writeUInt32LE(101, 8)), 100)
  invalid('another file id', good, 100, rng.bytes(16))
  invalid('file id differing in its last byte', good, 100, Buffer.concat([fid.subarray(0, 15), Buffer.from([fid[15]! ^ 1])]))
  invalid('root = own page', enc({ root: 100 }))
  invalid('root above own page', enc({ root: 101 }))
  invalid('root 2^32-1', enc({ root: 0xffffffff }))
  invalid('root 0 with a height', enc({ root: 0, height: 2 }))
  invalid('a root with height 0', enc({ root: 5, height: 0 }))
  invalid('root 0 with entries', enc({ root: 0, height: 0, entryCount: 3 }))
  invalid('a root with no entries', enc({ entryCount: 0 }))
  invalid('sequence 0', enc({ sequence: 0 }))
  invalid('sequence 2^53', patched(p => p.writeBigUInt64LE(2n ** 53n, 16)))
  invalid('sequence 2^64-1', patched(p => p.writeBigUInt64LE(2n ** 64n - 1n, 16)))
  invalid('entryCount 2^53', patched(p => p.writeBigUInt64LE(2n ** 53n, 32)))
  invalid('timestamp 2^63', patched(p => p.writeBigUInt64LE(2n ** 63n, 56)))
  invalid('firstDataPage above own page', enc({ firstDataPage: 101 }))
  invalid('firstDataPage 0', enc({ firstDataPage: 0, prevCommit: 0 }))
  invalid('prevCommit = firstDataPage', enc({ prevCommit: 51, firstDataPage: 51 }))
  invalid('prevCommit above firstDataPage', enc({ prevCommit: 60, firstDataPage: 51 }))
  invalid('prevCommit above own page', enc({ prevCommit: 200, firstDataPage: 51 }))
  invalid('metaLength one above the maximum', patched(p => p.writeUInt16LE(maxMetaBytes(512) + 1, 30)))
  invalid('metaLength 0xffff', patched(p => p.writeUInt16LE(0xffff, 30)))
  // Node pages and zero pages are never commits.
  const leaf = Buffer.alloc(512)
  sealPage(leaf, PAGE_LEAF, 100, 0, 1, 1)
  invalid('a leaf page', leaf)
  invalid('a zero page', Buffer.alloc(512))
  // User bytes never sit at offset 0, but even a page full of 0x04 bytes is not a commit.
  invalid('a page of 0x04 bytes', Buffer.alloc(512, 4))
})

t.test('decodeCommit never throws', async t => {
  const fid = rng.bytes(16)
  const base = encodeCommit(commit(), fid, 512)
  const bad: string[] = []
  for (let i = 0; i < 5000; i++) {
    const p = rng.int(10) === 0 ? rng.bytes(512) : Buffer.from(base)
    const n = 1 + rng.int(6)
    for (let j = 0; j < n; j++) p[rng.int(rng.int(2) === 0 ? 80 : 512)] = rng.int(256)
    if (rng.int(2) === 0) p[0] = PAGE_COMMIT
    if (rng.int(4) !== 0) reseal(p)
    const pageNo = rng.int(3) === 0 ? rng.int(2 ** 32) : p.readUInt32LE(8)
    try {
      const c = decodeCommit(p, pageNo, rng.int(8) === 0 ? rng.bytes(16) : fid)
      if (c !== null) {
        const ok = c.page === pageNo && c.sequence >= 1 && Number.isSafeInteger(c.sequence) && c.root < c.page &&
          c.firstDataPage >= 1 && c.firstDataPage <= c.page && (c.prevCommit === 0 || c.prevCommit < c.firstDataPage) &&
          (c.meta === null || c.meta.length <= maxMetaBytes(512)) && Number.isSafeInteger(c.entryCount) && c.entryCount >= 0 &&
          Number.isSafeInteger(c.timestamp) && c.timestamp >= 0
        if (!ok) bad.push(`accepted an invalid commit ${JSON.stringify(c)}`)
      }
    } catch (err) {
      bad.push(`${String(err)} for ${p.toString('hex', 0, 96)}`)
    }
  }
  t.same(bad, [], `random commit pages decode to null or a valid commit (seed ${seed})`)
})
