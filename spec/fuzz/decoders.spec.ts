/**
 * The pure decoders against arbitrary bytes: decodeNode, decodeCommit, decodeHeader and decodeTypedKey are fed
 * random pages and mutations of valid ones (bit flips, truncations, slots pointing anywhere, huge
 * varints, bad counts and levels), with and without the CRC re-sealed after the mutation.
 * decodeNode must throw DecodeError or return a node that satisfies every invariant; decodeCommit
 * must return null or a valid commit; decodeHeader must return a header or a problem;
 * decodeTypedKey must throw DecodeError or return the one value whose encoding is those bytes.
 * Any other exception is a failure.
 *
 * Default: a few thousand cases per decoder. TAILROOT_SOAK=1: 100,000+ cases per decoder.
 * TAILROOT_SEED=n reruns one seed; every failure message carries the seed and the case number.
 */
import t from 'tap'
import { FORMAT_VERSION, maxMetaBytes, PAGE_COMMIT, PAGE_INTERNAL, PAGE_LEAF } from '../../lib/format/constants.ts'
import { NO_LOG, decodeCommit, encodeCommit } from '../../lib/format/commit.ts'
import { decodeHeader, encodeHeader, isHeaderProblem } from '../../lib/format/header.ts'
import { comparePair, decodeNode, encodeNode, internalSize, isLeaf, leafSize } from '../../lib/format/node.ts'
import type { TreeNode } from '../../lib/format/node.ts'
import { DecodeError, sealPage } from '../../lib/format/page.ts'
import { decodeTypedKey, encodeTypedKey } from '../../lib/format/typed-key.ts'
import { randomInternal, randomLeaf } from '../format/gen.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'
import { randomTyped, showTyped } from '../helpers/typed-values.ts'

const CASES = SOAK ? 120_000 : 4_000
const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}${SOAK ? ' (soak)' : ''}: rerun with TAILROOT_SEED=${seed}`)
const rng = new Rng(seed)

/** Every invariant a decoded node must satisfy, against its own page header. Returns problems. */
function nodeProblems(n: TreeNode, page: Buffer): string[] {
  const p: string[] = []
  const safe = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
  if (isLeaf(n)) {
    if (page[0] !== PAGE_LEAF) p.push('a leaf from a non-leaf page')
    if (page[1] !== 0) p.push('leaf level byte not 0')
    const g = page.readUInt16LE(2)
    if (n.keys.length !== g || n.ids.length !== g || g < 1) p.push(`groups ${n.keys.length}/${n.ids.length} vs header ${g}`)
    let sum = 0
    for (let i = 0; i < n.keys.length; i++) {
      const k = n.keys[i]!
      if (typeof k !== 'string' || /[^\x00-\xff]/.test(k) || k.length > page.length) p.push(`bad key ${i}`)
      if (i > 0 && !(n.keys[i - 1]! < k)) p.push(`keys ${i - 1}, ${i} not ascending`)
      const ids = n.ids[i]!
      if (!Array.isArray(ids) || ids.length < 1) { p.push(`group ${i} has no rowIds`); continue }
      for (let j = 0; j < ids.length; j++) {
        if (!safe(ids[j])) p.push(`group ${i} rowId ${j} = ${ids[j]} not a safe integer`)
        if (j > 0 && !(ids[j - 1]! < ids[j]!)) p.push(`group ${i} rowIds not ascending`)
      }
      sum += ids.length
    }
    if (n.count !== sum || n.count !== page.readUInt32LE(12)) p.push(`count ${n.count}, entries ${sum}, aux ${page.readUInt32LE(12)}`)
  } else {
    if (page[0] !== PAGE_INTERNAL) p.push('an internal node from a non-internal page')
    if (n.level !== page[1] || n.level < 1) p.push(`level ${n.level} vs header ${page[1]}`)
    const c = page.readUInt16LE(2)
    const self = page.readUInt32LE(8)
    if (n.children.length !== c || n.counts.length !== c || c < 2) p.push(`children ${n.children.length} vs header ${c}`)
    if (n.sepKeys.length !== c - 1 || n.sepIds.length !== c - 1) p.push('separator count')
    let sum = 0
    for (let i = 0; i < n.children.length; i++) {
      const ch = n.children[i]!
      if (!Number.isInteger(ch) || ch < 1 || ch >= self) p.push(`child ${i} page ${ch} not in [1, ${self})`)
      if (!safe(n.counts[i]) || n.counts[i]! < 1) p.push(`child ${i} count ${n.counts[i]}`)
      sum += n.counts[i]!
    }
    if (n.count !== sum || !safe(n.count)) p.push(`count ${n.count} vs sum ${sum}`)
    for (let i = 0; i < n.sepKeys.length; i++) {
      if (typeof n.sepKeys[i] !== 'string' || /[^\x00-\xff]/.test(n.sepKeys[i]!)) p.push(`separator key ${i}`)
      if (!safe(n.sepIds[i])) p.push(`separator rowId ${i} = ${n.sepIds[i]}`)
      if (i > 0 && comparePair(n.sepKeys[i - 1]!, n.sepIds[i - 1]!, n.sepKeys[i]!, n.sepIds[i]!) >= 0) p.push(`separators ${i - 1}, ${i} not ascending`)
    }
  }
  return p
}

function logical(n: TreeNode): unknown {
  return isLeaf(n) ? { level: 0, keys: n.keys, ids: n.ids, count: n.count }
    : { level: n.level, children: n.children, counts: n.counts, sepKeys: n.sepKeys, sepIds: n.sepIds, count: n.count }
}

function reseal(p: Buffer): void {
  if (p.length >= 16) sealPage(p, p[0]!, p.readUInt32LE(8), p[1]!, p.readUInt16LE(2), p.readUInt32LE(12))
}

function hugeVarint(): number[] {
  const n = 1 + rng.int(12)
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(0x80 | rng.int(128))
  if (rng.int(2) === 0) out.push(rng.int(128))
  return out
}

/** Applies 1-3 random mutations; returns a description for failure messages. */
function mutate(src: Buffer): { page: Buffer; what: string[] } {
  let page = Buffer.from(src)
  const what: string[] = []
  const muts = 1 + rng.int(3)
  for (let m = 0; m < muts; m++) {
    const len = page.length
    if (len === 0) break
    const kind = rng.int(12)
    switch (kind) {
      case 0: { const n = 1 + rng.int(8); for (let i = 0; i < n; i++) { const o = rng.int(len); page[o]! ^= 1 << rng.int(8) } what.push(`flip ${n} bits`); break }
      case 1: { const o = rng.int(Math.min(len, 64)); page[o] = rng.int(256); what.push(`byte ${o} = ${page[o]}`); break }
      case 2: { // a slot pointing anywhere
        const g = len >= 4 ? page.readUInt16LE(2) : 0
        const slotsAt = page[0] === PAGE_INTERNAL ? 16 + 10 * g : 16
        const i = rng.int(Math.max(1, g))
        const o = slotsAt + 2 * i
        const v = rng.pick([0, 1, 15, 16, 17, len - 1, len, len + 1, 0xffff, rng.int(len), rng.int(0x10000)])
        if (o + 2 <= len) { page.writeUInt16LE(v & 0xffff, o); what.push(`slot ${i} = ${v & 0xffff}`) }
        break
      }
      case 3: { // a huge or malformed varint somewhere, often where a slot points
        const g = len >= 4 ? page.readUInt16LE(2) : 0
        const slotsAt = page[0] === PAGE_INTERNAL ? 16 + 10 * g : 16
        const o0 = slotsAt + 2 * rng.int(Math.max(1, g))
        let at = o0 + 2 <= len && rng.int(2) === 0 ? page.readUInt16LE(o0) + rng.int(4) : rng.int(len)
        const v = hugeVarint()
        for (const b of v) { if (at < len) page[at++] = b }
        what.push(`varint ${Buffer.from(v).toString('hex')} at ${at - v.length}`)
        break
      }
      case 4: if (len >= 4) { const v = rng.pick([0, 1, 2, page.readUInt16LE(2) + 1, page.readUInt16LE(2) - 1, 0xffff, rng.int(0x10000)]) & 0xffff; page.writeUInt16LE(v, 2); what.push(`count = ${v}`) } break
      case 5: if (len >= 16) { const v = rng.pick([0, 1, page.readUInt32LE(12) + 1, Math.max(0, page.readUInt32LE(12) - 1), 0xffffffff, rng.int(2 ** 32)]) >>> 0; page.writeUInt32LE(v, 12); what.push(`aux = ${v}`) } break
      case 6: if (len >= 2) { page[1] = rng.pick([0, 1, 2, page[1]! + 1, 255, rng.int(256)]) & 0xff; what.push(`level = ${page[1]}`) } break
      case 7: { page[0] = rng.pick([0, 1, 2, 3, 4, 5, 255]); what.push(`type = ${page[0]}`); break }
      case 8: { // a child page number or subtree count
        if (len < 16 + 4) break
        const c = page.readUInt16LE(2)
        const i = rng.int(Math.max(1, c))
        if (rng.int(2) === 0 && 16 + 4 * i + 4 <= len) { const v = rng.pick([0, 1, page.readUInt32LE(8), page.readUInt32LE(8) + 1, 0xffffffff, rng.int(2 ** 32)]) >>> 0; page.writeUInt32LE(v, 16 + 4 * i); what.push(`child ${i} = ${v}`) }
        else if (16 + 4 * c + 6 * i + 6 <= len) { const v = rng.pick([0, 1, 2 ** 48 - 1, rng.int(2 ** 30)]); page.writeUIntLE(v, 16 + 4 * c + 6 * i, 6); what.push(`count ${i} = ${v}`) }
        break
      }
      case 9: { // copy a chunk from elsewhere in the page
        const n = 1 + rng.int(Math.min(64, len))
        const from = rng.int(len - n + 1)
        const to = rng.int(len - n + 1)
        page.copy(page, to, from, from + n)
        what.push(`copy ${n} bytes ${from} -> ${to}`)
        break
      }
      case 10: { const n = rng.pick([0, 1, 2, 4, 8, 12, 15, 16, 17, 24, 40, 63, 64, 79, 80, 81, rng.int(len + 1)]); page = Buffer.from(page.subarray(0, Math.min(n, len))); what.push(`truncate to ${page.length}`); break }
      default: { const o = rng.int(len); const n = 1 + rng.int(16); rng.bytes(n).copy(page, o); what.push(`${n} random bytes at ${o}`) }
    }
  }
  if (rng.int(2) === 0) { reseal(page); what.push('resealed') }
  return { page, what }
}

// ---- seed pages ---------------------------------------------------------------------------

const pageSizes = [512, 4096]
const nodePages: Buffer[] = []
for (const P of pageSizes) {
  for (let i = 0; i < 12; i++) {
    const pageNo = 2 + rng.int(1000)
    nodePages.push(encodeNode(randomLeaf(rng, P), pageNo, P))
    nodePages.push(encodeNode(randomInternal(rng, P, pageNo), pageNo, P))
  }
}
const fileId = rng.bytes(16)
const commitPages: { page: Buffer; pageNo: number }[] = []
for (const P of pageSizes) {
  for (let i = 0; i < 10; i++) {
    const pageNo = 10 + rng.int(1000)
    const empty = rng.int(4) === 0
    const first = 1 + rng.int(pageNo)
    const meta = rng.int(2) === 0 ? null : rng.bytes(rng.int(maxMetaBytes(P) + 1))
    commitPages.push({
      pageNo,
      page: encodeCommit({
        page: pageNo, sequence: 1 + rng.int(1e6), root: empty ? 0 : 1 + rng.int(pageNo - 1), height: empty ? 0 : 1 + rng.int(5), flags: rng.int(2),
        entryCount: empty ? 0 : 1 + rng.int(1e9), prevCommit: rng.int(first), firstDataPage: first, dataCrc: rng.int(2 ** 32),
        livePages: rng.int(1e6), timestamp: rng.int(2 ** 40), meta: meta && meta.length > 0 ? meta : null, ...NO_LOG,
      }, fileId, P),
    })
  }
}
const headerPages = pageSizes.map(P => encodeHeader({ formatVersion: 1, pageSize: P, keyEncoding: rng.int(2) ? 'utf8' : 'binary', unique: rng.int(2) === 1, fileId, createdAt: rng.int(2 ** 40) }))

t.test('seed pages are valid', async t => {
  for (const p of nodePages) t.same(nodeProblems(decodeNode(p), p), [])
  for (const c of commitPages) t.not(decodeCommit(c.page, c.pageNo, fileId), null)
  for (const h of headerPages) t.notOk(isHeaderProblem(decodeHeader(h)))
})

t.test('decodeNode on mutated and random pages', async t => {
  const failures: string[] = []
  let decoded = 0
  for (let i = 0; i < CASES && failures.length < 20; i++) {
    let page: Buffer
    let what: string[]
    if (rng.int(10) === 0) {
      page = rng.bytes(rng.pick([512, 4096, rng.int(600)]))
      if (page.length > 0) page[0] = rng.pick([PAGE_LEAF, PAGE_INTERNAL])
      if (page.length > 1 && page[0] === PAGE_LEAF && rng.int(2) === 0) page[1] = 0
      if (rng.int(2) === 0) reseal(page)
      what = ['random page']
    } else {
      ({ page, what } = mutate(rng.pick(nodePages)))
    }
    let n: TreeNode
    try {
      n = decodeNode(page)
    } catch (err) {
      if (!(err instanceof DecodeError)) failures.push(`case ${i} (seed ${seed}): ${String(err)} after ${what.join(', ')}; page ${page.toString('hex', 0, 48)}…`)
      continue
    }
    decoded++
    const probs = nodeProblems(n, page)
    if (probs.length > 0) { failures.push(`case ${i} (seed ${seed}): ${probs.join('; ')} after ${what.join(', ')}`); continue }
    // A decoded node re-encodes (when it fits) to a page that decodes to the same node.
    const size = isLeaf(n) ? leafSize(n) : internalSize(n)
    if (size <= page.length && page.length >= 512) {
      try {
        const again = decodeNode(encodeNode(n, page.readUInt32LE(8), page.length))
        if (JSON.stringify(logical(again)) !== JSON.stringify(logical(n))) failures.push(`case ${i} (seed ${seed}): re-encoding changed the node`)
      } catch (err) {
        failures.push(`case ${i} (seed ${seed}): re-encoding threw ${String(err)} after ${what.join(', ')}`)
      }
    }
  }
  t.same(failures, [], `decodeNode: DecodeError or a sound node, never anything else (${CASES} cases, seed ${seed})`)
  t.ok(decoded > CASES / 50, `some mutated pages still decode (${decoded}), so invariants were exercised`)
})

t.test('decodeCommit on mutated and random pages', async t => {
  const failures: string[] = []
  let valid = 0
  for (let i = 0; i < CASES && failures.length < 20; i++) {
    let page: Buffer
    let what: string[]
    let pageNo: number
    if (rng.int(10) === 0) {
      page = rng.bytes(rng.pick([512, 4096, rng.int(600)]))
      if (page.length > 0) page[0] = PAGE_COMMIT
      fileId.copy(page, 64, 0, Math.max(0, Math.min(16, page.length - 64)))
      if (rng.int(2) === 0) reseal(page)
      pageNo = page.length >= 12 ? page.readUInt32LE(8) : 0
      what = ['random page']
    } else {
      const src = rng.pick(commitPages)
      ;({ page, what } = mutate(src.page))
      pageNo = rng.int(4) === 0 ? rng.int(2 ** 32) : src.pageNo
    }
    const fid = rng.int(10) === 0 ? rng.bytes(16) : fileId
    try {
      const c = decodeCommit(page, pageNo, fid)
      if (c === null) continue
      valid++
      const ok = page.length >= 80 && c.page === pageNo && Number.isSafeInteger(c.sequence) && c.sequence >= 1 && c.root >= 0 && c.root < c.page &&
        (c.root === 0) === (c.height === 0) && (c.root === 0) === (c.entryCount === 0) &&
        c.firstDataPage >= 1 && c.firstDataPage <= c.page && (c.prevCommit === 0 || c.prevCommit < c.firstDataPage) &&
        Number.isSafeInteger(c.entryCount) && c.entryCount >= 0 && Number.isSafeInteger(c.timestamp) && c.timestamp >= 0 &&
        (c.meta === null || (c.meta.length >= 1 && c.meta.length <= maxMetaBytes(page.length)))
      if (!ok) failures.push(`case ${i} (seed ${seed}): accepted an invalid commit ${JSON.stringify({ ...c, meta: c.meta?.length })} after ${what.join(', ')}`)
    } catch (err) {
      failures.push(`case ${i} (seed ${seed}): ${String(err)} after ${what.join(', ')}; page length ${page.length}`)
    }
  }
  t.same(failures, [], `decodeCommit: null or a valid commit, never an exception (${CASES} cases, seed ${seed})`)
  t.ok(valid > 0, `some mutated commits are still valid (${valid})`)
})

t.test('decodeHeader on mutated and random bytes', async t => {
  const failures: string[] = []
  for (let i = 0; i < CASES && failures.length < 20; i++) {
    const { page, what } = rng.int(10) === 0 ? { page: rng.bytes(rng.int(5000)), what: ['random bytes'] } : mutate(rng.pick(headerPages))
    try {
      const h = decodeHeader(page)
      if (!isHeaderProblem(h)) {
        // A mutation may turn the version byte into another supported version (and reseal).
        const ok = h.formatVersion >= 1 && h.formatVersion <= FORMAT_VERSION && h.pageSize >= 512 && h.pageSize <= 65536 && h.pageSize <= page.length &&
          (h.keyEncoding === 'utf8' || h.keyEncoding === 'binary' || h.keyEncoding === 'typed') && h.fileId.length === 16 && Number.isSafeInteger(h.createdAt) && h.createdAt >= 0
        if (!ok) failures.push(`case ${i} (seed ${seed}): accepted ${JSON.stringify(h)} after ${what.join(', ')}`)
      } else if (!['NOT_AN_INDEX', 'VERSION', 'CORRUPT'].includes(h.code)) failures.push(`case ${i}: problem code ${h.code}`)
    } catch (err) {
      failures.push(`case ${i} (seed ${seed}): ${String(err)} after ${what.join(', ')}`)
    }
  }
  t.same(failures, [], `decodeHeader: a header or a problem, never an exception (${CASES} cases, seed ${seed})`)
})

/** A typed key's bytes, mutated: byte flips and insertions, cuts, splices of two keys. */
function mutateKey(src: Buffer): { bytes: Buffer; what: string } {
  const b = [...src]
  const x = rng.int(5)
  if (x === 0 && b.length > 0) { const i = rng.int(b.length); b[i] = rng.int(256); return { bytes: Buffer.from(b), what: `byte ${i} set` } }
  if (x === 1 && b.length > 0) { const i = rng.int(b.length); b[i] = b[i]! ^ (1 << rng.int(8)); return { bytes: Buffer.from(b), what: `bit flipped in byte ${i}` } }
  if (x === 2) { const i = rng.int(b.length + 1); b.splice(i, 0, rng.pick([0x00, 0x01, 0x02, 0x70, 0xff, rng.int(256)])); return { bytes: Buffer.from(b), what: `byte inserted at ${i}` } }
  if (x === 3) return { bytes: Buffer.from(b.slice(0, rng.int(b.length + 1))), what: 'cut' }
  const other = encodeTypedKey(randomTyped(rng))
  return { bytes: Buffer.concat([src.subarray(0, rng.int(src.length + 1)), other.subarray(rng.int(other.length + 1))]), what: 'spliced' }
}

t.test('decodeTypedKey on mutated and random bytes', async t => {
  const failures: string[] = []
  let decoded = 0
  for (let i = 0; i < CASES * 5 && failures.length < 20; i++) {
    const { bytes, what } = rng.int(10) === 0 ? { bytes: rng.bytes(rng.int(40)), what: 'random bytes' } : mutateKey(encodeTypedKey(randomTyped(rng, 3)))
    try {
      const v = decodeTypedKey(bytes)
      decoded++
      const again = encodeTypedKey(v)
      if (!again.equals(bytes)) failures.push(`case ${i} (seed ${seed}): ${bytes.toString('hex')} (${what}) decoded to ${showTyped(v)}, whose encoding is ${again.toString('hex')}`)
    } catch (err) {
      if (!(err instanceof DecodeError)) failures.push(`case ${i} (seed ${seed}): ${bytes.toString('hex')} (${what}): ${String(err)}`)
    }
  }
  t.same(failures, [], `decodeTypedKey: DecodeError or the value encoded by exactly those bytes (${CASES * 5} cases, seed ${seed})`)
  t.ok(decoded > CASES / 10, `some mutated keys still decode (${decoded})`)
})
