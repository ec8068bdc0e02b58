/**
 * lib/format/constants.ts against FORMAT.md: the tables and the named values are parsed from the
 * document here, so changing one without the other fails this test. The encoders are checked to
 * put each field where the document says, with the document's size.
 */
import fs from 'node:fs'
import t from 'tap'
import * as C from '../../lib/format/constants.ts'
import { NO_LOG, encodeCommit } from '../../lib/format/commit.ts'
import { encodeHeader } from '../../lib/format/header.ts'
import { encodeTypedKey } from '../../lib/format/typed-key.ts'
import { readPageHeader, sealPage } from '../../lib/format/page.ts'

const doc = fs.readFileSync(new URL('../../FORMAT.md', import.meta.url), 'utf8')
const consts = C as unknown as Record<string, unknown>

interface Table { section: string; header: string[]; rows: string[][] }

/** Every markdown table with the `## ` section it sits in. */
function tables(md: string): Table[] {
  const out: Table[] = []
  let section = ''
  let cur: string[][] | null = null
  for (const line of md.split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3).trim()
    if (line.startsWith('|')) {
      const cells = line.slice(1, line.lastIndexOf('|')).split('|').map(c => c.trim())
      if (cur === null) { cur = [cells]; continue }
      if (cells.every(c => /^-+$/.test(c))) continue
      cur.push(cells)
    } else if (cur !== null) {
      out.push({ section, header: cur[0]!, rows: cur.slice(1) })
      cur = null
    }
  }
  if (cur !== null) out.push({ section, header: cur[0]!, rows: cur.slice(1) })
  return out
}

const all = tables(doc)
function table(sectionPrefix: string, firstColumn: string): Table {
  const found = all.filter(x => x.section.startsWith(sectionPrefix) && x.header[0] === firstColumn)
  if (found.length !== 1) throw new Error(`FORMAT.md: expected one '${firstColumn}' table in section ${sectionPrefix}, found ${found.length}`)
  return found[0]!
}

/** offset/size/name rows of a field table, keyed by the backticked name. */
function fields(tb: Table): Map<string, { offset: number; size: string }> {
  const m = new Map<string, { offset: number; size: string }>()
  for (const r of tb.rows) {
    const name = /^`([A-Za-z0-9]+)`$/.exec(r[2] ?? '')?.[1]
    if (name === undefined || !/^\d+$/.test(r[0]!)) continue
    m.set(name, { offset: Number(r[0]), size: r[1]! })
  }
  return m
}

t.test('common page header (§2)', async t => {
  const f = fields(table('2.', 'offset'))
  const expect: Record<string, [string, number]> = {
    type: ['OFF_TYPE', 1], level: ['OFF_LEVEL', 1], count: ['OFF_COUNT', 2], crc: ['OFF_CRC', 4], pageNo: ['OFF_PAGE_NO', 4], aux: ['OFF_AUX', 4],
  }
  t.same([...f.keys()].sort(), Object.keys(expect).sort(), 'the table has exactly the fields the code knows')
  let end = 0
  for (const [name, [constName, size]] of Object.entries(expect)) {
    const row = f.get(name)!
    t.equal(consts[constName], row.offset, `${constName} = offset of \`${name}\` in FORMAT.md`)
    t.equal(Number(row.size), size, `size of \`${name}\``)
    end = Math.max(end, row.offset + Number(row.size))
  }
  t.equal(C.PAGE_HEADER_SIZE, end, 'PAGE_HEADER_SIZE is where the table ends')
  t.match(doc, new RegExp(`common page header \\(${C.PAGE_HEADER_SIZE} bytes`), 'the section title states the size')
  // sealPage puts each field at the documented offset with the documented width.
  const p = Buffer.alloc(512)
  sealPage(p, 0xab, 0x01020304, 0xcd, 0xbeef, 0x0a0b0c0d)
  t.equal(p.readUIntLE(f.get('type')!.offset, 1), 0xab)
  t.equal(p.readUIntLE(f.get('level')!.offset, 1), 0xcd)
  t.equal(p.readUIntLE(f.get('count')!.offset, 2), 0xbeef)
  t.equal(p.readUIntLE(f.get('pageNo')!.offset, 4), 0x01020304)
  t.equal(p.readUIntLE(f.get('aux')!.offset, 4), 0x0a0b0c0d)
  t.same(readPageHeader(p), { type: 0xab, level: 0xcd, count: 0xbeef, pageNo: 0x01020304, aux: 0x0a0b0c0d })
})

t.test('page types (§2)', async t => {
  const tb = table('2.', 'value')
  t.equal(tb.rows.length, 6, 'six page types')
  for (const r of tb.rows) {
    const name = /^`([A-Z_]+)`$/.exec(r[1]!)?.[1]
    t.ok(name, `row ${r.join(' | ')} names a constant`)
    t.equal(consts[name!], Number(r[0]), `${name} = ${r[0]}`)
  }
})

t.test('file header (§4)', async t => {
  const f = fields(table('4.', 'offset'))
  const expect: Record<string, [string, number]> = {
    magic: ['HDR_OFF_MAGIC', 8], formatVersion: ['HDR_OFF_VERSION', 2], pageSizeLog2: ['HDR_OFF_PAGE_SIZE_LOG2', 1],
    keyEncoding: ['HDR_OFF_KEY_ENCODING', 1], flags: ['HDR_OFF_FLAGS', 1], fileId: ['HDR_OFF_FILE_ID', 16], createdAt: ['HDR_OFF_CREATED_AT', 8],
  }
  t.same([...f.keys()].sort(), Object.keys(expect).sort(), 'the table has exactly the fields the code knows')
  for (const [name, [constName, size]] of Object.entries(expect)) {
    t.equal(consts[constName], f.get(name)!.offset, `${constName} = offset of \`${name}\``)
    t.equal(Number(f.get(name)!.size), size, `size of \`${name}\``)
  }
  t.equal(C.FILE_ID_SIZE, Number(f.get('fileId')!.size), 'FILE_ID_SIZE')
  const magicRow = table('4.', 'offset').rows.find(r => r[2] === '`magic`')!
  const m = /ASCII `([A-Z]+)` \(([0-9A-F ]+)\)/.exec(magicRow[3]!)!
  t.equal(C.MAGIC, m[1], 'MAGIC')
  t.same(Buffer.from(C.MAGIC, 'latin1'), Buffer.from(m[2]!.replace(/ /g, ''), 'hex'), 'the magic bytes')
  const encCell = table('4.', 'offset').rows.find(r => r[2] === '`keyEncoding`')![3]!
  const encodings = Object.fromEntries([...encCell.matchAll(/(\d+) = `(\w+)`/g)].map(m => [m[2]!, Number(m[1])]))
  t.same(encodings, { utf8: C.KEY_ENCODING_UTF8, binary: C.KEY_ENCODING_BINARY, typed: C.KEY_ENCODING_TYPED }, 'key encoding values')
  const binaryAt = encodings.binary!
  const minBytes = /shorter than (\d+) bytes/.exec(doc)
  t.equal(C.HDR_MIN_BYTES, Number(minBytes?.[1]), 'HDR_MIN_BYTES: the length below which a file is NOT_AN_INDEX')
  const log2Range = /log2 of `P`, from (\d+) to (\d+)/.exec(doc)!
  t.equal(2 ** Number(log2Range[1]), C.MIN_PAGE_SIZE, 'smallest pageSizeLog2')
  t.equal(2 ** Number(log2Range[2]), C.MAX_PAGE_SIZE, 'largest pageSizeLog2')
  // encodeHeader writes each field where the table says.
  const fid = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
  const page = encodeHeader({ formatVersion: 1, pageSize: 2048, keyEncoding: 'binary', unique: true, fileId: fid, createdAt: 0x0102030405 })
  t.equal(page.toString('latin1', f.get('magic')!.offset, f.get('magic')!.offset + 8), m[1])
  t.equal(page.readUIntLE(f.get('formatVersion')!.offset, 2), 1)
  t.equal(page[f.get('pageSizeLog2')!.offset], 11)
  t.equal(page[f.get('keyEncoding')!.offset], binaryAt)
  t.equal(page[f.get('flags')!.offset], 1)
  t.same(page.subarray(f.get('fileId')!.offset, f.get('fileId')!.offset + 16), fid)
  t.equal(Number(page.readBigUInt64LE(f.get('createdAt')!.offset)), 0x0102030405)
  t.equal(readPageHeader(page).type, C.PAGE_FILE_HEADER)
  t.equal(readPageHeader(page).pageNo, 0)
})

t.test('typed keys (§4.1)', async t => {
  const tags = table('4.', 'tag').rows
  const bytes = table('4.', 'byte').rows
  const named = (rows: string[][], col: number): [string, number][] => rows.map(r => [/^`([A-Z_]+)`$/.exec(r[col]!)![1]!, Number(r[0])])
  for (const [name, value] of [...named(tags, 1), ...named(bytes, 1)]) t.equal(consts[name], value, `${name} = ${value}`)
  const order = named(tags, 1).map(x => x[1])
  t.same(order, order.slice().sort((a, b) => a - b), 'the tag table is in key order')
  t.ok(order.every(v => v > C.TK_ESCAPE && v < 0xff), 'no tag is an end, escape or 0xFF byte')
  // The encoder writes the documented tag for a value of each row.
  const examples: [string, unknown][] = [
    ['TK_NULL', null], ['TK_FALSE', false], ['TK_TRUE', true], ['TK_NEG_INFINITY', -Infinity], ['TK_NEGATIVE', -3],
    ['TK_ZERO', 0], ['TK_POSITIVE', 2n], ['TK_POS_INFINITY', Infinity], ['TK_DATE', new Date(0)], ['TK_STRING', 'x'],
    ['TK_BYTES', new Uint8Array(1)], ['TK_TUPLE', []],
  ]
  t.same(examples.map(e => e[0]), named(tags, 1).map(x => x[0]), 'an example for every tag')
  for (const [name, v] of examples) t.equal(encodeTypedKey(v)[0], consts[name], `${name} written for ${String(v)}`)
  t.same([...encodeTypedKey('\u0000\u0001')], [C.TK_STRING, C.TK_ESCAPE, 1, C.TK_ESCAPE, 2, C.TK_END], 'escapes and end byte')
  t.same([...encodeTypedKey(0n)], [C.TK_ZERO, C.TK_KIND_BIGINT], 'kind byte of a bigint')
  t.same([...encodeTypedKey(-0)], [C.TK_ZERO, C.TK_KIND_NUMBER], '-0 is stored as 0')
  // The worked examples in the text.
  const worked = [...doc.matchAll(/`(-?[\d.]+n?)` is `([0-9A-F ]+)`/g)]
  t.equal(worked.length, 4, 'four worked examples')
  for (const m of worked) {
    const v = m[1]!.endsWith('n') ? BigInt(m[1]!.slice(0, -1)) : Number(m[1])
    t.equal(encodeTypedKey(v).toString('hex'), m[2]!.replace(/ /g, '').toLowerCase(), `${m[1]} is ${m[2]}`)
  }
})

t.test('commit page (§8)', async t => {
  const tb = table('8.', 'offset')
  const f = fields(tb)
  const expect: Record<string, [string, string]> = {
    sequence: ['CMT_OFF_SEQUENCE', '8'], rootPage: ['CMT_OFF_ROOT', '4'], height: ['CMT_OFF_HEIGHT', '1'], flags: ['CMT_OFF_FLAGS', '1'],
    metaLength: ['CMT_OFF_META_LENGTH', '2'], entryCount: ['CMT_OFF_ENTRY_COUNT', '8'], prevCommit: ['CMT_OFF_PREV', '4'],
    firstDataPage: ['CMT_OFF_FIRST_DATA', '4'], dataCrc: ['CMT_OFF_DATA_CRC', '4'], livePages: ['CMT_OFF_LIVE_PAGES', '4'],
    timestamp: ['CMT_OFF_TIMESTAMP', '8'], fileId: ['CMT_OFF_FILE_ID', '16'], meta: ['CMT_OFF_META', '`metaLength`'],
    logHead: ['CMT_OFF_LOG_HEAD', '4'], logPrev: ['CMT_OFF_LOG_PREV', '4'], chainRecords: ['CMT_OFF_CHAIN_RECORDS', '4'],
    logRecords: ['CMT_OFF_LOG_RECORDS', '4'], logPages: ['CMT_OFF_LOG_PAGES', '2'], inlineLength: ['CMT_OFF_INLINE_LENGTH', '2'],
  }
  t.same([...f.keys()].sort(), Object.keys(expect).sort(), 'the table has exactly the fields the code knows')
  for (const [name, [constName, size]] of Object.entries(expect)) {
    t.equal(consts[constName], f.get(name)!.offset, `${constName} = offset of \`${name}\``)
    t.equal(f.get(name)!.size, size, `size of \`${name}\``)
  }
  const metaMax = /at most `min\((\d+), P − (\d+)\)` bytes/.exec(tb.rows.find(r => r[2] === '`meta`')![3]!)!
  t.equal(C.MAX_META_BYTES, Number(metaMax[1]), 'MAX_META_BYTES')
  t.equal(C.CMT_OFF_META, Number(metaMax[2]), 'meta begins where its bound says')
  const v1 = /`meta` starts at offset (\d+)\s+\(`CMT_OFF_META_V1`\), at most `min\((\d+), P − (\d+)\)` bytes/.exec(doc)!
  t.equal(C.CMT_OFF_META_V1, Number(v1[1]), 'CMT_OFF_META_V1')
  t.equal(C.CMT_OFF_META_V1, Number(v1[3]), 'version 1 meta bound')
  for (const P of [512, 4096]) t.equal(C.maxMetaBytes(P, 1), Math.min(Number(v1[2]), P - Number(v1[3])), `maxMetaBytes(${P}, version 1)`)
  for (const P of [512, 1024, 4096]) t.equal(C.maxMetaBytes(P), Math.min(Number(metaMax[1]), P - Number(metaMax[2])), `maxMetaBytes(${P})`)
  // encodeCommit writes each field where the table says.
  const fid = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex')
  const c = {
    page: 0x01020304, sequence: 0x0a0b0c0d0e0f, root: 0x01020303, height: 0x21, flags: 1, entryCount: 0x1a1b1c1d1e,
    prevCommit: 0x010101, firstDataPage: 0x010102, dataCrc: 0xcafebabe, livePages: 0x12345, timestamp: 0x18c0c0c0c0c, meta: Buffer.from('meta!'), ...NO_LOG,
  }
  const c2 = { ...c, logHead: c.page, logPrev: 0x0f0e0d, chainRecords: 0x3456, logRecords: 0x3456, logPages: 0, inline: Buffer.from('recs') }
  const page = encodeCommit(c2, fid, 512)
  const at = (n: string): number => f.get(n)!.offset
  t.equal(Number(page.readBigUInt64LE(at('sequence'))), c.sequence)
  t.equal(page.readUInt32LE(at('rootPage')), c.root)
  t.equal(page[at('height')], c.height)
  t.equal(page[at('flags')], c.flags)
  t.equal(page.readUInt16LE(at('metaLength')), 5)
  t.equal(Number(page.readBigUInt64LE(at('entryCount'))), c.entryCount)
  t.equal(page.readUInt32LE(at('prevCommit')), c.prevCommit)
  t.equal(page.readUInt32LE(at('firstDataPage')), c.firstDataPage)
  t.equal(page.readUInt32LE(at('dataCrc')), c.dataCrc)
  t.equal(page.readUInt32LE(at('livePages')), c.livePages)
  t.equal(Number(page.readBigUInt64LE(at('timestamp'))), c.timestamp)
  t.same(page.subarray(at('fileId'), at('fileId') + 16), fid)
  t.equal(page.toString('latin1', at('meta'), at('meta') + 5), 'meta!')
  t.equal(page.readUInt32LE(at('logHead')), c2.logHead)
  t.equal(page.readUInt32LE(at('logPrev')), c2.logPrev)
  t.equal(page.readUInt32LE(at('chainRecords')), c2.chainRecords)
  t.equal(page.readUInt32LE(at('logRecords')), c2.logRecords)
  t.equal(page.readUInt16LE(at('logPages')), 0)
  t.equal(page.readUInt16LE(at('inlineLength')), 4)
  t.equal(page.toString('latin1', at('meta') + 5, at('meta') + 9), 'recs', 'inline records right after meta')
  t.same(readPageHeader(page), { type: C.PAGE_COMMIT, level: 0, count: 0, pageNo: c.page, aux: 0 })
})

t.test('log pages and change records (§10)', async t => {
  const lp = table('10.', 'offset')
  t.same(lp.rows[1]!.slice(0, 2), [String(C.PAGE_HEADER_SIZE), '`aux`'], 'records right after the header')
  t.match(lp.rows[0]![2]!, `\`type\` = 0x0${C.PAGE_LOG.toString(16)}`, 'PAGE_LOG')
  const rec = table('10.', 'field')
  t.same(rec.rows.map(r => r[0]), ['`head`', '`suffixLength`', '`suffix`', '`rowId`'], 'record fields in order')
  t.match(rec.rows[0]![1]!, `\`op\` = ${C.LOG_OP_INSERT} (\`LOG_OP_INSERT\`)`, 'LOG_OP_INSERT')
})

t.test('node layouts (§5, §6)', async t => {
  const leaf = table('5.', 'offset')
  t.same(leaf.rows[1]!.slice(0, 2), [String(C.PAGE_HEADER_SIZE), `${C.SLOT_SIZE}·G`], 'leaf slot array after the header, SLOT_SIZE bytes per group')
  const internal = table('6.', 'offset')
  t.same(internal.rows[1]!.slice(0, 2), [String(C.PAGE_HEADER_SIZE), `${C.CHILD_PAGE_SIZE}·C`], 'child page numbers: CHILD_PAGE_SIZE each')
  t.same(internal.rows[2]!.slice(0, 2), [`${C.PAGE_HEADER_SIZE} + ${C.CHILD_PAGE_SIZE}C`, `${C.CHILD_COUNT_SIZE}·C`], 'subtree counts: CHILD_COUNT_SIZE each')
  t.same(internal.rows[3]!.slice(0, 2), [`${C.PAGE_HEADER_SIZE} + ${C.CHILD_FIXED_SIZE}C`, `${C.SLOT_SIZE}·(C − 1)`], 'separator slots after the counts')
  t.equal(C.CHILD_FIXED_SIZE, C.CHILD_PAGE_SIZE + C.CHILD_COUNT_SIZE)
})

t.test('named values in the text', async t => {
  const named = [...doc.matchAll(/`([A-Z][A-Z0-9_]+)` = (0x[0-9A-Fa-f]+|\d+)/g)]
  const names = new Set(named.map(m => m[1]))
  for (const n of ['MIN_PAGE_SIZE', 'MAX_PAGE_SIZE', 'DEFAULT_PAGE_SIZE', 'FORMAT_VERSION', 'UNDERFULL_DIVISOR']) {
    t.ok(names.has(n), `FORMAT.md states ${n} = value`)
  }
  for (const m of named) t.equal(consts[m[1]!], Number(m[2]), `${m[1]} = ${m[2]}`)
  const bits = [...doc.matchAll(/bit (\d+) `([A-Z_]+)`/g)]
  t.same(bits.map(b => b[2]).sort(), ['COMMIT_DATA_SYNCED', 'COMMIT_PREV_DURABLE', 'COMMIT_SUPERSEDED', 'FLAG_SET', 'FLAG_UNIQUE'], 'flag bits named')
  for (const b of bits) t.equal(consts[b[2]!], 1 << Number(b[1]), `${b[2]} is bit ${b[1]}`)
  t.equal(C.KNOWN_FILE_FLAGS, C.FLAG_UNIQUE | C.FLAG_SET, 'the known file flags are FLAG_UNIQUE and FLAG_SET')
  const varint = /at most (\d+) bytes \(`MAX_VARINT_BYTES`\)/.exec(doc)
  t.equal(C.MAX_VARINT_BYTES, Number(varint?.[1]), 'MAX_VARINT_BYTES')
  const sepOver = /A separator is at most `(\d+) \+ K \+ (\d+)`/.exec(doc)!
  t.equal(C.SEPARATOR_OVERHEAD, Number(sepOver[1]) + Number(sepOver[2]), 'SEPARATOR_OVERHEAD')
  t.equal(Number(sepOver[2]), C.MAX_VARINT_BYTES, 'the rowId part of a separator is a maximal varint')
  // MAX_KEY_BYTES(P) = floor((P − a) / 2) − b, and the worked values.
  const formula = /MAX_KEY_BYTES\(P\) = floor\(\(P − (\d+)\) \/ 2\) − (\d+)/.exec(doc)!
  for (let P = C.MIN_PAGE_SIZE; P <= C.MAX_PAGE_SIZE; P *= 2) {
    t.equal(C.maxKeyBytes(P), Math.floor((P - Number(formula[1])) / 2) - Number(formula[2]), `maxKeyBytes(${P}) follows the formula`)
  }
  const worked = [...doc.matchAll(/([\d,]+) bytes at P = (\d+)/g)]
  t.equal(worked.length, 3, 'three worked examples')
  for (const w of worked) t.equal(C.maxKeyBytes(Number(w[2])), Number(w[1]!.replace(/,/g, '')), `maxKeyBytes(${w[2]}) = ${w[1]}`)
  // The fit rule: 16 + 3·10 + 2·2 + 2·S ≤ P with S = 3 + K + 8.
  for (let P = C.MIN_PAGE_SIZE; P <= C.MAX_PAGE_SIZE; P *= 2) {
    const S = C.SEPARATOR_OVERHEAD + C.maxKeyBytes(P)
    t.ok(C.PAGE_HEADER_SIZE + 3 * C.CHILD_FIXED_SIZE + 2 * C.SLOT_SIZE + 2 * S <= P, `three children fit at ${P}`)
    t.ok(C.PAGE_HEADER_SIZE + 3 * C.CHILD_FIXED_SIZE + 2 * C.SLOT_SIZE + 2 * (S + 1) > P, `the maximum is tight at ${P}`)
  }
  const versions = table('11.', 'version').rows
  t.equal(C.FORMAT_VERSION, Number(versions[versions.length - 1]![0]), 'FORMAT_VERSION is the last version in the history')
  t.equal(C.MAX_ROW_ID, Number.MAX_SAFE_INTEGER)
  t.match(doc, /Page numbers are unsigned 32-bit integers/)
  t.equal(C.MAX_PAGE_NO, 2 ** 32 - 1)
})

t.test('isValidPageSize', async t => {
  for (let P = C.MIN_PAGE_SIZE; P <= C.MAX_PAGE_SIZE; P *= 2) t.ok(C.isValidPageSize(P), `${P}`)
  for (const v of [0, 256, 511, 513, 1000, 3072, 131072, 4096.5, NaN, Infinity, -4096, '4096', null, undefined]) {
    t.notOk(C.isValidPageSize(v), `${String(v)} is not a page size`)
  }
})

t.test('several indexes in one file (§12)', async t => {
  const { catalogKey, catalogRowId, decodeCatalogRowId, indexPrefix } = await import('../../lib/format/catalog.ts')
  const sec = doc.slice(doc.indexOf('## 12.'))
  t.ok(sec.length > 100, 'FORMAT.md has a section 12')
  const formula = /rowId = number · (\d+) \+ encoding · (\d+) \+ unique/.exec(sec)!
  t.equal(C.CATALOG_NUMBER_FACTOR, Number(formula[1]), 'the number factor of the formula')
  t.equal(C.CATALOG_ENCODING_FACTOR, Number(formula[2]), 'the encoding factor of the formula')
  const ex = /unique `(\w+)` index named `(\w+)` with number (\d+) is the key\s+`([0-9A-F ]+)` with rowId (\d+)/.exec(sec)!
  const e = { number: Number(ex[3]), keyEncoding: ex[1] as 'utf8', unique: true }
  t.same(Buffer.from(catalogKey(ex[2]!), 'latin1'), Buffer.from(ex[4]!.replace(/ /g, ''), 'hex'), 'the example catalog key')
  t.equal(catalogRowId(e), Number(ex[5]), 'the example catalog rowId')
  t.same(decodeCatalogRowId(Number(ex[5])), e, 'the example rowId decodes to its settings')
  t.same(Buffer.from(indexPrefix(0x1234), 'latin1'), Buffer.from([0x12, 0x34]), 'index numbers are big-endian')
  t.equal(indexPrefix(C.MAX_SET_INDEXES).length, C.SET_NUMBER_BYTES)
  t.ok(C.maxKeyBytes(C.MIN_PAGE_SIZE) >= C.SET_NUMBER_BYTES + C.MAX_INDEX_NAME_BYTES, 'a catalog key of the longest name fits at every page size')
  t.match(decodeCatalogRowId(3 * 8 + 3 * 2), /unknown key encoding 3/, 'encoding 3 is invalid')
  t.match(decodeCatalogRowId(1), /number 0/, 'number 0 names no index')
})
