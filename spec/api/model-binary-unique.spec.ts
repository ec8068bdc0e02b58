/**
 * Model-based random tests (see spec/helpers/model-run.ts) of binary keys and of unique indexes.
 * TAILROOT_SEED=n replays one seed; TAILROOT_SOAK=1 runs 10 times as many operations, TAILROOT_SOAK=n (n ≥ 2) n times (spec/helpers/soak.ts).
 */
import t from 'tap'
import { binaryKind, utf8Kind } from '../helpers/model.ts'
import { modelTest } from '../helpers/model-run.ts'
import { Rng } from '../helpers/rng.ts'
import { soakFactor } from '../helpers/soak.ts'

const soak = soakFactor
const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

modelTest(t, seed, { name: 'binary P=512', kind: binaryKind, pageSize: 512, unique: false, ops: 3000 * soak, maxTarget: 2500, longRate: 0.06 })
modelTest(t, seed, { name: 'unique utf8 P=512', kind: utf8Kind, pageSize: 512, unique: true, ops: 2500 * soak, maxTarget: 2500, longRate: 0.06 })
modelTest(t, seed, { name: 'unique binary P=4096', kind: binaryKind, pageSize: 4096, unique: true, ops: 800 * soak, maxTarget: 4000, longRate: 0.2 })
