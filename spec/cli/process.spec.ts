// bin/tailroot as a user runs it: a real process, its exit status, and stderr without stack
// traces; a compaction that cannot get the lock exits 3; a reader of dump that goes away (EPIPE)
// ends it quietly.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { Index } from '../../lib/index.ts'
import { runChild } from '../helpers/children/run.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { bin, spawnCli } from './run-cli.ts'

t.test('exit statuses and one-line errors of the real command', async t => {
  const dir = tmpDir(t)
  const v = await spawnCli(['--version'])
  t.same([v.code, v.stderr], [0, ''])
  t.match(v.stdout, /^\d+\.\d+\.\d+\n$/)
  const none = await spawnCli([])
  t.equal(none.code, 2)
  t.equal(none.stderr, "tailroot: no command given\nRun 'tailroot --help' for usage.\n")
  const missing = await spawnCli(['stats', path.join(dir, 'missing.idx')])
  t.equal(missing.code, 4)
  t.match(missing.stderr, /^tailroot: stats: .*missing\.idx: no such index file[^\n]*\n$/, 'one line, no stack')
  const file = path.join(dir, 'd.idx')
  Index.build(file, Array.from({ length: 2000 }, (_, i) => [`k${String(i).padStart(5, '0')}`, i] as [string, number]), { pageSize: 512 }).close()
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 2 * 512 + 100)
  fs.closeSync(fd)
  const damaged = await spawnCli(['verify', file])
  t.equal(damaged.code, 1)
  t.match(damaged.stdout, /page 2: checksum mismatch/)
  t.end()
})

t.test('compact exits 3 while another process holds the write lock, and works once it is released', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'l.idx')
  const idx = Index.open(file)
  for (let i = 0; i < 20; i++) idx.insert(`k${i}`, i)
  idx.close()
  const release = path.join(dir, 'release')
  const holder = runChild('lock-holder', [file, release])
  t.teardown(() => holder.kill())
  await holder.waitFor(l => l === 'holding', 60_000, 'holding line')
  const r = await spawnCli(['compact', file, '--timeout', '300'])
  t.equal(r.code, 3, `exit 3: ${r.stderr}`)
  t.match(r.stderr, /^tailroot: compact: .*l\.idx: another writer holds the write lock; gave up after waiting \d+ ms[^\n]*\n$/)
  t.equal(r.stdout, '')
  t.same(fs.readdirSync(dir).sort(), ['l.idx', 'l.idx.lock'], 'no temporary file')
  fs.writeFileSync(release, '')
  await holder.waitFor(l => l.startsWith('committed '), 60_000, 'committed line')
  const ok = await spawnCli(['compact', file, '--json'])
  t.equal(ok.code, 0, ok.stderr)
  t.match(JSON.parse(ok.stdout), { entries: 21, sequence: 21, replaced: true })
  t.end()
})

t.test('dump into a reader that goes away ends quietly', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'big.idx')
  Index.build(file, Array.from({ length: 200_000 }, (_, i) => [`key${String(i).padStart(7, '0')}`, i] as [string, number])).close()
  const p = spawn(process.execPath, [bin, 'dump', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  await new Promise<void>(resolve => p.stdout.once('data', () => { p.stdout.destroy(); resolve() }))
  const code = await new Promise<number | null>(resolve => p.on('close', c => resolve(c)))
  t.equal(code, 0)
  t.equal(stderr, '')
  t.end()
})
