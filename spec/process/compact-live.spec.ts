// Compaction while a writer process and reader processes use the file: every write acknowledged
// before, during and after it is in the compacted file, readers never see a broken state, a
// reader that never calls refresh() follows to the new file, verify passes, and the churned file
// shrinks by more than half.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { runChild, startTogether } from '../helpers/children/run.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { spawnCli } from '../cli/run-cli.ts'

function lastAck(lines: string[]): number {
  let n = -1
  for (const l of lines) if (l.startsWith('ack ')) n = Math.max(n, Number(l.split(' ')[1]))
  return n
}

t.test('compaction under a live writer and readers', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const dir = tmpDir(t)
  const file = path.join(dir, 'live.idx')
  // Churn: single commits that each leave dead pages behind, and in the end no pair (the
  // readers check that the file holds nothing but what the writer wrote).
  const idx = Index.open(file, { durability: 'none' })
  for (let i = 0; i < 300; i++) idx.insert(`pad/${String(rng.int(2000)).padStart(4, '0')}`, i)
  for (const [k, r] of [...idx.range()]) idx.delete(k, r)
  idx.close()
  const go = path.join(dir, 'go')
  const stop = path.join(dir, 'stop')
  const writer = runChild('auto-writer', [file, seed, 120_000, go])
  const reader = runChild('reader', [file, 'readOnly', go, stop])
  const implicit = runChild('implicit-reader', [file, go, stop])
  if (!await startTogether(t, [writer, reader, implicit], go, seed)) return
  const ackAt = (n: number, what: string): Promise<string> => writer.waitFor(l => l.startsWith('ack ') && Number(l.split(' ')[1]) >= n, 60_000, what)
  await ackAt(20, 'ack 20')

  const r = await spawnCli(['compact', file, '--json'])
  t.equal(r.code, 0, `compact exits 0 (seed ${seed}): ${r.stderr}`)
  const c = JSON.parse(r.stdout)
  t.equal(c.replaced, true)
  t.ok(c.bytesAfter * 2 <= c.bytesBefore, `shrinks by at least half: ${c.bytesBefore} -> ${c.bytesAfter} (seed ${seed})`)
  // Writes after the compaction: they land in the new file, and the reader that never refreshes sees them.
  const after = lastAck(writer.lines) + 10
  await ackAt(after, `ack ${after} after the compaction`)
  await implicit.waitFor(l => l.startsWith('seen ') && Number(l.split(' ')[1]) > after, 60_000, `the implicit reader seeing rowId ${after}`)
  writer.kill('SIGKILL')
  await writer.exited
  fs.writeFileSync(stop, '')
  for (const ch of [reader, implicit]) {
    const e = await ch.exited
    t.equal(e.code, 0, `${ch.name} ends cleanly: ${ch.lines.filter(l => l.startsWith('bad') || l.startsWith('error')).join(' | ')} ${ch.stderr.slice(-500)}`)
    t.ok(ch.lines.some(l => l.startsWith('done ')), `${ch.name} finished its checks`)
  }
  const acked = lastAck(writer.lines)
  const final = Index.open(file, { readOnly: true })
  const auto = final.get('auto')
  t.ok(auto.length >= acked + 1, `every acknowledged write is there: ${auto.length} rowIds, last ack ${acked} (seed ${seed})`)
  t.ok(auto.every((r, i) => r === i), 'and nothing else')
  final.close()
  t.ok(Index.verify(file).ok, 'verify passes')
  t.same(fs.readdirSync(dir).filter(f => f.includes('.compact-')), [], 'no temporary file')
  t.end()
})
