// A process making concurrent asynchronous writes (group commits, durability 'full') is killed
// with SIGKILL at random moments, again and again on one file: every write whose promise resolved
// (the child printed it) is in the file, every delete that resolved is absent, no transaction is
// there in part, a transaction that threw left nothing, and the file verifies (async-ledger.ts).
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 runs 100 rounds instead of 12.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { killAfterReady, runChild } from '../helpers/children/run.ts'
import { SOAK } from '../helpers/soak.ts'
import { AsyncLedger } from './async-ledger.ts'

const ROUNDS = SOAK ? 100 : 12
const WRITERS = 16

t.test('SIGKILL during group commits loses no resolved write and tears no transaction', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun), ${ROUNDS} rounds`)
  const file = path.join(tmpDir(t), 'killed.idx')
  const ledger = new AsyncLedger()

  for (let round = 0; round < ROUNDS; round++) {
    const where = `seed ${seed}, round ${round}`
    const child = runChild('async-writer', [file, seed, round, WRITERS])
    if (!await killAfterReady(t, child, rng.pick([5, 20, 50, 100, 200, 400]) + rng.int(20), where)) return
    const odd = ledger.read(child.lines)
    if (odd !== null) { t.fail(`unexpected line from the writer (${where}): ${odd.slice(0, 3000)}`); return }
    const wrong = ledger.check(file)
    if (wrong !== null) { t.fail(`after the kill (${where}): ${wrong}`); return }
  }
  t.comment(`${ledger.resolved} resolved writes over ${ROUNDS} kills; ${ledger.present.size} pairs and ${ledger.groups.size} transactions required at the end; ${fs.statSync(file).size} bytes`)
  t.ok(ledger.resolved >= ROUNDS * 10, `the writers had writes resolved between kills (${ledger.resolved}, seed ${seed})`)
  t.pass(`${ROUNDS} kills, every resolved write present, no partial transaction (seed ${seed})`)
})
