/**
 * Every error code the API can produce. Each case checks that the error is a TailrootError with
 * the right code (never a foreign RangeError/TypeError), that its message names the file, and
 * that the index is unchanged afterwards: same sequence, count and contents, and where it matters
 * the same file bytes (and no stray files, such as a .lock, in its directory).
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import type { ErrorCode } from '../../lib/index.ts'
import { FORMAT_VERSION, PAGE_FILE_HEADER } from '../../lib/format/constants.ts'
import { decodeCommit } from '../../lib/format/commit.ts'
import { decodeHeader, isHeaderProblem } from '../../lib/format/header.ts'
import { decodeNode, isLeaf } from '../../lib/format/node.ts'
import { sealPage } from '../../lib/format/page.ts'
import { tmpDir } from '../helpers/tmp.ts'

type Anything = any // eslint-disable-line @typescript-eslint/no-explicit-any

/** Calls fn and checks it throws a TailrootError with `code` whose message names `file`. */
function throwsCode(t: Test, fn: () => unknown, code: ErrorCode, file: string | null, label: string): TailrootError | null {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof TailrootError)) {
      t.fail(`${label}: threw a foreign exception ${String(err)}`)
      return null
    }
    t.equal(err.code, code, `${label}: ${code}${err.code === code ? '' : ` (got ${err.code}: ${err.message})`}`)
    t.equal(err.name, 'TailrootError', `${label}: error name`)
    if (file !== null) t.ok(err.message.includes(file), `${label}: the message names the file (${err.message})`)
    return err
  }
  t.fail(`${label}: did not throw (expected ${code})`)
  return null
}

function hash(file: string): string {
  return fs.existsSync(file) ? createHash('sha256').update(fs.readFileSync(file)).digest('hex') : 'absent'
}

function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort()
}

interface State { sequence: number; count: number; pairs: [unknown, number][]; meta: string | null }

function state(idx: Index<Anything>): State {
  return { sequence: idx.sequence, count: idx.count(), pairs: [...idx.range()], meta: idx.meta?.toString('hex') ?? null }
}

/** A fresh readOnly look at the file, independent of any handle's state. */
function stateOnDisk(file: string): State {
  const idx = Index.open<Anything>(file, { readOnly: true })
  try { return state(idx) } finally { idx.close() }
}

function sample(dir: string, name = 'i.idx', opts: Record<string, unknown> = {}): string {
  const file = path.join(dir, name)
  const idx = Index.open(file, { pageSize: 512, durability: 'none', ...opts })
  idx.transaction(tx => {
    for (let i = 0; i < 50; i++) tx.insert(`k${i % 17}`, i)
  }, { meta: Buffer.from('meta') })
  idx.insert('zeta', 1)
  idx.close()
  return file
}

/** Page numbers reachable from the newest commit, leaves first by level, read with the pure decoders. */
function treePages(file: string): { leaves: number[]; internals: number[]; root: number; commitPage: number; pageSize: number } {
  const bytes = fs.readFileSync(file)
  const h = decodeHeader(bytes)
  if (isHeaderProblem(h)) throw new Error(h.message)
  const P = h.pageSize
  let c = null
  for (let p = Math.floor(bytes.length / P) - 1; p > 0 && c === null; p--) c = decodeCommit(bytes.subarray(p * P, (p + 1) * P), p, h.fileId)
  if (c === null) throw new Error('no commit')
  const leaves: number[] = []
  const internals: number[] = []
  const visit = (p: number): void => {
    const n = decodeNode(bytes.subarray(p * P, (p + 1) * P))
    if (isLeaf(n)) leaves.push(p)
    else { internals.push(p); n.children.forEach(visit) }
  }
  visit(c.root)
  return { leaves, internals, root: c.root, commitPage: c.page, pageSize: P }
}

function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+')
  try {
    const b = Buffer.alloc(1)
    fs.readSync(fd, b, 0, 1, offset)
    b[0]! ^= 0x10
    fs.writeSync(fd, b, 0, 1, offset)
  } finally { fs.closeSync(fd) }
}

t.test('NOT_FOUND', async t => {
  const dir = tmpDir(t)
  const missing = path.join(dir, 'missing.idx')
  for (const opts of [{ readOnly: true }, { create: false }, { readOnly: true, create: false }]) {
    throwsCode(t, () => Index.open(missing, opts), 'NOT_FOUND', missing, `open ${JSON.stringify(opts)}`)
    t.same(listing(dir), [], `nothing created (no file, no .lock) for ${JSON.stringify(opts)}`)
  }
  const inMissingDir = path.join(dir, 'no', 'such', 'dir.idx')
  throwsCode(t, () => Index.open(inMissingDir, { readOnly: true }), 'NOT_FOUND', inMissingDir, 'readOnly in a missing directory')
  t.same(listing(dir), [], 'no directory created')
})

t.test('NOT_AN_INDEX: foreign files are never modified', async t => {
  const dir = tmpDir(t)
  const foreign: Record<string, Buffer> = {
    'text.txt': Buffer.from('this is a text file, not an index\n'.repeat(200)),
    'empty.bin': Buffer.alloc(0),
    'image.png': Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d4948445200000010000000100806000000', 'hex'), Buffer.alloc(5000, 7)]),
    'short.bin': Buffer.from([PAGE_FILE_HEADER, 0, 0, 0]),
    'zeros.bin': Buffer.alloc(8192),
  }
  for (const [name, bytes] of Object.entries(foreign)) {
    const file = path.join(dir, name)
    fs.writeFileSync(file, bytes)
    const before = listing(dir)
    for (const opts of [{}, { readOnly: true }, { create: false }, { durability: 'none' as const, pageSize: 512 }]) {
      throwsCode(t, () => Index.open(file, opts), 'NOT_AN_INDEX', file, `${name} opened ${JSON.stringify(opts)}`)
      t.ok(fs.readFileSync(file).equals(bytes), `${name} is byte-identical afterwards (${JSON.stringify(opts)})`)
      t.same(listing(dir), before, `no other file appeared next to ${name}`)
    }
    throwsCode(t, () => Index.verify(file), 'NOT_AN_INDEX', file, `verify ${name}`)
    throwsCode(t, () => Index.build(file, [['a', 1]]), 'INVALID_ARGUMENT', file, `build over ${name}`)
    t.ok(fs.readFileSync(file).equals(bytes), `${name} untouched by verify and build`)
  }
  t.same(listing(dir), Object.keys(foreign).sort(), 'no stray files')
})

t.test('VERSION: a file written by a newer format', async t => {
  const dir = tmpDir(t)
  const file = sample(dir)
  const lock = `${file}.lock`
  fs.rmSync(lock, { force: true })
  const page0 = fs.readFileSync(file).subarray(0, 512)
  const patch = (f: (p: Buffer) => void): void => {
    const p = Buffer.from(page0)
    f(p)
    sealPage(p, PAGE_FILE_HEADER, 0)
    const fd = fs.openSync(file, 'r+')
    fs.writeSync(fd, p, 0, p.length, 0)
    fs.closeSync(fd)
  }
  for (const [label, f] of [
    ['version 2', (p: Buffer) => p.writeUInt16LE(FORMAT_VERSION + 1, 24)],
    ['version 65535', (p: Buffer) => p.writeUInt16LE(0xffff, 24)],
    ['an unknown flag bit', (p: Buffer) => { p[28] = 0x04 }],
    ['an unknown key encoding', (p: Buffer) => { p[27] = 3 }],
  ] as const) {
    patch(f)
    const h = hash(file)
    for (const opts of [{}, { readOnly: true }, { create: false }]) {
      const err = throwsCode(t, () => Index.open(file, opts), 'VERSION', file, `${label}, opened ${JSON.stringify(opts)}`)
      if (label === 'version 2') t.match(err?.message ?? '', /version 2/, 'the message names the version')
      t.equal(hash(file), h, `${label}: file unchanged`)
      t.notOk(fs.existsSync(lock), `${label}: no lock file created`)
    }
    throwsCode(t, () => Index.verify(file), 'VERSION', file, `verify, ${label}`)
  }
  // Put the original header back: the file opens again with all its data.
  patch(() => {})
  t.same(stateOnDisk(file).pairs.length, 51, 'the restored file opens')
})

t.test('CORRUPT', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'c.idx')
  const keys = Array.from({ length: 3000 }, (_, i) => `key-${String(i).padStart(5, '0')}-${'é'.repeat(i % 5)}`)
  Index.build(file, keys.map((k, i) => [k, i] as [string, number]), { pageSize: 512 }).close()
  const tree = treePages(file)
  t.ok(tree.internals.length >= 2, 'the tree has internal levels')
  const pristine = fs.readFileSync(file)
  const P = tree.pageSize

  t.test('a damaged leaf: reads that touch it throw CORRUPT naming the page; others work', async t => {
    fs.writeFileSync(file, pristine)
    const leaf = tree.leaves[Math.floor(tree.leaves.length / 2)]!
    const leafNode = decodeNode(pristine.subarray(leaf * P, (leaf + 1) * P))
    if (!isLeaf(leafNode)) throw new Error('not a leaf')
    const inLeaf = Buffer.from(leafNode.keys[0]!, 'latin1').toString('utf8')
    const elsewhere = keys[0]!
    flipByte(file, leaf * P + 200)
    const h = hash(file)
    const idx = Index.open(file)
    t.equal(idx.count(), 3000, 'count() reads only the commit')
    t.same(idx.get(elsewhere), [0], 'a read on another leaf works')
    for (const [label, fn] of [
      ['get', () => idx.get(inLeaf)],
      ['has', () => idx.has(inLeaf, 1)],
      ['count(key)', () => idx.count(inLeaf)],
      ['countRange', () => idx.countRange({ gte: inLeaf })],
      ['range', () => [...idx.range()]],
      ['range reverse', () => [...idx.range({ reverse: true })]],
      ['range from the key', () => idx.range({ gte: inLeaf }).next()],
      ['insert', () => idx.insert(inLeaf, 99999)],
      ['delete', () => idx.delete(inLeaf, keys.indexOf(inLeaf))],
      ['transaction', () => idx.transaction(tx => { tx.insert('aaa', 1); tx.insert(inLeaf, 5) })],
      ['snapshot get', () => { const s = idx.snapshot(); try { return s.get(inLeaf) } finally { s.close() } }],
    ] as const) {
      const err = throwsCode(t, fn, 'CORRUPT', file, `${label} touching damaged leaf ${leaf}`)
      t.equal(err?.page, leaf, `${label}: err.page is the damaged page`)
      t.match(err?.message ?? '', new RegExp(`page ${leaf}\\b`), `${label}: the message names the page`)
    }
    t.equal(idx.sequence, 1, 'no commit was made')
    idx.close()
    t.equal(hash(file), h, 'failed writes left the file unchanged')
    const v = Index.verify(file)
    t.notOk(v.ok, 'verify reports the damage')
    t.ok(v.errors.some(e => e.page === leaf), 'verify names the damaged page')
  })

  t.test('a damaged root: every tree read throws CORRUPT', async t => {
    fs.writeFileSync(file, pristine)
    flipByte(file, tree.root * P + 20)
    const idx = Index.open(file, { readOnly: true })
    for (const k of [keys[0]!, keys[2999]!, 'zzz']) {
      const err = throwsCode(t, () => idx.get(k), 'CORRUPT', file, `get(${k})`)
      t.equal(err?.page, tree.root)
    }
    idx.close()
  })

  t.test('header damage: CORRUPT on open, file untouched', async t => {
    for (const offset of [4, 10, 40, 50, 100, P - 1]) {
      fs.writeFileSync(file, pristine)
      flipByte(file, offset)
      const h = hash(file)
      for (const opts of [{}, { readOnly: true }]) {
        const err = throwsCode(t, () => Index.open(file, opts), 'CORRUPT', file, `header byte ${offset}, ${JSON.stringify(opts)}`)
        t.equal(err?.page, 0, 'err.page is 0')
      }
      t.equal(hash(file), h, `header byte ${offset}: file unchanged`)
      const v = Index.verify(file)
      t.notOk(v.ok, `verify reports header byte ${offset}`)
      t.equal(v.errors[0]?.page, 0)
    }
  })

  t.test('a file cut inside page 0', async t => {
    fs.writeFileSync(file, pristine.subarray(0, 300))
    throwsCode(t, () => Index.open(file, { readOnly: true }), 'CORRUPT', file, 'truncated header page')
    t.equal(fs.statSync(file).size, 300, 'not extended')
  })
})

t.test('KEY_TOO_LARGE', async t => {
  const dir = tmpDir(t)
  for (const pageSize of [512, 4096]) {
    const file = sample(dir, `k${pageSize}.idx`, { pageSize })
    const idx = Index.open(file)
    const max = idx.maxKeyBytes
    t.equal(max, Math.floor((pageSize - 50) / 2) - 11)
    const before = state(idx)
    const h = hash(file)
    const big = 'a'.repeat(max + 1)
    // 3-byte characters: ⌈(max+1)/3⌉ of them exceed the limit in bytes with far fewer UTF-16 units.
    const euros = '€'.repeat(Math.ceil((max + 1) / 3))
    t.ok(euros.length <= max, 'the multi-byte key is short in UTF-16 units')
    const astral = '😀'.repeat(Math.ceil((max + 1) / 4))
    for (const [label, k] of [['ascii', big], ['3-byte UTF-8', euros], ['4-byte UTF-8', astral]] as const) {
      t.ok(Buffer.byteLength(k) > max)
      throwsCode(t, () => idx.insert(k, 1), 'KEY_TOO_LARGE', file, `insert ${label} at ${pageSize}`)
      throwsCode(t, () => idx.delete(k, 1), 'KEY_TOO_LARGE', file, `delete ${label} at ${pageSize}`)
      throwsCode(t, () => idx.transaction(tx => { tx.insert('fine', 1); tx.insert(k, 2) }), 'KEY_TOO_LARGE', file, `in a transaction, ${label}`)
    }
    // Caught inside a transaction, the transaction goes on.
    t.equal(idx.transaction(tx => {
      throwsCode(t, () => tx.insert(big, 1), 'KEY_TOO_LARGE', file, 'caught in a transaction')
      return tx.count()
    }), before.count, 'nothing changed in the transaction')
    t.same(state(idx), before, `index unchanged at ${pageSize}`)
    t.equal(hash(file), h, `file unchanged at ${pageSize}`)
    // Exactly the maximum works, also when made of multi-byte characters.
    const exact = '€'.repeat(Math.floor(max / 3)) + 'a'.repeat(max % 3)
    t.equal(Buffer.byteLength(exact), max)
    t.equal(idx.insert(exact, 7), true, 'a key of exactly maxKeyBytes is accepted')
    t.equal(idx.insert('a'.repeat(max), 8), true)
    t.same(idx.get(exact), [7])
    t.same(idx.get('a'.repeat(max)), [8])
    idx.close()
    t.same(stateOnDisk(file).count, before.count + 2)
  }
  // Binary keys and build.
  const bfile = path.join(dir, 'bin.idx')
  const b = Index.open<Buffer>(bfile, { keyEncoding: 'binary', pageSize: 512, durability: 'none' })
  throwsCode(t, () => b.insert(Buffer.alloc(221), 1), 'KEY_TOO_LARGE', bfile, 'binary key of 221 bytes')
  t.equal(b.insert(Buffer.alloc(220, 0xff), 1), true, 'binary key of 220 bytes')
  t.equal(b.sequence, 1)
  b.close()
  const built = path.join(dir, 'built.idx')
  throwsCode(t, () => Index.build(built, [['a', 1], ['b'.repeat(221), 2]], { pageSize: 512 }), 'KEY_TOO_LARGE', built, 'build with a large key')
  t.notOk(fs.existsSync(built), 'the failed build left no file')
  t.same(listing(dir).filter(n => n.startsWith('built')), [], 'nor a temporary file')
})

t.test('INVALID_ARGUMENT', async t => {
  const dir = tmpDir(t)
  const file = sample(dir)
  const bfile = path.join(dir, 'b.idx')
  const b0 = Index.open<Buffer>(bfile, { keyEncoding: 'binary', pageSize: 512, durability: 'none' })
  b0.insert(Buffer.from([1, 2]), 3)
  b0.close()

  t.test('bad keys and rowIds', async t => {
    const idx = Index.open<Anything>(file, { durability: 'none' })
    const b = Index.open<Anything>(bfile, { durability: 'none' })
    const before = state(idx)
    const bBefore = state(b)
    const h = hash(file)
    const hb = hash(bfile)
    const badUtf8Keys: [string, unknown][] = [
      ['number', 1], ['null', null], ['undefined', undefined], ['object', {}], ['Buffer', Buffer.from('a')],
      ['array', ['a']], ['bigint', 1n], ['symbol', Symbol('k')], ['boolean', true],
      ['lone high surrogate', '\uD800'], ['lone low surrogate then x', '\uDC00x'], ['high surrogate inside', 'a\uD83Db'],
      ['reversed pair', '\uDE00\uD83D'], ['high surrogate at the end', 'abc\uDBFF'],
    ]
    for (const [label, k] of badUtf8Keys) {
      const L = `utf8 index, key ${label}`
      throwsCode(t, () => idx.insert(k, 1), 'INVALID_ARGUMENT', file, `${L}: insert`)
      throwsCode(t, () => idx.delete(k, 1), 'INVALID_ARGUMENT', file, `${L}: delete`)
      throwsCode(t, () => idx.get(k), 'INVALID_ARGUMENT', file, `${L}: get`)
      throwsCode(t, () => idx.has(k), 'INVALID_ARGUMENT', file, `${L}: has`)
      throwsCode(t, () => idx.has(k, 1), 'INVALID_ARGUMENT', file, `${L}: has with rowId`)
      if (k !== undefined) throwsCode(t, () => idx.count(k), 'INVALID_ARGUMENT', file, `${L}: count`)
      // An undefined bound or count key means "none" (plain options semantics), so those are valid.
      if (k !== undefined) throwsCode(t, () => idx.range({ gte: k }), 'INVALID_ARGUMENT', file, `${L}: range gte`)
      throwsCode(t, () => idx.range({ after: [k, 1] }), 'INVALID_ARGUMENT', file, `${L}: range after`)
      if (k !== undefined) throwsCode(t, () => idx.countRange({ lt: k }), 'INVALID_ARGUMENT', file, `${L}: countRange`)
      throwsCode(t, () => idx.transaction(tx => tx.insert(k, 1)), 'INVALID_ARGUMENT', file, `${L}: tx.insert`)
    }
    for (const [label, k] of [['string', 'a'], ['number', 1], ['array of bytes', [1, 2]], ['null', null], ['ArrayBuffer', new ArrayBuffer(2)]] as [string, unknown][]) {
      throwsCode(t, () => b.insert(k, 1), 'INVALID_ARGUMENT', bfile, `binary index, key ${label}: insert`)
      throwsCode(t, () => b.get(k), 'INVALID_ARGUMENT', bfile, `binary index, key ${label}: get`)
      throwsCode(t, () => b.range({ lte: k }), 'INVALID_ARGUMENT', bfile, `binary index, key ${label}: range`)
    }
    const badIds: [string, Anything][] = [
      ['-1', -1], ['1.5', 1.5], ['NaN', NaN], ['2^53', 2 ** 53], ['Infinity', Infinity], ['-0.5', -0.5],
      ["'1'", '1'], ['bigint 1n', 1n], ['null', null], ['undefined', undefined], ['object', { valueOf: () => 1 }], ['2^64', 2 ** 64],
    ]
    for (const [label, r] of badIds) {
      throwsCode(t, () => idx.insert('k1', r), 'INVALID_ARGUMENT', file, `rowId ${label}: insert`)
      throwsCode(t, () => idx.delete('k1', r), 'INVALID_ARGUMENT', file, `rowId ${label}: delete`)
      if (r !== undefined) throwsCode(t, () => idx.has('k1', r), 'INVALID_ARGUMENT', file, `rowId ${label}: has`)
      throwsCode(t, () => idx.range({ after: ['k1', r] }), 'INVALID_ARGUMENT', file, `rowId ${label}: range after`)
      throwsCode(t, () => idx.transaction(tx => { tx.insert('fresh', 1); tx.insert('k1', r) }), 'INVALID_ARGUMENT', file, `rowId ${label}: tx.insert`)
      throwsCode(t, () => b.insert(Buffer.from('x'), r), 'INVALID_ARGUMENT', bfile, `rowId ${label}: binary insert`)
    }
    t.same(state(idx), before, 'utf8 index unchanged')
    t.same(state(b), bBefore, 'binary index unchanged')
    t.equal(hash(file), h, 'utf8 file unchanged')
    t.equal(hash(bfile), hb, 'binary file unchanged')
    // The boundaries that are valid.
    t.equal(idx.insert('\uD83D\uDE00', 0), true, 'a surrogate pair is fine')
    t.equal(idx.insert('k1', Number.MAX_SAFE_INTEGER), true, 'rowId 2^53-1 is fine')
    t.same(idx.get('\uD83D\uDE00'), [0])
    t.equal(b.insert(new Uint8Array([9, 9]), 0), true, 'a Uint8Array key is fine')
    idx.close()
    b.close()
  })

  t.test('options that contradict the file', async t => {
    const h = hash(file)
    fs.rmSync(`${file}.lock`, { force: true })
    const before = listing(dir)
    for (const opts of [{ unique: true }, { keyEncoding: 'binary' as const }, { pageSize: 4096 }, { pageSize: 1024 }]) {
      throwsCode(t, () => Index.open(file, opts), 'INVALID_ARGUMENT', file, `reopen with ${JSON.stringify(opts)}`)
      throwsCode(t, () => Index.open(file, { ...opts, readOnly: true }), 'INVALID_ARGUMENT', file, `reopen readOnly with ${JSON.stringify(opts)}`)
    }
    throwsCode(t, () => Index.open(bfile, { keyEncoding: 'utf8' }), 'INVALID_ARGUMENT', bfile, 'binary file opened as utf8')
    const u = path.join(dir, 'u.idx')
    const ui = Index.open(u, { unique: true, durability: 'none' })
    ui.insert('only', 1)
    ui.close()
    throwsCode(t, () => Index.open(u, { unique: false }), 'INVALID_ARGUMENT', u, 'unique file opened non-unique')
    t.equal(hash(file), h, 'file unchanged')
    t.same(listing(dir), [...before, 'u.idx', 'u.idx.lock'].sort(), 'no lock or other file created by the refused opens')
    // Options that match are fine.
    Index.open(file, { unique: false, keyEncoding: 'utf8', pageSize: 512, readOnly: true }).close()
  })

  t.test('bad options', async t => {
    const sub = path.join(dir, 'opts')
    fs.mkdirSync(sub)
    const fresh = path.join(sub, 'new.idx')
    const badOpen: unknown[] = [
      { pageSize: 1000 }, { pageSize: 256 }, { pageSize: 131072 }, { pageSize: 0 }, { pageSize: '4096' }, { pageSize: 4096.5 },
      { pagesize: 4096 }, { uniq: true }, { timeout: 5 }, { unique: 'yes' }, { readOnly: 1 }, { create: 'no' },
      { keyEncoding: 'ascii' }, { durability: 'sometimes' }, { lockTimeoutMs: -1 }, { lockTimeoutMs: NaN }, { cacheBytes: -5 },
      { maxStalenessMs: Infinity }, { vfs: 3 }, null, 'options', 7, [],
      { readOnly: true, create: true }, // a contradiction: a readOnly open never creates
    ]
    for (const o of badOpen) {
      throwsCode(t, () => Index.open(fresh, o as Anything), 'INVALID_ARGUMENT', fresh, `open with ${JSON.stringify(o)}`)
      throwsCode(t, () => Index.open(file, o as Anything), 'INVALID_ARGUMENT', file, `open existing with ${JSON.stringify(o)}`)
    }
    t.same(listing(sub), [], 'nothing created by refused opens')
    const badBuild: unknown[] = [{ pageSize: 1000 }, { fill: 2 }, { fill: 0.1 }, { fil: 1 }, { create: true }, { readOnly: true }, null]
    for (const o of badBuild) {
      throwsCode(t, () => Index.build(fresh, [['a', 1]], o as Anything), 'INVALID_ARGUMENT', fresh, `build with ${JSON.stringify(o)}`)
    }
    for (const entries of [null, 5, [['a']], [['a', 1, 2]], ['ab'], [[1, 1]], [['a', -1]]]) {
      throwsCode(t, () => Index.build(fresh, entries as Anything), 'INVALID_ARGUMENT', fresh, `build from ${JSON.stringify(entries)}`)
    }
    t.same(listing(sub), [], 'nothing created by refused builds')
    for (const p of ['', 5, null, undefined]) {
      throwsCode(t, () => Index.open(p as Anything), 'INVALID_ARGUMENT', null, `open(${JSON.stringify(p)})`)
      throwsCode(t, () => Index.verify(p as Anything), 'INVALID_ARGUMENT', null, `verify(${JSON.stringify(p)})`)
    }
  })

  t.test('bad range options', async t => {
    const idx = Index.open(file, { readOnly: true })
    const before = state(idx)
    const badRange: unknown[] = [
      { gt: 'a', gte: 'a' }, { lt: 'z', lte: 'z' }, { offset: -1 }, { offset: 1.5 }, { offset: '1' }, { offset: NaN }, { limit: -1 },
      { limit: 0.5 }, { reverse: 'yes' }, { reverse: 1 }, { start: 'a' }, { after: 'k1' }, { after: ['k1'] }, { after: ['k1', 1, 2] },
      { after: ['k1', -1] }, { after: { 0: 'k1', 1: 1, length: 2 } }, null, 'a', 5,
    ]
    for (const o of badRange) throwsCode(t, () => idx.range(o as Anything), 'INVALID_ARGUMENT', file, `range(${JSON.stringify(o)})`)
    for (const o of [{ gt: 'a', gte: 'a' }, { offset: 1 }, { limit: 1 }, { reverse: true }, { after: ['a', 1] }, null, 'a']) {
      throwsCode(t, () => idx.countRange(o as Anything), 'INVALID_ARGUMENT', file, `countRange(${JSON.stringify(o)})`)
    }
    t.same(state(idx), before)
    // Valid edge values.
    t.same([...idx.range({ limit: 0 })], [], 'limit 0')
    t.same([...idx.range({ offset: 10 ** 9 })], [], 'offset past the end')
    t.equal([...idx.range({ limit: Infinity })].length, before.count, 'limit Infinity')
    idx.close()
  })

  t.test('transactions used wrongly', async t => {
    const idx = Index.open(file, { durability: 'none' })
    const before = state(idx)
    const h = hash(file)
    throwsCode(t, () => idx.transaction(async tx => { tx.insert('async', 1); await Promise.resolve() }), 'INVALID_ARGUMENT', file, 'async callback')
    throwsCode(t, () => idx.transaction(tx => { tx.insert('thenable', 1); return { then() {} } }), 'INVALID_ARGUMENT', file, 'callback returning a thenable')
    throwsCode(t, () => idx.transaction('nope' as Anything), 'INVALID_ARGUMENT', file, 'not a function')
    throwsCode(t, () => idx.transaction(undefined as Anything), 'INVALID_ARGUMENT', file, 'no callback')
    // A nested call on the same handle: uncaught, the outer transaction rolls back.
    throwsCode(t, () => idx.transaction(tx => { tx.insert('outer', 1); idx.transaction(() => 0) }), 'INVALID_ARGUMENT', file, 'nested transaction')
    throwsCode(t, () => idx.transaction(tx => { tx.insert('outer', 1); idx.insert('inner', 1) }), 'INVALID_ARGUMENT', file, 'autocommit insert inside a transaction')
    throwsCode(t, () => idx.transaction(tx => { tx.insert('outer', 1); idx.delete('k1', 1) }), 'INVALID_ARGUMENT', file, 'autocommit delete inside a transaction')
    throwsCode(t, () => idx.transaction(tx => { tx.insert('outer', 1); idx.close() }), 'INVALID_ARGUMENT', file, 'close inside a transaction')
    throwsCode(t, () => idx.transaction(tx => { tx.insert('outer', 1) }, { meta: 'text' as Anything }), 'INVALID_ARGUMENT', file, 'meta not bytes')
    throwsCode(t, () => idx.transaction(tx => { tx.insert('outer', 1) }, { meta: Buffer.alloc(413) }), 'INVALID_ARGUMENT', file, 'meta one byte too long at 512')
    throwsCode(t, () => idx.transaction(tx => { tx.insert('outer', 1) }, { metadata: Buffer.from('m') } as Anything), 'INVALID_ARGUMENT', file, 'the old option name')
    t.same(state(idx), before, 'nothing was written')
    t.equal(hash(file), h, 'file unchanged')
    // Caught nested call: the outer transaction goes on and commits alone.
    idx.transaction(tx => {
      tx.insert('outer', 1)
      throwsCode(t, () => idx.insert('inner', 1), 'INVALID_ARGUMENT', file, 'caught nested insert')
    })
    t.equal(idx.sequence, before.sequence + 1)
    t.same(idx.get('outer'), [1])
    t.same(idx.get('inner'), [])
    t.same(idx.get('async'), [], 'the async callback wrote nothing')
    t.same(idx.get('thenable'), [])
    idx.transaction(() => {}, { meta: Buffer.alloc(412, 1) })
    t.equal(idx.meta?.length, 412, 'meta of exactly the maximum is fine')
    idx.close()
  })
})

t.test('UNIQUE_VIOLATION', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'u.idx')
  const idx = Index.open(file, { unique: true, pageSize: 512, durability: 'none' })
  t.equal(idx.insert('k', 1), true)
  t.equal(idx.insert('é', 2), true)
  const before = state(idx)
  const h = hash(file)
  throwsCode(t, () => idx.insert('k', 2), 'UNIQUE_VIOLATION', file, 'second rowId, autocommit')
  throwsCode(t, () => idx.insert('é', 1), 'UNIQUE_VIOLATION', file, 'second rowId of a non-ASCII key')
  t.equal(idx.insert('k', 1), false, 'the same pair again is a no-op, not a violation')
  throwsCode(t, () => idx.transaction(tx => { tx.insert('new', 5); tx.insert('k', 3) }), 'UNIQUE_VIOLATION', file, 'uncaught in a transaction')
  throwsCode(t, () => idx.transaction(tx => { tx.insert('n', 1); tx.insert('n', 2) }), 'UNIQUE_VIOLATION', file, 'against a pending insert')
  t.same(state(idx), before, 'nothing written')
  t.equal(hash(file), h, 'file unchanged')
  const out = idx.transaction(tx => {
    tx.insert('m', 7)
    throwsCode(t, () => tx.insert('k', 9), 'UNIQUE_VIOLATION', file, 'caught in a transaction')
    t.same(tx.get('k'), [1], 'the failed insert left no trace in the transaction')
    tx.insert('p', 8)
    tx.delete('é', 2)
    tx.insert('é', 3) // after deleting its rowId, the key may take another
    return tx.count()
  })
  t.equal(out, 4)
  t.same([...idx.range()], [['k', 1], ['m', 7], ['p', 8], ['é', 3]], 'the transaction committed its other changes')
  t.equal(idx.sequence, before.sequence + 1)
  idx.close()
  const built = path.join(dir, 'built.idx')
  throwsCode(t, () => Index.build(built, [['a', 1], ['a', 2]], { unique: true }), 'UNIQUE_VIOLATION', built, 'build with a duplicate key')
  t.notOk(fs.existsSync(built), 'the failed build left no file')
  t.same(listing(dir), ['u.idx', 'u.idx.lock'], 'nor a temporary file')
})

const NOBODY = { uid: 65534, gid: 65534 }

/**
 * Which of `paths` the user cannot read (a directory: list and enter), as a phrase, or null when
 * it can read them all. Checked by a plain node child running as that user.
 */
function unreadableBy(user: { uid: number; gid: number }, paths: string[], env: NodeJS.ProcessEnv): string | null {
  const probe = `
    const fs = require('node:fs')
    const bad = []
    for (const p of JSON.parse(process.argv[1])) {
      try { fs.accessSync(p, fs.statSync(p).isDirectory() ? fs.constants.R_OK | fs.constants.X_OK : fs.constants.R_OK) }
      catch (e) { bad.push(p + ' (' + e.code + ')') }
    }
    console.log(JSON.stringify(bad))`
  const res = spawnSync(process.execPath, ['-e', probe, JSON.stringify(paths)], { ...user, encoding: 'utf8', cwd: '/', env })
  if (res.error) return `${process.execPath} (running it failed: ${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`
  if (res.status !== 0) return `what node needs to start (${res.stderr.trim().split('\n')[0] ?? ''})`
  const bad = JSON.parse(res.stdout.trim() || '[]') as string[]
  return bad.length === 0 ? null : bad.join(', ')
}

/** The READ_ONLY checks on a file the process cannot write, in a child running as 'nobody'. */
async function readOnlyAsNobody(t: Test, dir: string, file: string, expected: unknown): Promise<void> {
  fs.chmodSync(dir, 0o755)
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const lib = fileURLToPath(new URL('../../lib/index.ts', import.meta.url))
  // The child needs neither the test runner's loaders nor anything else from NODE_OPTIONS.
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir }
  delete env.NODE_OPTIONS
  // In a checkout inside a directory only its owner may enter, 'nobody' can read neither the
  // checkout nor its node_modules: then only this check is skipped, with the reason.
  const unreadable = unreadableBy(NOBODY, [root, lib, file], env)
  const skip = unreadable === null ? false
    : `the user nobody cannot read ${unreadable}, which this check needs (a checkout in a private directory); run the tests from a directory other users can read to include it`
  await t.test('readOnly reads of an unwritable file in an unprivileged process', { skip }, async t => {
    const script = `
      import { Index } from ${JSON.stringify(lib)}
      import fs from 'node:fs'
      let writable = true
      try { fs.openSync(${JSON.stringify(file)}, 'r+') } catch (e) { writable = e.code !== 'EACCES' }
      const idx = Index.open(${JSON.stringify(file)}, { readOnly: true })
      let writeErr = null
      try { idx.insert('x', 1) } catch (e) { writeErr = e.code }
      let rwErr = null
      try { Index.open(${JSON.stringify(file)}).close() } catch (e) { rwErr = e.code }
      console.log(JSON.stringify({ writable, pairs: [...idx.range()], writeErr, rwErr }))
      idx.close()`
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { ...NOBODY, encoding: 'utf8', cwd: root, env })
    t.equal(res.status, 0, `child ran (stderr: ${res.stderr})`)
    const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { writable: boolean; pairs: unknown; writeErr: string; rwErr: string }
    t.equal(out.writable, false, 'the child cannot open the file for writing')
    t.same(out.pairs, expected, 'readOnly reads of a 0444 file work')
    t.equal(out.writeErr, 'READ_ONLY', 'writes are refused with READ_ONLY')
    t.equal(out.rwErr, 'IO', 'a writable open of the unwritable file is an IO error')
  })
}

t.test('READ_ONLY', async t => {
  const dir = tmpDir(t)
  const file = sample(dir)
  fs.rmSync(`${file}.lock`)
  const h = hash(file)
  const idx = Index.open(file, { readOnly: true })
  t.equal(idx.readOnly, true)
  const before = state(idx)
  throwsCode(t, () => idx.insert('new', 1), 'READ_ONLY', file, 'insert')
  throwsCode(t, () => idx.insert('k1', 1), 'READ_ONLY', file, 'insert of a present pair')
  throwsCode(t, () => idx.delete('k1', 1), 'READ_ONLY', file, 'delete')
  throwsCode(t, () => idx.delete('absent', 1), 'READ_ONLY', file, 'delete of an absent pair')
  throwsCode(t, () => idx.transaction(() => 1), 'READ_ONLY', file, 'empty transaction')
  throwsCode(t, () => idx.transaction(() => 1, { meta: Buffer.from('m') }), 'READ_ONLY', file, 'a transaction given meta')
  throwsCode(t, () => idx.transaction(() => 1, { meta: null }), 'READ_ONLY', file, 'a transaction given meta: null')
  t.same(state(idx), before, 'reads still work and see the same index')
  t.equal(idx.refresh(), false)
  idx.close()
  t.equal(hash(file), h, 'file bytes unchanged')
  t.same(listing(dir), ['i.idx'], 'no lock file created')

  // A readOnly handle works on a file the process cannot write.
  fs.chmodSync(file, 0o444)
  const expected = before.pairs
  if (process.getuid?.() === 0) {
    // Running as root, permission bits do not stop this process from writing, so the check would
    // prove nothing here: the reads run in a child process as the unprivileged user 'nobody'.
    await readOnlyAsNobody(t, dir, file, expected)
  } else {
    const ro = Index.open(file, { readOnly: true })
    t.same([...ro.range()], expected, 'readOnly reads of a 0444 file work')
    throwsCode(t, () => ro.insert('x', 1), 'READ_ONLY', file, 'write on the 0444 file')
    ro.close()
    throwsCode(t, () => Index.open(file), 'IO', file, 'a writable open of the unwritable file')
  }
  t.equal(hash(file), h, 'file bytes unchanged')
  t.same(listing(dir), ['i.idx'], 'still no lock file')
})

t.test('CLOSED', async t => {
  const dir = tmpDir(t)
  const file = sample(dir)

  t.test('calls after close()', async t => {
    const idx = Index.open(file, { durability: 'none' })
    const snap = idx.snapshot()
    const it = idx.range()
    t.same(it.next().value, ['k0', 0])
    const h = hash(file)
    idx.close()
    idx.close() // idempotent
    const calls: [string, () => unknown][] = [
      ['get', () => idx.get('k1')], ['has', () => idx.has('k1')], ['has pair', () => idx.has('k1', 1)], ['count', () => idx.count()],
      ['count key', () => idx.count('k1')], ['countRange', () => idx.countRange({})], ['range', () => idx.range()],
      ['insert', () => idx.insert('a', 1)], ['delete', () => idx.delete('k1', 1)], ['transaction', () => idx.transaction(() => 1)],
      ['snapshot', () => idx.snapshot()], ['refresh', () => idx.refresh()], ['stats', () => idx.stats()],
      ['sequence', () => idx.sequence], ['meta', () => idx.meta],
    ]
    for (const [label, fn] of calls) throwsCode(t, fn, 'CLOSED', file, `${label} after close`)
    t.equal(hash(file), h, 'the refused writes wrote nothing')
    // A snapshot taken before close keeps working (and keeps the file open); an iterator made
    // before close says CLOSED on its next step all the same.
    t.equal(snap.count(), 51, 'the snapshot still reads')
    t.same(snap.get('zeta'), [1])
    throwsCode(t, () => it.next(), 'CLOSED', file, 'the next step of an iterator made before close')
    snap.close()
  })

  t.test('an iterator whose index and snapshots are all closed', async t => {
    const idx = Index.open(file, { durability: 'none', cacheBytes: 0 })
    const it = idx.range()
    it.next()
    idx.close()
    // Open another file of the same page size so that a reused file descriptor would be read if
    // the iterator did not know its file was closed.
    const other = path.join(tmpDir(t), 'o.idx')
    const oi = Index.open(other, { pageSize: 512, durability: 'none' })
    oi.transaction(tx => { for (let i = 0; i < 200; i++) tx.insert(`OTHER${i}`, i) })
    throwsCode(t, () => it.next(), 'CLOSED', file, 'the next step: never data of another file')
    oi.close()
  })

  t.test('a transaction object after its transaction ended', async t => {
    const idx = Index.open(file, { durability: 'none' })
    const before = state(idx)
    let saved: Anything = null
    idx.transaction(tx => { saved = tx })
    let rolledBack: Anything = null
    try { idx.transaction(tx => { rolledBack = tx; tx.insert('gone', 1); throw new Error('rollback') }) } catch { /* expected */ }
    let committed: Anything = null
    idx.transaction(tx => { committed = tx; tx.insert('kept', 1) })
    for (const [which, tx] of [['no-op', saved], ['rolled back', rolledBack], ['committed', committed]] as const) {
      for (const [label, fn] of [
        ['insert', () => tx.insert('late', 1)], ['delete', () => tx.delete('k1', 1)], ['get', () => tx.get('k1')],
        ['has', () => tx.has('k1', 1)], ['count', () => tx.count()], ['count key', () => tx.count('k1')],
        ['range', () => tx.range()], ['countRange', () => tx.countRange({})], ['sequence', () => tx.sequence],
      ] as [string, () => unknown][]) throwsCode(t, fn, 'CLOSED', file, `${which} tx: ${label}`)
    }
    t.same(idx.get('late'), [])
    t.same(idx.get('gone'), [])
    t.equal(idx.sequence, before.sequence + 1, 'only the one real commit')
    idx.close()
  })

  t.test('a snapshot after snapshot.close()', async t => {
    const idx = Index.open(file, { readOnly: true })
    const s = idx.snapshot()
    s.close()
    s.close() // idempotent
    for (const [label, fn] of [
      ['get', () => s.get('k1')], ['has', () => s.has('k1')], ['count', () => s.count()], ['count key', () => s.count('k1')],
      ['range', () => s.range()], ['countRange', () => s.countRange({})],
    ] as [string, () => unknown][]) throwsCode(t, fn, 'CLOSED', file, `snapshot ${label} after close`)
    t.same(idx.get('zeta'), [1], 'the index itself still works')
    idx.close()
  })
})

t.test('LOCKED and IO', async t => {
  const dir = tmpDir(t)
  const file = sample(dir)
  const a = Index.open(file, { durability: 'none' })
  const b = Index.open(file, { durability: 'none', lockTimeoutMs: 30 })
  const before = state(b)
  a.transaction(tx => {
    tx.insert('from-a', 1)
    throwsCode(t, () => b.insert('from-b', 1), 'LOCKED', file, 'a second writer while the lock is held')
    throwsCode(t, () => b.transaction(() => 1), 'LOCKED', file, 'a transaction while the lock is held')
  })
  t.same(b.get('from-b'), [])
  t.same(b.get('from-a'), [1], 'the holder committed')
  t.equal(b.sequence, before.sequence + 1)
  t.equal(b.insert('from-b', 1), true, 'the lock is free again')
  a.close()
  b.close()
  const noDir = path.join(dir, 'missing-dir', 'x.idx')
  throwsCode(t, () => Index.open(noDir), 'IO', noDir, 'creating in a missing directory')
  t.notOk(fs.existsSync(path.join(dir, 'missing-dir')))
})

t.test('range bounds may be longer than any key; keys may not', t => {
  const file = path.join(tmpDir(t), 'bounds.idx')
  const idx = Index.open(file, { pageSize: 512, durability: 'none' })
  const max = idx.maxKeyBytes
  idx.insert('a'.repeat(max), 1)
  idx.insert('b', 2)
  const long = 'a'.repeat(max + 50)
  t.same([...idx.range({ gt: long })], [['b', 2]], 'a bound past the longest key')
  t.same([...idx.range({ lt: long })], [['a'.repeat(max), 1]])
  t.equal(idx.countRange({ gte: 'a'.repeat(max), lte: long }), 1)
  t.same([...idx.range({ after: [long, 0] })], [['b', 2]])
  t.throws(() => idx.insert(long, 3), { code: 'KEY_TOO_LARGE' })
  t.throws(() => idx.get(long), { code: 'KEY_TOO_LARGE' })
  idx.close()
  t.end()
})

t.test('snapshot getters after close throw CLOSED', t => {
  const file = path.join(tmpDir(t), 'snap.idx')
  const idx = Index.open(file, { durability: 'none' })
  idx.insert('k', 1)
  const snap = idx.snapshot()
  t.equal(snap.sequence, 1)
  snap.close()
  t.throws(() => snap.sequence, { code: 'CLOSED' })
  t.throws(() => snap.meta, { code: 'CLOSED' })
  t.throws(() => snap.get('k'), { code: 'CLOSED' })
  idx.close()
  t.end()
})
