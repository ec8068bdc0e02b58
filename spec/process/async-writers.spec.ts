// Two processes making concurrent asynchronous writes to one file at the same time: their group
// commits take turns at the write lock, both finish, and the file holds every write either of
// them saw resolve, with every transaction whole (spec/crash/async-ledger.ts).
//
// TAILROOT_SEED=n reruns one seed.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { AsyncLedger } from '../crash/async-ledger.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { runChild } from '../helpers/children/run.ts'

const CALLS = 800

t.test('two processes of async writers share one file', async t => {
  const seed = Rng.seedFromEnv()
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const dir = tmpDir(t)
  const file = path.join(dir, 'shared.idx')
  const go = path.join(dir, 'go')
  Index.open(file, { pageSize: 512 }).close()
  const children = [0, 1].map(round => runChild('async-writer', [file, seed, round, 8, CALLS, go]))
  t.teardown(() => { for (const c of children) c.kill() })
  await Promise.all(children.map(c => c.waitFor(l => l.startsWith('ready '), 60_000, 'ready line')))
  fs.writeFileSync(go, '')
  const exits = await Promise.all(children.map(c => c.exited))
  const ledger = new AsyncLedger()
  for (const [i, c] of children.entries()) {
    t.equal(exits[i]!.code, 0, `writer ${i} finished cleanly; stderr: ${c.stderr.slice(-2000)}; last lines: ${c.lines.slice(-3).join(' | ').slice(0, 2000)}`)
    t.ok(c.lines.some(l => l.startsWith('done ')), `writer ${i} made its ${CALLS} calls`)
    t.equal(ledger.read(c.lines), null, `writer ${i} printed only protocol lines`)
  }
  t.equal(ledger.check(file), null, `every resolved write of both is in the file, every transaction whole (seed ${seed})`)
  const idx = Index.open(file, { readOnly: true })
  t.comment(`${ledger.resolved} resolved writes in ${idx.sequence} commits`)
  t.ok(idx.sequence < ledger.resolved, 'the writes were grouped into fewer commits')
  idx.close()
})
