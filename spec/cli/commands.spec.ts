// Every command and flag of the tailroot command, run in this process: output, --json shapes,
// exit codes and the one-line error messages.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { COMMANDS } from '../../lib/cli/main.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { cli } from './run-cli.ts'

const STATS_FIELDS = ['entries', 'keys', 'height', 'pageSize', 'keyEncoding', 'unique', 'sequence', 'commits', 'pagesLive', 'pagesTotal', 'fileBytes', 'liveBytes', 'garbageRatio', 'lastCommitTime']

/** An index of 3 keys × 2 rowIds built by 6 single commits. */
function small(dir: string): string {
  const file = path.join(dir, 's.idx')
  // Every commit writes its tree (no change records, FORMAT.md §10), so the figures below are exact.
  const idx = Index.open(file, { preallocate: true, maxPendingChanges: 0 })
  for (const k of ['apple', 'banana', 'cherry']) for (const r of [1, 2]) idx.insert(k, r)
  idx.close()
  return file
}

/** Every byte of `file` from `offset` on is zero (preallocated space after the newest commit). */
function zerosFrom(file: string, offset: number): boolean {
  return fs.readFileSync(file).subarray(offset).every(b => b === 0)
}

/** One error line on stderr, no stack. */
function oneLine(t: Test, stderr: string, re: RegExp, what: string): void {
  const lines = stderr.trimEnd().split('\n')
  t.match(lines[0], re, what)
  t.notMatch(stderr, /\n\s+at /, `${what}: no stack trace`)
}

t.test('--help, --version, and help for every command', async t => {
  const h = await cli(['--help'])
  t.equal(h.code, 0)
  for (const c of COMMANDS) t.match(h.stdout, new RegExp(`\\n  ${c.name} `), `the overview lists ${c.name}`)
  t.match(h.stdout, /exit codes:[^]*0 +success[^]*1 +verify found damage[^]*2 +usage error[^]*3 +the write lock[^]*4 +other failures/)
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  t.same(await cli(['--version']), { code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  for (const c of COMMANDS) {
    const a = await cli([c.name, '--help'])
    t.equal(a.code, 0, `${c.name} --help`)
    t.match(a.stdout, new RegExp(`^usage: tailroot ${c.name} <file>`), `${c.name} --help starts with its usage`)
    t.same(await cli(['help', c.name]), a, `help ${c.name} is the same`)
  }
  t.end()
})

t.test('usage errors exit 2 with one line', async t => {
  const dir = tmpDir(t)
  const file = small(dir)
  const cases: [string[], RegExp][] = [
    [[], /no command given/],
    [['frobnicate', file], /unknown command 'frobnicate'/],
    [['--frob'], /unknown option '--frob'/],
    [['help', 'nope'], /unknown command 'nope'/],
    [['stats'], /stats takes one argument \(<file>\), got 0/],
    [['stats', file, 'extra'], /got 2/],
    [['get', file], /get takes 2 arguments/],
    [['stats', file, '--bogus'], /Unknown option '--bogus'/],
    [['dump', file, '--limit'], /--limit/],
    [['dump', file, '--limit', 'ten'], /--limit must be a non-negative integer, got "ten"/],
    [['compact', file, '--timeout', '-5'], /--timeout/],
    [['load', path.join(dir, 'n.idx'), file, '--key-encoding', 'latin1'], /--key-encoding must be 'utf8' or 'binary'/],
    [['load', path.join(dir, 'n.idx'), file, '--page-size', '1000'], /--page-size must be a power of two/],
    [['load', path.join(dir, 'n.idx'), file, '--format', 'xml'], /--format must be 'ndjson' or 'csv'/],
  ]
  for (const [args, re] of cases) {
    const r = await cli(args)
    t.equal(r.code, 2, `exit 2: ${args.join(' ')}`)
    t.equal(r.stdout, '', `nothing on stdout: ${args.join(' ')}`)
    oneLine(t, r.stderr, re, args.join(' '))
    t.match(r.stderr, /Run 'tailroot --help' for usage/)
  }
  t.notOk(fs.existsSync(path.join(dir, 'n.idx')), 'no load started')
  t.end()
})

t.test('failures exit 4 with one line: missing file, not an index, a damaged header', async t => {
  const dir = tmpDir(t)
  const missing = path.join(dir, 'missing.idx')
  const text = path.join(dir, 'text.idx')
  fs.writeFileSync(text, 'just some text\n'.repeat(500))
  for (const cmd of COMMANDS.filter(c => c.name !== 'load').map(c => c.name)) {
    const extra = cmd === 'get' ? ['k'] : cmd === 'backup' ? [path.join(dir, 'out.idx')] : []
    const a = await cli([cmd, missing, ...extra])
    t.equal(a.code, 4, `${cmd}: missing file`)
    oneLine(t, a.stderr, new RegExp(`^tailroot: ${cmd}: .*missing\\.idx: no such index file`), `${cmd} missing`)
    const b = await cli([cmd, text, ...extra])
    t.equal(b.code, 4, `${cmd}: not an index`)
    oneLine(t, b.stderr, /text\.idx: not a tailroot index/, `${cmd} not an index`)
  }
  t.notOk(fs.existsSync(missing), 'nothing was created')
  t.end()
})

t.test('stats: text and exactly the documented JSON fields', async t => {
  const dir = tmpDir(t)
  const file = small(dir)
  const j = await cli(['stats', file, '--json'])
  t.equal(j.code, 0)
  const s = JSON.parse(j.stdout)
  t.same(Object.keys(s), [...STATS_FIELDS, 'pendingChanges', 'tailBytes'], 'the fields, in order, then the additions')
  // The first commit (pages 1 and 2) preallocated 16 pages after its own (FORMAT.md §8).
  t.match(s, { entries: 6, keys: 3, height: 1, pageSize: 4096, keyEncoding: 'utf8', unique: false, sequence: 6, commits: 6, pagesLive: 1, pagesTotal: 13, fileBytes: 19 * 4096, liveBytes: 3 * 4096, tailBytes: 6 * 4096 })
  t.ok(zerosFrom(file, 13 * 4096), 'only zeros follow the newest commit')
  t.ok(Math.abs(s.garbageRatio - 10 / 13) < 1e-9, 'garbage ratio: of the pages up to the newest commit, the zeros after it are not garbage')
  t.ok(!Number.isNaN(Date.parse(s.lastCommitTime)) && s.lastCommitTime === new Date(s.lastCommitTime).toISOString(), 'an ISO time')
  t.equal(j.stdout.trimEnd().split('\n').length, 1, 'one JSON document')
  const txt = await cli(['stats', file])
  t.equal(txt.code, 0)
  t.match(txt.stdout, /^entries: +6\nkeys: +3\n[^]*file bytes: +77,824\ntail bytes: +24,576\n[^]*garbage ratio: +76\.9%\n/)
  const empty = path.join(dir, 'empty.idx')
  Index.open(empty, { preallocate: true }).close()
  t.match(JSON.parse((await cli(['stats', empty, '--json'])).stdout), { entries: 0, keys: 0, sequence: 0, commits: 0, lastCommitTime: null })
  t.end()
})

t.test('verify: 0 when whole, 1 listing every damaged page', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'v.idx')
  Index.build(file, Array.from({ length: 3000 }, (_, i) => [`key${String(i).padStart(5, '0')}`, i] as [string, number]), { pageSize: 512 }).close()
  const ok = await cli(['verify', file])
  t.equal(ok.code, 0)
  t.match(ok.stdout, /^ok: .*v\.idx: sequence 1, 3,000 entries, \d+ pages checked, 1 commits\n$/)
  const okJson = JSON.parse((await cli(['verify', file, '--json'])).stdout)
  t.match(okJson, { ok: true, errors: [], omittedErrors: 0, sequence: 1, entries: 3000, commits: 1 })
  // Damage two leaves.
  const fd = fs.openSync(file, 'r+')
  for (const p of [3, 9]) fs.writeSync(fd, Buffer.from([0xff]), 0, 1, p * 512 + 100)
  fs.closeSync(fd)
  const bad = await cli(['verify', file])
  t.equal(bad.code, 1)
  t.match(bad.stdout, /page 3: checksum mismatch[^]*page 9: checksum mismatch[^]*DAMAGED: .*v\.idx: 3 problems/)
  t.equal(bad.stderr, '')
  const j = await cli(['verify', file, '--json'])
  t.equal(j.code, 1)
  const r = JSON.parse(j.stdout)
  t.equal(r.ok, false)
  t.same(r.errors.map((e: { page: number }) => e.page).sort((a: number, b: number) => a - b).slice(0, 2), [3, 9])
  for (const e of r.errors) t.same(Object.keys(e).sort(), ['message', 'page'])
  // A damaged header is damage too (exit 1), not a failure to run.
  const b = fs.readFileSync(file)
  b[40] ^= 1
  fs.writeFileSync(file, b)
  const h = await cli(['verify', file, '--json'])
  t.equal(h.code, 1)
  t.match(JSON.parse(h.stdout), { ok: false, errors: [{ page: 0 }] })
  t.end()
})

t.test('dump: order, bounds, reverse, limit, NDJSON', async t => {
  const dir = tmpDir(t)
  const file = small(dir)
  t.same(await cli(['dump', file]), { code: 0, stdout: 'apple\t1\napple\t2\nbanana\t1\nbanana\t2\ncherry\t1\ncherry\t2\n', stderr: '' })
  t.equal((await cli(['dump', file, '--gte', 'banana', '--lt', 'cherry'])).stdout, 'banana\t1\nbanana\t2\n')
  t.equal((await cli(['dump', file, '--gt', 'apple', '--lte', 'banana'])).stdout, 'banana\t1\nbanana\t2\n')
  t.equal((await cli(['dump', file, '--reverse', '--limit', '3'])).stdout, 'cherry\t2\ncherry\t1\nbanana\t2\n')
  t.equal((await cli(['dump', file, '--limit', '0'])).stdout, '')
  const j = await cli(['dump', file, '--json', '--gte', 'c'])
  t.equal(j.stdout, '["cherry",1]\n["cherry",2]\n')
  // Binary keys go out and come in as hex.
  const bin = path.join(dir, 'b.idx')
  Index.build<Buffer>(bin, [[Buffer.from([0, 255]), 7], [Buffer.from('hi'), 8]], { keyEncoding: 'binary' }).close()
  t.equal((await cli(['dump', bin, '--json'])).stdout, '["00ff",7]\n["6869",8]\n')
  t.equal((await cli(['dump', bin, '--gte', '01'])).stdout, '6869\t8\n')
  const bad = await cli(['dump', bin, '--gte', 'xyz'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--gte must be hex digits/)
  t.end()
})

t.test('get: the rowIds of one key', async t => {
  const dir = tmpDir(t)
  const file = small(dir)
  t.same(await cli(['get', file, 'banana']), { code: 0, stdout: '1\n2\n', stderr: '' })
  t.same(await cli(['get', file, 'banana', '--json']), { code: 0, stdout: '[1,2]\n', stderr: '' })
  t.same(await cli(['get', file, 'durian', '--json']), { code: 0, stdout: '[]\n', stderr: '' })
  t.same(await cli(['get', file, 'durian']), { code: 0, stdout: '', stderr: '' })
  const big = await cli(['get', file, 'x'.repeat(3000)])
  t.equal(big.code, 4)
  oneLine(t, big.stderr, /KEY_TOO_LARGE|3000 bytes; the maximum/, 'a too long key')
  t.end()
})

t.test('history: newest first; --json is one array', async t => {
  const dir = tmpDir(t)
  const file = small(dir)
  const j = await cli(['history', file, '--json'])
  t.equal(j.code, 0)
  const h = JSON.parse(j.stdout)
  t.same(h.map((c: { sequence: number }) => c.sequence), [6, 5, 4, 3, 2, 1])
  t.same(h.map((c: { entries: number }) => c.entries), [6, 5, 4, 3, 2, 1])
  for (const c of h) {
    t.same(Object.keys(c), ['sequence', 'page', 'time', 'entries'])
    t.equal(c.time, new Date(c.time).toISOString())
  }
  const txt = await cli(['history', file])
  t.equal(txt.stdout.trimEnd().split('\n').length, 7, 'a header and six rows')
  t.match(txt.stdout, /^ +sequence +page +time +entries\n +6 +\d+ +\d{4}-/)
  const empty = path.join(dir, 'e.idx')
  Index.open(empty, { preallocate: true }).close()
  t.same(await cli(['history', empty, '--json']), { code: 0, stdout: '[]\n', stderr: '' })
  t.end()
})

t.test('compact: reports bytes before and after; keeps the content', async t => {
  const dir = tmpDir(t)
  const file = small(dir)
  const want = (await cli(['dump', file])).stdout
  const j = await cli(['compact', file, '--json'])
  t.equal(j.code, 0)
  const r = JSON.parse(j.stdout)
  t.same(Object.keys(r), ['bytesBefore', 'bytesAfter', 'pages', 'entries', 'sequence', 'replaced', 'ms'])
  // Before: 13 pages up to the newest commit, then the zeros preallocated after it.
  t.match(r, { bytesBefore: 19 * 4096, bytesAfter: 3 * 4096, pages: 1, entries: 6, sequence: 6, replaced: true })
  t.equal(fs.statSync(file).size, 3 * 4096, 'the compacted file is not preallocated')
  t.equal((await cli(['dump', file])).stdout, want)
  const again = await cli(['compact', file])
  t.match(again.stdout, /is already compact \(12,288 bytes, 6 entries\); left as it was/)
  const other = path.join(dir, 'o.idx')
  const idx = Index.open(other, { preallocate: true, maxPendingChanges: 0 })
  for (let i = 0; i < 10; i++) idx.insert(`k${i}`, i)
  idx.close()
  // 21 pages up to the newest commit (86,016 bytes), then the zeros its commits preallocated (two extensions of 16 pages).
  t.equal(fs.statSync(other).size, 37 * 4096)
  t.ok(zerosFrom(other, 21 * 4096), 'only zeros follow the newest commit')
  t.match((await cli(['compact', other])).stdout, /^compacted .*o\.idx: 151,552 -> 12,288 bytes \(91\.9% smaller\), 1 live pages, 10 entries, sequence 10, \d+ ms\n$/)
  t.same(fs.readdirSync(dir).sort(), ['o.idx', 'o.idx.lock', 's.idx', 's.idx.lock'])
  t.end()
})
