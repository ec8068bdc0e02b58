/** A small seeded PRNG (mulberry32) for randomised tests; every test prints its seed on failure. */
export class Rng {
  private s: number
  readonly seed: number

  constructor(seed: number) {
    this.seed = seed >>> 0
    this.s = this.seed
  }

  /** A seed from TAILROOT_SEED, else a fresh one. */
  static seedFromEnv(): number {
    const env = process.env.TAILROOT_SEED
    return env !== undefined && env !== '' ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }
}
