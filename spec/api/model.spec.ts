/**
 * Model-based random tests of the whole public API against an in-memory reference (see
 * spec/helpers/model-run.ts), utf8 keys at page sizes 512 (splits and merges on nearly every
 * commit) and 4096. spec/api/model-binary-unique.spec.ts runs binary keys and a unique index.
 * TAILROOT_SEED=n replays one seed; TAILROOT_SOAK=1 runs 10 times as many operations, TAILROOT_SOAK=n (n ≥ 2) n times (spec/helpers/soak.ts).
 */
import t from 'tap'
import { utf8Kind } from '../helpers/model.ts'
import { modelTest } from '../helpers/model-run.ts'
import { Rng } from '../helpers/rng.ts'
import { soakFactor } from '../helpers/soak.ts'

const soak = soakFactor
const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

modelTest(t, seed, { name: 'utf8 P=512', kind: utf8Kind, pageSize: 512, unique: false, ops: 3000 * soak, maxTarget: 2500, longRate: 0.06 })
modelTest(t, seed, { name: 'utf8 P=4096', kind: utf8Kind, pageSize: 4096, unique: false, ops: 2500 * soak, maxTarget: 6000, longRate: 0.1 })
