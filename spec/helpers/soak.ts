/**
 * The long-soak switch. TAILROOT_SOAK=1 (or true) runs every soak: more kill rounds, more fuzz
 * cases, and 10 times the random operations of the model runs; TAILROOT_SOAK=n (n ≥ 2) runs n
 * times the model operations. Unset or 0: the default run.
 */
const env = (process.env.TAILROOT_SOAK ?? '').trim().toLowerCase()
const n = Number(env)

export const SOAK = env !== '' && env !== '0' && env !== 'false'

/** Multiplier for the number of random operations in model runs. */
export const soakFactor = !SOAK ? 1 : Number.isFinite(n) && n >= 2 ? Math.floor(n) : 10
