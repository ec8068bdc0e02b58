// A writer of a set of three indexes (spec/helpers/children/set-writer.ts) is killed with SIGKILL
// at random moments, again and again on one file: afterwards every index holds exactly the same
// rows, every acknowledged row is there, at most the batch in flight more, and the file verifies.
// No kill leaves one index ahead of another.
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 runs 60 rounds instead of 8.
import path from 'node:path'
import t from 'tap'
import { Index, IndexSet } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { killAfterReady, runChild } from '../helpers/children/run.ts'

const ROUNDS = SOAK ? 60 : 8

t.test('SIGKILL never leaves one index of a set ahead of another', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun), ${ROUNDS} rounds`)
  const file = path.join(tmpDir(t), 'killed.set')
  let acked = 0
  for (let round = 0; round < ROUNDS; round++) {
    const where = `seed ${seed}, round ${round}`
    const child = runChild('set-writer', [file, seed + round])
    if (!await killAfterReady(t, child, rng.pick([0, 5, 20, 50, 100, 200]) + rng.int(15), where)) return
    const ready = Number(child.lines[0]!.split(' ')[1])
    t.ok(ready >= acked, `the restarted writer found every acknowledged row (${ready} ≥ ${acked}, ${where})`)
    for (const l of child.lines.slice(1)) acked = Number(l.split(' ')[1])
    const set = IndexSet.open(file, { readOnly: true })
    const ids = set.names().map(n => [...set.index(n).range()].map(p => p[1]).sort((a, b) => a - b))
    set.close()
    const rows = ids[0]!.length
    const same = ids.every(x => x.length === rows && x.every((r, i) => r === ids[0]![i]))
    t.ok(same, `every index holds the same rows (${ids.map(x => x.length).join(', ')}, ${where})`)
    t.ok(rows >= acked && rows <= acked + 20, `the acknowledged rows and at most the batch in flight (${rows} rows, ${acked} acknowledged, ${where})`)
    t.ok(ids[0]!.every((r, i) => r === i), `rows 0..${rows - 1} (${where})`)
    acked = rows
    const v = Index.verify(file)
    t.same(v.errors, [], `the file verifies (${where})`)
  }
})
