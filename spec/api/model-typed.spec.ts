/**
 * Model-based random tests (see spec/helpers/model-run.ts) of typed keys: tuples of nulls,
 * booleans, numbers, bigints, Dates, strings and byte strings (spec/helpers/typed-kind.ts), with
 * prefix queries, against the in-memory reference.
 * TAILROOT_SEED=n replays one seed; TAILROOT_SOAK=1 runs 10 times as many operations, TAILROOT_SOAK=n (n ≥ 2) n times (spec/helpers/soak.ts).
 */
import t from 'tap'
import { modelTest } from '../helpers/model-run.ts'
import { Rng } from '../helpers/rng.ts'
import { soakFactor } from '../helpers/soak.ts'
import { typedKind } from '../helpers/typed-kind.ts'

const soak = soakFactor
const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

modelTest(t, seed, { name: 'typed P=512', kind: typedKind, pageSize: 512, unique: false, ops: 2000 * soak, maxTarget: 2000, longRate: 0.06 })
modelTest(t, seed, { name: 'unique typed P=1024', kind: typedKind, pageSize: 1024, unique: true, ops: 2000 * soak, maxTarget: 2500, longRate: 0.06 })
