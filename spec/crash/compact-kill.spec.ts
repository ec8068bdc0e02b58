// A compaction killed with SIGKILL at random points (during the copy, and around the switch)
// leaves the index intact and usable, with the same content; the next compaction removes what
// the killed one left, and the temporary file is never opened as the index.
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 runs 40 rounds instead of 6.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { Index } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { runChild } from '../helpers/children/run.ts'
import { SOAK } from '../helpers/soak.ts'
import { tmpDir } from '../helpers/tmp.ts'

const ROUNDS = SOAK ? 40 : 6
const PAIRS = 60_000

function digest(file: string): { sequence: number; count: number; hash: string } {
  const idx = Index.open(file, { readOnly: true })
  try {
    const h = createHash('sha256')
    for (const [k, r] of idx.range()) h.update(`${k}\t${r}\n`)
    return { sequence: idx.sequence, count: idx.count(), hash: h.digest('hex') }
  } finally {
    idx.close()
  }
}

t.test('SIGKILL during a compaction leaves the original intact and usable', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun), ${ROUNDS} rounds`)
  const dir = tmpDir(t)
  const template = path.join(dir, 'template.idx')
  Index.build(template, Array.from({ length: PAIRS }, (_, i) => [`key/${String(i).padStart(7, '0')}`, i] as [string, number]), { durability: 'none' }).close()
  const idx = Index.open(template, { durability: 'none' })
  for (let i = 0; i < 40; i++) idx.insert(`key/${String(rng.int(PAIRS)).padStart(7, '0')}x`, i) // splits: dead pages to reclaim
  idx.close()
  fs.rmSync(`${template}.lock`)
  const want = digest(template)
  const file = path.join(dir, 'k.idx')
  const outcomes = { copying: 0, early: 0, finished: 0 }
  let leftovers = 0
  for (let round = 0; round < ROUNDS; round++) {
    const where = `seed ${seed}, round ${round}`
    fs.copyFileSync(template, file)
    const child = runChild('compactor', [file])
    try {
      await child.waitFor(l => l === 'ready', 60_000, 'ready line')
      if (rng.next() < 0.7) {
        // Somewhere in the copy: after the k-th progress report.
        const k = 1 + rng.int(Math.floor(PAIRS / 4096))
        await child.waitFor(l => (l.startsWith('progress ') && Number(l.split(' ')[1]) >= k * 4096) || l.startsWith('done '), 60_000, 'progress line')
      } else {
        await new Promise(r => setTimeout(r, rng.int(300)))
      }
    } catch (err) {
      child.kill()
      t.fail(`the compactor did not run (${where}): ${(err as Error).message}`)
      return
    }
    child.kill('SIGKILL')
    await child.exited
    const done = child.lines.some(l => l.startsWith('done '))
    outcomes[done ? 'finished' : child.lines.some(l => l.startsWith('progress ')) ? 'copying' : 'early']++
    leftovers += fs.readdirSync(dir).filter(f => f.startsWith('k.idx.compact-')).length
    t.notOk(child.lines.some(l => l.startsWith('error ')), `no error in the compactor (${where}): ${child.lines.find(l => l.startsWith('error'))}`)
    t.same(digest(file), want, `the index has the same sequence and pairs (${where})`)
    const v = Index.verify(file)
    t.ok(v.ok, `verify passes (${where}): ${JSON.stringify(v.errors.slice(0, 3))}`)
    const w = Index.open(file)
    t.equal(w.insert('after-kill', round), true, `a writer can write (${where})`)
    w.close()
  }
  t.comment(`kills: ${JSON.stringify(outcomes)}, temporary files seen after them: ${leftovers}`)
  if (outcomes.copying > 0) t.ok(leftovers > 0, `a kill during the copy leaves a temporary file behind (seed ${seed})`)
  // The last round's leftovers, if any, go with the next compaction.
  fs.copyFileSync(template, file)
  const r = Index.compact(file)
  t.equal(r.replaced, true)
  t.same(fs.readdirSync(dir).sort(), ['k.idx', 'k.idx.lock', 'template.idx'], 'nothing but the index, its lock and the template is left')
  t.same(digest(file), want, 'the compacted index has the same sequence and pairs')
  t.end()
})
