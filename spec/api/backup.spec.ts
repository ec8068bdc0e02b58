// Index.backup (README, "Backing up"): a copy of a file at its newest commit, ending at that
// commit's page, taken without a lock; published only when whole. spec/process/backup-copy.spec.ts
// takes backups while writer processes commit.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index, IndexSet, TailrootError } from '../../lib/index.ts'
import { backupFile } from '../../lib/api/backup.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { cli } from '../cli/run-cli.ts'

const key = (i: number): string => `k${String(i).padStart(6, '0')}`

function code(fn: () => unknown): string {
  try { fn() } catch (err) { return err instanceof TailrootError ? err.code : `foreign ${String(err)}` }
  return 'none'
}

/** An index with some history and preallocated zeros after its newest commit; `big`: over 2 MiB. */
function live(dir: string, big = false): { file: string; idx: Index } {
  const file = path.join(dir, 'live.idx')
  if (big) Index.build(file, Array.from({ length: 30_000 }, (_, i) => [`${key(i)}/${'x'.repeat(60)}`, i] as [string, number]), { pageSize: 512 }).close()
  const idx = Index.open(file, { pageSize: 512 })
  for (let c = 0; c < 30; c++) idx.transaction(tx => { for (let i = 0; i < 40; i++) tx.insert(key(c * 40 + i), c) })
  idx.delete(key(5), 0)
  idx.transaction(() => {}, { meta: Buffer.from('change 31') })
  return { file, idx }
}

t.test('a backup holds the newest commit, ends at its commit page, verifies, and can be written to', async t => {
  const dir = tmpDir(t)
  const { file, idx } = live(dir, true)
  const s = idx.stats()
  t.ok(s.fileBytes > 2 << 20, `the original has ${s.fileBytes} bytes`)
  t.ok(s.tailBytes > 0, `the original has ${s.tailBytes} bytes of preallocated zeros`)
  const dest = path.join(dir, 'copy.idx')
  const progress: number[] = []
  const r0 = (s.commitPage + 1) * 512
  const r = Index.backup(file, dest, { onProgress: p => { progress.push(p.done); if (p.total !== r0) t.fail(`total ${p.total}`) } })
  t.same(r, { sequence: s.sequence, entries: 31_199, bytes: r0 })
  t.equal(fs.statSync(dest).size, r0, 'the copy ends at its commit page')
  t.ok(fs.readFileSync(dest).equals(fs.readFileSync(file).subarray(0, r0)), 'byte for byte the original up to its newest commit page')
  t.ok(progress.length > 1 && progress.every((d, i) => i === 0 || d > progress[i - 1]!) && progress.at(-1) === r0, `progress rises to the total (${progress.length} reports)`)
  t.equal(Index.verify(dest).ok, true, 'the copy verifies')
  const copy = Index.open(dest)
  t.equal(copy.sequence, idx.sequence)
  t.strictSame([...copy.range()], [...idx.range()], 'the same pairs')
  t.strictSame(copy.meta, Buffer.from('change 31'), 'the same commit metadata')
  t.equal(copy.insert('after', 1), true)
  t.equal(copy.sequence, s.sequence + 1, 'writing continues its history')
  copy.close()
  t.equal(idx.sequence, s.sequence, 'the original is unchanged')
  idx.close()
  t.ok(Index.verify(file).ok)
})

t.test('bytes after the newest commit (a commit being written, or torn) are not copied', async t => {
  const dir = tmpDir(t)
  const { file, idx } = live(dir)
  const s = idx.stats()
  idx.close()
  // Garbage after the newest commit, as a writer killed inside its commit leaves.
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.alloc(3 * 512, 0x5a), 0, 3 * 512, (s.commitPage + 1) * 512)
  fs.closeSync(fd)
  const dest = path.join(dir, 'copy.idx')
  const r = Index.backup(file, dest)
  t.equal(r.sequence, s.sequence)
  t.equal(fs.statSync(dest).size, (s.commitPage + 1) * 512)
  t.equal(Index.verify(dest).ok, true)
})

t.test('a new, empty file and a set file', async t => {
  const dir = tmpDir(t)
  const empty = path.join(dir, 'empty.idx')
  Index.open(empty).close()
  const r = Index.backup(empty, path.join(dir, 'empty-copy.idx'))
  t.same(r, { sequence: 0, entries: 0, bytes: fs.statSync(empty).size })
  const copy = Index.open(path.join(dir, 'empty-copy.idx'))
  t.equal(copy.count(), 0)
  copy.close()

  const setFile = path.join(dir, 'people.set')
  const set = IndexSet.open(setFile)
  set.transaction(tx => {
    tx.index('city').insert('Lyon', 1)
    tx.index('email', { unique: true }).insert('a@example.org', 1)
  })
  const sr = IndexSet.backup(setFile, path.join(dir, 'people-copy.set'))
  t.equal(sr.sequence, set.sequence)
  set.close()
  const c = IndexSet.open(path.join(dir, 'people-copy.set'))
  t.strictSame(c.index('city').get('Lyon'), [1])
  t.strictSame(c.index('email').get('a@example.org'), [1])
  t.equal(code(() => c.index('email').insert('a@example.org', 2)), 'UNIQUE_VIOLATION', 'each index keeps its settings')
  c.close()
  t.equal(IndexSet.verify(path.join(dir, 'people-copy.set')).ok, true)
})

t.test('refusals: a typed error, nothing written, the original unchanged', async t => {
  const dir = tmpDir(t)
  const { file, idx } = live(dir)
  idx.close()
  const before = fs.readFileSync(file)
  const dest = path.join(dir, 'copy.idx')
  fs.writeFileSync(dest, 'precious')
  t.equal(code(() => Index.backup(file, dest)), 'INVALID_ARGUMENT', 'the destination exists')
  t.equal(fs.readFileSync(dest, 'utf8'), 'precious', 'and is left as it was')
  t.equal(code(() => Index.backup(file, file)), 'INVALID_ARGUMENT', 'the destination is the file itself')
  t.equal(code(() => Index.backup(path.join(dir, 'missing.idx'), path.join(dir, 'a.idx'))), 'NOT_FOUND')
  fs.writeFileSync(path.join(dir, 'text.idx'), 'just some text\n'.repeat(100))
  t.equal(code(() => Index.backup(path.join(dir, 'text.idx'), path.join(dir, 'b.idx'))), 'NOT_AN_INDEX')
  t.equal(code(() => Index.backup('', dest)), 'INVALID_ARGUMENT')
  t.equal(code(() => Index.backup(file, 7 as unknown as string)), 'INVALID_ARGUMENT')
  t.equal(code(() => Index.backup(file, path.join(dir, 'c.idx'), { onProgress: 1 } as never)), 'INVALID_ARGUMENT')
  t.equal(code(() => Index.backup(file, path.join(dir, 'c.idx'), { progress: () => {} } as never)), 'INVALID_ARGUMENT', 'an unknown option')
  t.ok(fs.readFileSync(file).equals(before), 'the original is unchanged')
  t.same(fs.readdirSync(dir).sort(), ['copy.idx', 'live.idx', 'live.idx.lock', 'text.idx'], 'no file was created')
})

t.test('an I/O failure while copying leaves no file behind', async t => {
  const dir = tmpDir(t)
  const { file, idx } = live(dir)
  idx.close()
  for (const op of ['write', 'datasync'] as const) {
    const vfs = new FaultyVfs()
    vfs.arm({ op, nth: 1, kind: op === 'write' ? 'ENOSPC' : 'EIO' })
    const dest = path.join(dir, `copy-${op}.idx`)
    let err: unknown
    try { backupFile(file, dest, {}, vfs) } catch (e) { err = e }
    t.ok(err instanceof TailrootError && err.code === 'IO', `a failed ${op}: IO (${String(err)})`)
    t.match((err as Error).message, /backup-[0-9a-f]{12}\.tmp/, 'the message names the file it was writing')
    t.same(fs.readdirSync(dir).filter(n => n.startsWith(`copy-${op}`)), [], `a failed ${op} leaves neither the copy nor its temporary file`)
  }
})

t.test('tailroot backup', async t => {
  const dir = tmpDir(t)
  const { file, idx } = live(dir)
  const s = idx.stats()
  idx.close()
  const a = await cli(['backup', file, path.join(dir, 'a.idx')])
  t.equal(a.code, 0, a.stderr)
  t.match(a.stdout, new RegExp(`^backed up .*live\\.idx to .*a\\.idx: sequence ${s.sequence}, 1,199 entries, [\\d,]+ bytes\\n$`))
  const j = await cli(['backup', file, path.join(dir, 'b.idx'), '--json'])
  t.equal(j.code, 0, j.stderr)
  t.same(JSON.parse(j.stdout), { sequence: s.sequence, entries: 1199, bytes: (s.commitPage + 1) * 512 })
  const again = await cli(['backup', file, path.join(dir, 'b.idx')])
  t.equal(again.code, 4, 'an existing destination is refused')
  t.match(again.stderr, /b\.idx: Index\.backup writes a new file, but the file already exists/)
  t.equal((await cli(['verify', path.join(dir, 'a.idx')])).code, 0)
})
