/**
 * Many concurrent asynchronous writers on one handle, against a model applied in call order:
 * inserts, deletes, bad input, and transactions (some throwing on purpose, some hitting a unique
 * violation halfway). Every call must settle as the model says, a resolved write must be visible
 * to the handle when its promise resolves, each transaction is all or nothing, and the file ends
 * up holding exactly the model (for a fresh handle too) and verifies.
 *
 * Each writer draws its calls from its own generator seeded from the test seed, so a seed fixes
 * what each writer does; how calls of different writers interleave follows the group timing.
 * TAILROOT_SEED=n reruns one seed.
 */
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import type { Durability } from '../../lib/index.ts'
import { PairSet, describeDiff, listIndex } from '../crash/pair-set.ts'
import { Rng } from '../helpers/rng.ts'
import { soakFactor } from '../helpers/soak.ts'
import { tmpDir } from '../helpers/tmp.ts'

type Step = { ins: boolean; k: string; r: number }

/** What a call should settle with: a value, or a rejection with a code (or message). */
type Expect = { value: unknown } | { error: string }

interface Config {
  name: string
  unique: boolean
  durability: Durability
  maxPendingChanges?: number
  writers: number
  callsPerWriter: number
}

const CONFIGS: Config[] = [
  { name: 'non-unique, durable', unique: false, durability: 'full', writers: 8, callsPerWriter: 60 },
  { name: 'unique, folding often', unique: true, durability: 'none', maxPendingChanges: 24, writers: 12, callsPerWriter: 80 },
]

/** The model and a journal to roll a failed transaction back. */
class Model {
  readonly pairs = new PairSet()
  private readonly unique: boolean
  meta: string | null = null

  constructor(unique: boolean) {
    this.unique = unique
  }

  /** Applies one change as the index would: its result, or the error code it throws. */
  apply(s: Step, journal: Step[] | null): boolean {
    if (s.ins) {
      if (this.pairs.has(s.k, s.r)) return false
      if (this.unique && (this.pairs.keys().get(s.k)?.size ?? 0) > 0) throw new Error('UNIQUE_VIOLATION')
      this.pairs.insert(s.k, s.r)
    } else if (!this.pairs.delete(s.k, s.r)) {
      return false
    }
    journal?.push(s)
    return true
  }

  undo(journal: Step[]): void {
    for (let i = journal.length - 1; i >= 0; i--) {
      const s = journal[i]!
      if (s.ins) this.pairs.delete(s.k, s.r)
      else this.pairs.insert(s.k, s.r)
    }
  }
}

function codeOf(err: unknown): string {
  return err instanceof TailrootError ? err.code : (err as Error).message
}

async function runConfig(t: Test, cfg: Config, seed: number): Promise<void> {
  const file = path.join(tmpDir(t), 'model.idx')
  const idx = Index.open(file, {
    pageSize: 512, unique: cfg.unique, durability: cfg.durability,
    ...(cfg.maxPendingChanges === undefined ? {} : { maxPendingChanges: cfg.maxPendingChanges }),
  })
  t.teardown(() => idx.close())
  const model = new Model(cfg.unique)
  const where = `seed ${seed}, ${cfg.name}`
  const failures: string[] = []
  // The model's contents after each call, to check what the handle reads when a call settles:
  // the state after some call at or after it (its group commits a run of calls in call order).
  const statesAt = new Map<string, number[]>()
  const note = (call: number): void => {
    const st = model.pairs.list().join('\n')
    let l = statesAt.get(st)
    if (l === undefined) statesAt.set(st, (l = []))
    l.push(call)
  }
  let unseen = 0
  const seen = (call: number): void => {
    const now = listIndex(idx).join('\n')
    if (!(statesAt.get(now) ?? []).some(c => c >= call)) {
      if (unseen++ === 0) failures.push(`when call ${call} settled, the handle read a state that is not the model after it or any later call`)
    }
  }
  let calls = 0
  let txCalls = 0
  let rejected = 0

  /** Issues one random call: applies it to the model now (call order) and returns its check. */
  const issue = (rng: Rng): Promise<void> => {
    const call = calls++
    const key = (): string => `k${String(rng.int(cfg.unique ? 40 : 16)).padStart(2, '0')}`
    const rowId = (): number => rng.int(cfg.unique ? 3 : 6)
    const x = rng.next()
    let p: Promise<unknown>
    let expect: Expect
    if (x < 0.35) {
      const s = { ins: true, k: key(), r: rowId() }
      try { expect = { value: model.apply(s, null) } } catch (err) { expect = { error: (err as Error).message } }
      p = idx.insertAsync(s.k, s.r)
    } else if (x < 0.6) {
      const s = { ins: false, k: key(), r: rowId() }
      expect = { value: model.apply(s, null) }
      p = idx.deleteAsync(s.k, s.r)
    } else if (x < 0.65) {
      expect = { error: 'INVALID_ARGUMENT' }
      p = idx.insertAsync(key(), rng.pick([-1, 0.5, 2 ** 53]))
    } else {
      txCalls++
      const steps: Step[] = Array.from({ length: 1 + rng.int(6) }, () => ({ ins: rng.next() < 0.65, k: key(), r: rowId() }))
      const throwAt = rng.next() < 0.2 ? rng.int(steps.length + 1) : -1
      const meta = rng.next() < 0.15 ? `meta ${call}` : undefined
      // An ordered read in the middle (it merges the transaction's changes so far into its log).
      const readAt = rng.next() < 0.3 ? rng.int(steps.length) : -1
      const journal: Step[] = []
      const results: (boolean | number)[] = []
      try {
        for (let i = 0; i < steps.length; i++) {
          if (i === throwAt) throw new Error('planned')
          results.push(model.apply(steps[i]!, journal))
          if (i === readAt) results.push(model.pairs.size)
        }
        if (throwAt === steps.length) throw new Error('planned')
        if (meta !== undefined) model.meta = meta
        expect = { value: { results, count: model.pairs.size } }
      } catch (err) {
        model.undo(journal)
        expect = { error: (err as Error).message }
      }
      p = idx.transactionAsync(tx => {
        const out: (boolean | number)[] = []
        for (let i = 0; i < steps.length; i++) {
          if (i === throwAt) throw new Error('planned')
          const s = steps[i]!
          out.push(s.ins ? tx.insert(s.k, s.r) : tx.delete(s.k, s.r))
          if (i === readAt) out.push(tx.countRange())
        }
        if (throwAt === steps.length) throw new Error('planned')
        return { results: out, count: tx.count() }
      }, meta === undefined ? undefined : { meta: Buffer.from(meta) })
    }
    note(call)
    const want = expect
    return p.then(
      value => {
        seen(call)
        if ('error' in want) failures.push(`call ${call} resolved with ${JSON.stringify(value)}, expected a rejection with ${want.error}`)
        else if (JSON.stringify(value) !== JSON.stringify(want.value)) failures.push(`call ${call} resolved with ${JSON.stringify(value)}, expected ${JSON.stringify(want.value)}`)
      },
      err => {
        seen(call)
        rejected++
        if (!('error' in want)) failures.push(`call ${call} rejected with ${codeOf(err)}, expected ${JSON.stringify(want.value)}`)
        else if (codeOf(err) !== want.error) failures.push(`call ${call} rejected with ${codeOf(err)}, expected ${want.error}`)
      },
    )
  }

  const writer = async (w: number): Promise<void> => {
    const rng = new Rng((seed ^ Math.imul(w + 1, 0x9e3779b1)) >>> 0)
    for (let i = 0; i < cfg.callsPerWriter * soakFactor; ) {
      // Mostly one call at a time, awaited; sometimes a few at once.
      const burst = rng.next() < 0.2 ? 2 + rng.int(3) : 1
      const ps: Promise<void>[] = []
      for (let j = 0; j < burst; j++, i++) ps.push(issue(rng))
      await Promise.all(ps)
    }
  }
  const seq0 = idx.sequence
  await Promise.all(Array.from({ length: cfg.writers }, (_, w) => writer(w)))

  if (failures.length > 0) {
    t.fail(`${failures.length} calls settled unlike the model (${where}): ${failures.slice(0, 5).join('; ')}`)
    return
  }
  t.pass(`${calls} calls settled as the model says, each seeing a state that includes it (${where})`)
  const diff = describeDiff(model.pairs.list(), listIndex(idx))
  t.equal(diff, null, `the handle holds exactly the model (${where})`)
  t.equal(idx.meta?.toString() ?? null, model.meta, `meta (${where})`)
  const fresh = Index.open(file, { readOnly: true })
  t.equal(describeDiff(model.pairs.list(), listIndex(fresh)), null, `so does a fresh handle (${where})`)
  fresh.close()
  const v = Index.verify(file)
  t.ok(v.ok && v.entries === model.pairs.size, `the file verifies (${where}): ${JSON.stringify(v).slice(0, 500)}`)
  const commits = idx.sequence - seq0
  t.ok(commits < calls, `${calls} calls (${txCalls} transactions, ${rejected} rejected) made ${commits} commits (${where})`)
}

const seed = Rng.seedFromEnv()
for (const cfg of CONFIGS) {
  t.test(`concurrent async writers against a model: ${cfg.name}`, async t => {
    t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
    await runConfig(t, cfg, seed)
  })
}
