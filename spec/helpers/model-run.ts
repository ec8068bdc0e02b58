/**
 * The model-based random run behind spec/api/model*.spec.ts: random autocommit writes,
 * transactions (committed, rolled back, no-op, insert-then-delete), reads inside transactions,
 * close and reopen, pinned snapshots; after every operation every read call is compared with the
 * reference Model, and Index.verify runs every few commits.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Test } from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import { maxMetaBytes } from '../../lib/format/constants.ts'
import type { Key, OpenOptions, Snapshot, Transaction } from '../../lib/index.ts'
import { Divergence, KeyGen, Model, describeQuery, expectSame, randomRange, randomRowId, showPairs } from './model.ts'
import type { KeyKind, Pair, RangeQuery } from './model.ts'
import { Rng } from './rng.ts'
import { tmpDir } from './tmp.ts'

export interface ModelConfig<K> {
  name: string
  pageSize: number
  kind: KeyKind<K>
  unique: boolean
  ops: number
  /** Largest size a growth phase aims for before shrinking again. */
  maxTarget: number
  /** Fraction of keys drawn at up to the maximum key size. */
  longRate: number
}

/** The read calls every view shares. */
interface Reader<K> {
  readonly sequence: number
  get(key: K): number[]
  has(key: K, rowId?: number): boolean
  count(key?: K): number
  countRange(bounds?: { gt?: K; gte?: K; lt?: K; lte?: K }): number
  range(options?: RangeQuery<K>): IterableIterator<[K, number]>
}

interface Pinned<K extends Key> {
  snap: Snapshot<K>
  model: Model<K>
  seq: number
  meta: string | null
  until: number
}

class Rollback extends Error {}

export interface RunSummary {
  ops: number
  commits: number
  emptied: number
  maxHeight: number
  maxEntries: number
  verifies: number
  reads: number
}

export function runModel<K extends Key>(t: Test, cfg: ModelConfig<K>, seed: number): RunSummary {
  const rng = new Rng(seed)
  const kind = cfg.kind
  const file = path.join(tmpDir(t), 'model.tailroot')
  // Commits fold into the tree every time, now and then, or (after a reopen) rarely (FORMAT.md §10).
  // The first open always folds now and then, so that every run grows a tree of several levels.
  const pickPending = (rarely: boolean): number => rng.pick([0, 1 + rng.int(8), 10 + rng.int(200), ...(rarely ? [131072] : [])])
  const opts = { pageSize: cfg.pageSize, keyEncoding: kind.encoding, unique: cfg.unique, durability: 'none' as const, maxPendingChanges: pickPending(false) }
  t.comment(`maxPendingChanges ${opts.maxPendingChanges}`)
  // The key type follows the kind, which the compiler cannot tie to its encoding here.
  const open = (o: OpenOptions): Index<K> => Index.open(file, o) as unknown as Index<K>
  let idx = open(opts)
  const maxKey = idx.maxKeyBytes
  const maxMeta = maxMetaBytes(cfg.pageSize)
  const gen = new KeyGen<K>(rng, kind, maxKey, 40, cfg.longRate)
  let model = new Model<K>(kind, cfg.unique)
  let seq = 0
  let meta: Buffer | null = null
  const pinned: Pinned<K>[] = []
  const log: string[] = []
  const summary: RunSummary = { ops: 0, commits: 0, emptied: 0, maxHeight: 0, maxEntries: 0, verifies: 0, reads: 0 }
  let op = 0
  let target = 50 + rng.int(cfg.maxTarget)
  let growing = true
  let dirtySinceVerify = false
  const where = (what: string): string => `seed ${seed} [${cfg.name}] op ${op}: ${what}`
  const note = (s: string): void => { log.push(`op ${op}: ${s}`); if (log.length > 30) log.shift() }

  /** Runs fn, which must throw a TailrootError with `code`. */
  const expectCode = (fn: () => unknown, code: string, what: string | (() => string)): void => {
    let got = 'no error'
    try { fn() } catch (err) { got = err instanceof TailrootError ? err.code : String(err) }
    expectSame(t, got, code, () => where(typeof what === 'string' ? what : what()))
  }

  const show = (p: readonly [K, number]): string => `[${kind.show(p[0])}, ${p[1]}]`
  /** A key for the operation log, shortened when long. */
  const brief = (k: K): string => { const s = kind.show(k); return s.length <= 60 ? s : `${s.slice(0, 50)}…(${kind.bytes(k).length} bytes)` }

  /** Compares every read call, with random arguments, of view `v` with model `m`. */
  const checkReads = (v: Reader<K>, m: Model<K>, label: string, rounds = 1): void => {
    for (let round = 0; round < rounds; round++) {
      summary.reads += 8
      expectSame(t, v.count(), m.size, () => where(`${label} count()`))
      const k = gen.bound(m)
      expectSame(t, v.get(k), m.get(k), () => where(`${label} get(${kind.show(k)})`))
      expectSame(t, v.has(k), m.count(k) > 0, () => where(`${label} has(${kind.show(k)})`))
      expectSame(t, v.count(k), m.count(k), () => where(`${label} count(${kind.show(k)})`))
      const p: Pair<K> = rng.next() < 0.6 && m.size > 0 ? m.randomPairByKey(rng)! : [k, randomRowId(rng)]
      expectSame(t, v.has(p[0], p[1]), m.has(p[0], p[1]), () => where(`${label} has${show(p)}`))
      const b = randomRange(rng, gen, m, true)
      expectSame(t, v.countRange(b), m.countRange(b), () => where(`${label} countRange(${describeQuery(kind, b)})`))
      const q = randomRange(rng, gen, m, false)
      expectSame(t, showPairs(kind, v.range(q)), showPairs(kind, m.range(q)), () => where(`${label} range(${describeQuery(kind, q)})`))
      // A partly consumed iterator yields a prefix of the full result.
      if (rng.next() < 0.2) {
        const it = v.range(q)
        const want = showPairs(kind, m.range(q)).slice(0, 3)
        const got: [string, number][] = []
        for (const x of it) { got.push([kind.id(x[0]), x[1]]); if (got.length === 3) break }
        expectSame(t, got, want, () => where(`${label} first pairs of range(${describeQuery(kind, q)})`))
      }
    }
  }

  const checkAll = (v: Reader<K>, m: Model<K>, label: string): void => {
    expectSame(t, showPairs(kind, v.range()), showPairs(kind, m.pairs()), () => where(`${label} full range()`))
    expectSame(t, showPairs(kind, v.range({ reverse: true })), showPairs(kind, m.pairs()).reverse(), () => where(`${label} full reverse range()`))
  }

  const checkIndex = (): void => {
    expectSame(t, idx.sequence, seq, () => where('sequence'))
    const st = idx.stats()
    expectSame(t, st.entries, model.size, () => where('stats().entries'))
    summary.maxHeight = Math.max(summary.maxHeight, st.height)
    summary.maxEntries = Math.max(summary.maxEntries, model.size)
    expectSame(t, idx.meta?.toString('hex') ?? null, meta?.toString('hex') ?? null, () => where('meta'))
    checkReads(idx, model, 'index', 1)
    for (const p of pinned) {
      expectSame(t, [p.snap.sequence, p.snap.meta?.toString('hex') ?? null], [p.seq, p.meta], () => where('snapshot sequence and meta'))
      checkReads(p.snap, p.model, `snapshot@${p.seq}`, 1)
    }
  }

  const verify = (): void => {
    summary.verifies++
    const res = Index.verify(file)
    expectSame(t, res.errors.map(e => e.message), [], () => where('verify errors'))
    expectSame(t, [res.ok, res.sequence, res.entries], [true, seq, model.size], () => where('verify ok, sequence, entries'))
    dirtySinceVerify = false
  }

  const committed = (changed: boolean): void => {
    if (changed) { seq++; summary.commits++; dirtySinceVerify = true }
  }

  // ---- operations -------------------------------------------------------------------------

  const insertOne = (): void => {
    const k = gen.next()
    const r = rng.next() < 0.2 && model.count(k) > 0 ? model.get(k)[0]! : randomRowId(rng)
    note(`insert(${brief(k)}, ${r})`)
    if (model.violates(k, r)) {
      expectCode(() => idx.insert(k, r), 'UNIQUE_VIOLATION', () => `insert(${kind.show(k)}, ${r}) into a unique index`)
      return
    }
    const want = model.insert(k, r)
    expectSame(t, idx.insert(k, r), want, () => where(`insert(${kind.show(k)}, ${r}) result`))
    committed(want)
  }

  const deleteOne = (): void => {
    const p: Pair<K> = rng.next() < 0.75 && model.size > 0 ? model.randomPairByKey(rng)! : [gen.next(), randomRowId(rng)]
    note(`delete(${brief(p[0])}, ${p[1]})`)
    const want = model.delete(p[0], p[1])
    expectSame(t, idx.delete(p[0], p[1]), want, () => where(`delete${show(p)} result`))
    committed(want)
  }

  /**
   * The file's size and the page after the newest commit. Every commit writes that page first
   * (its first data page, or its commit page, FORMAT.md §8), and only zeros may lie there before:
   * a write that went into preallocated space changes it without changing the size.
   */
  const footprint = (): string => {
    const s = idx.stats()
    const buf = Buffer.alloc(s.pageSize)
    const fd = fs.openSync(file, 'r')
    let n: number
    try { n = fs.readSync(fd, buf, 0, buf.length, (s.commitPage + 1) * s.pageSize) } finally { fs.closeSync(fd) }
    return `${s.fileBytes} bytes, then ${buf.subarray(0, n).toString('hex')}`
  }

  const tooLarge = (): void => {
    let k = gen.long(kind.random(rng, maxKey, maxKey))
    k = kind.concat(k, kind.random(rng, 1, 3))
    note(`insert of a key of ${kind.bytes(k).length} bytes`)
    const before = footprint()
    expectCode(() => idx.insert(k, 1), 'KEY_TOO_LARGE', 'insert of a too-large key')
    expectCode(() => idx.transaction(tx => { tx.delete(gen.next(), 7); tx.insert(k, 1) }), 'KEY_TOO_LARGE', 'a transaction with a too-large key')
    expectSame(t, footprint(), before, () => where('a refused too-large key writes nothing'))
  }

  /** One random write inside a transaction, recorded in `undo`. Returns whether it changed anything. */
  const txWrite = (tx: Transaction<K>, m: Model<K>, undo: (() => void)[], bias: number): boolean => {
    if (rng.next() < bias) {
      const k = gen.next()
      const r = randomRowId(rng)
      if (m.violates(k, r)) {
        // Sometimes the error escapes the callback, which rolls the transaction back.
        if (rng.next() < 0.15) tx.insert(k, r)
        expectCode(() => tx.insert(k, r), 'UNIQUE_VIOLATION', () => `tx.insert(${kind.show(k)}, ${r}) into a unique index`)
        // The refused insert changed nothing; the transaction goes on.
        return false
      }
      const want = m.insert(k, r)
      if (want) undo.push(() => m.delete(k, r))
      expectSame(t, tx.insert(k, r), want, () => where(`tx.insert(${kind.show(k)}, ${r}) result`))
      return want
    }
    const p: Pair<K> = rng.next() < 0.8 && m.size > 0 ? m.randomPairByKey(rng)! : [gen.next(), randomRowId(rng)]
    const want = m.delete(p[0], p[1])
    if (want) undo.push(() => m.insert(p[0], p[1]))
    expectSame(t, tx.delete(p[0], p[1]), want, () => where(`tx.delete${show(p)} result`))
    return want
  }

  /**
   * Runs `body` in a transaction against the live model. When it throws Rollback the model is
   * restored. Checks the sequence afterwards.
   */
  const transaction = (label: string, body: (tx: Transaction<K>, undo: (() => void)[]) => boolean, readRate: number): void => {
    const undo: (() => void)[] = []
    const before = { seq, meta, footprint: footprint() }
    let changed = false
    // Sometimes the transaction is given meta (null clears it); then it commits even when the body changed nothing.
    const givenMeta = rng.next() < 0.05 ? (rng.next() < 0.2 ? null : rng.bytes(rng.int(maxMeta + 1))) : undefined
    // An empty meta stores none: it reads back as null.
    const newMeta = givenMeta !== undefined && givenMeta !== null && givenMeta.length === 0 ? null : givenMeta
    let txRef: Transaction<K> | null = null
    let rolledBack = false
    note(`transaction ${label}${givenMeta === undefined ? '' : ', with meta'}`)
    try {
      idx.transaction(tx => {
        txRef = tx
        expectSame(t, tx.sequence, seq, () => where('tx.sequence is the starting commit'))
        changed = body(tx, undo) || givenMeta !== undefined
        if (readRate > 0 && rng.next() < 0.3) checkReads(tx, model, `tx ${label} end`, 1)
      }, givenMeta === undefined ? undefined : { meta: givenMeta })
    } catch (err) {
      if (!(err instanceof Rollback) && !(err instanceof TailrootError && err.code === 'UNIQUE_VIOLATION' && cfg.unique)) throw err
      rolledBack = true
    }
    if (rolledBack) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!()
      expectSame(t, idx.sequence, before.seq, () => where(`rolled-back transaction ${label} keeps the sequence`))
      expectSame(t, footprint(), before.footprint, () => where(`rolled-back transaction ${label} writes nothing`))
      if (txRef !== null) expectCode(() => txRef!.count(), 'CLOSED', 'reading through an ended transaction')
      return
    }
    if (newMeta !== undefined) meta = newMeta
    committed(changed)
    if (!changed) expectSame(t, footprint(), before.footprint, () => where(`unchanged transaction ${label} writes nothing`))
  }

  /** A transaction of random writes with reads in between; throws midway with probability `throwRate`. */
  const mixedTx = (throwAt: number | null): void => {
    const n = 1 + Math.floor(300 * rng.next() ** 2)
    const bias = growing ? 0.7 : 0.3
    transaction(`mixed of ${n}${throwAt !== null ? `, throwing after ${throwAt}` : ''}`, (tx, undo) => {
      let changed = false
      for (let i = 0; i < n; i++) {
        if (throwAt !== null && i === throwAt) throw new Rollback()
        if (txWrite(tx, model, undo, bias)) changed = true
        if (rng.next() < 0.08) checkReads(tx, model, `tx after ${i + 1} writes`, 1)
      }
      if (throwAt !== null) throw new Rollback()
      return changed
    }, 1)
  }

  /** Every call returns false: inserts of present pairs and deletes of absent ones. */
  const noopTx = (): void => {
    const n = 1 + rng.int(40)
    transaction(`no-op of ${n}`, tx => {
      for (let i = 0; i < n; i++) {
        const p = model.randomPairByKey(rng)
        if (p !== null && rng.next() < 0.5) expectSame(t, tx.insert(p[0], p[1]), false, () => where(`tx.insert${show(p)} of a present pair`))
        else {
          let q: Pair<K> = [gen.next(), randomRowId(rng)]
          if (model.has(q[0], q[1])) q = [kind.succ(q[0]), q[1]]
          if (kind.bytes(q[0]).length > maxKey || model.has(q[0], q[1])) continue
          expectSame(t, tx.delete(q[0], q[1]), false, () => where(`tx.delete${show(q)} of an absent pair`))
        }
      }
      if (rng.next() < 0.3) checkReads(tx, model, 'no-op tx', 1)
      return false
    }, 0)
  }

  /** Inserts then deletes absent pairs (or deletes then re-inserts present ones): content unchanged, sequence + 1. */
  const flipTx = (): void => {
    const n = 1 + rng.int(20)
    transaction(`flip of ${n}`, (tx, undo) => {
      let flipped = false
      for (let i = 0; i < n; i++) {
        const p = rng.next() < 0.5 ? model.randomPairByKey(rng) : null
        if (p !== null) {
          expectSame(t, tx.delete(p[0], p[1]), true, () => where(`tx.delete${show(p)} of a present pair`))
          expectSame(t, tx.has(p[0], p[1]), false, () => where(`tx.has${show(p)} after its delete`))
          expectSame(t, tx.insert(p[0], p[1]), true, () => where(`tx.insert${show(p)} after its delete`))
          flipped = true
        } else {
          const k = gen.next()
          const r = randomRowId(rng)
          if (model.has(k, r) || model.violates(k, r)) continue
          expectSame(t, tx.insert(k, r), true, () => where(`tx.insert[${kind.show(k)}, ${r}] of an absent pair`))
          expectSame(t, tx.get(k), [...model.get(k), r].sort((a, b) => a - b), () => where(`tx.get(${kind.show(k)}) sees its insert`))
          if (rng.next() < 0.3) {
            model.insert(k, r)
            checkReads(tx, model, 'flip tx', 1)
            model.delete(k, r)
          }
          expectSame(t, tx.delete(k, r), true, () => where(`tx.delete[${kind.show(k)}, ${r}] after its insert`))
          flipped = true
        }
        if (rng.next() < 0.1) checkReads(tx, model, 'flip tx', 1)
      }
      void undo
      return flipped
    }, 0)
  }

  /** Many rowIds of one key (non-unique) or many keys (unique) in one transaction. */
  const bulkTx = (): void => {
    const n = 50 + rng.int(cfg.pageSize <= 512 ? 700 : 1500)
    const k = gen.next()
    const start = rng.next() < 0.5 ? rng.int(1000) : randomRowId(rng)
    const step = rng.next() < 0.7 ? 1 : 1 + rng.int(300)
    transaction(`bulk of ${n} under ${brief(k)}`, (tx, undo) => {
      let changed = false
      for (let i = 0; i < n; i++) {
        const key = cfg.unique ? kind.concat(kind.prefix(rng, k), kind.random(rng, 1, 4)) : k
        if (kind.bytes(key).length > maxKey) continue
        const r = Math.min(start + i * step, 2 ** 53 - 1)
        if (model.violates(key, r)) continue
        const want = model.insert(key, r)
        if (want) undo.push(() => model.delete(key, r))
        expectSame(t, tx.insert(key, r), want, () => where(`bulk tx.insert(${kind.show(key)}, ${r})`))
        if (want) changed = true
        if (rng.next() < 0.005) checkReads(tx, model, 'bulk tx', 1)
      }
      if (rng.next() < 0.2) throw new Rollback()
      return changed
    }, 1)
  }

  /** Deletes a contiguous run of pairs, or all of them. */
  const deleteRunTx = (all: boolean): void => {
    const pairs = model.pairs().slice()
    const from = all ? 0 : rng.int(pairs.length + 1)
    const to = all ? pairs.length : Math.min(pairs.length, from + 1 + rng.int(cfg.pageSize <= 512 ? 600 : 1500))
    const run = pairs.slice(from, to)
    transaction(all ? `delete all ${run.length}` : `delete run of ${run.length}`, (tx, undo) => {
      for (const p of rng.next() < 0.5 ? run : run.slice().reverse()) {
        expectSame(t, tx.delete(p[0], p[1]), true, () => where(`run tx.delete${show(p)}`))
        model.delete(p[0], p[1])
        undo.push(() => model.insert(p[0], p[1]))
        if (rng.next() < 0.005) checkReads(tx, model, 'delete-run tx', 1)
      }
      if (rng.next() < 0.1) throw new Rollback()
      if (all) expectSame(t, [tx.count(), [...tx.range()].length], [0, 0], () => where('a transaction that deleted everything sees nothing'))
      return run.length > 0
    }, 1)
  }

  const reopen = (): void => {
    note('close and reopen')
    idx.close()
    expectCode(() => idx.count(), 'CLOSED', 'reading a closed index')
    // Reopen either with the creation options and a new maxPendingChanges, or with none (the file
    // knows its settings; the default keeps changes pending for long).
    opts.maxPendingChanges = pickPending(true)
    const withOptions = rng.next() < 0.5
    note(withOptions ? `maxPendingChanges ${opts.maxPendingChanges}` : 'default options')
    idx = withOptions ? open(opts) : open({ durability: 'none', create: false })
    expectSame(t, [idx.pageSize, idx.keyEncoding, idx.unique], [cfg.pageSize, kind.encoding, cfg.unique], () => where('settings after reopen'))
  }

  const pin = (): void => {
    if (pinned.length >= 3) return
    note('snapshot')
    pinned.push({ snap: idx.snapshot(), model: model.clone(), seq, meta: meta?.toString('hex') ?? null, until: op + 1 + rng.int(80) })
  }

  const expire = (): void => {
    for (let i = pinned.length - 1; i >= 0; i--) {
      const p = pinned[i]!
      if (p.until > op) continue
      checkAll(p.snap, p.model, `snapshot@${p.seq} (pinned at ${p.until})`)
      p.snap.close()
      expectCode(() => p.snap.count(), 'CLOSED', 'reading a closed snapshot')
      pinned.splice(i, 1)
    }
  }

  // ---- the run --------------------------------------------------------------------------------

  try {
    for (op = 1; op <= cfg.ops; op++) {
      summary.ops++
      if (growing && model.size >= target) growing = false
      if (!growing && model.size === 0) { growing = true; target = 50 + rng.int(cfg.maxTarget); summary.emptied++ }
      const x = rng.next() * 100
      if (x < 28) { if (growing || rng.next() < 0.3) insertOne(); else deleteOne() }
      else if (x < 52) { if (!growing || rng.next() < 0.3) deleteOne(); else insertOne() }
      else if (x < 64) mixedTx(null)
      else if (x < 70) mixedTx(rng.int(40))
      else if (x < 74) noopTx()
      else if (x < 78) flipTx()
      else if (x < (growing ? 86 : 80)) bulkTx()
      else if (x < 92) { if (!growing) deleteRunTx(false); else insertOne() }
      else if (x < 93.5) { if (!growing) deleteRunTx(true); else mixedTx(null) }
      else if (x < 95) reopen()
      else if (x < 98) pin()
      else if (x < 98.5) tooLarge()
      else { note('refresh'); expectSame(t, idx.refresh(), false, () => where('refresh() with no other writer')) }
      checkIndex()
      expire()
      if (op % 50 === 0) checkAll(idx, model, 'index')
      if (dirtySinceVerify && op % 7 === 0) verify()
    }
    checkAll(idx, model, 'index at the end')
    verify()
    for (const p of pinned) { p.until = 0 }
    expire()
    idx.close()
    const again = open({ create: false, readOnly: true })
    checkAll(again, model, 'reopened read-only at the end')
    again.close()
  } catch (err) {
    for (const line of log) t.comment(line)
    if (err instanceof Divergence) return summary
    t.fail(where(`unexpected error: ${err instanceof Error ? err.stack : String(err)}`))
    return summary
  } finally {
    for (const p of pinned) p.snap.close()
    try { idx.close() } catch { /* already reported */ }
    model = new Model<K>(kind, cfg.unique)
  }
  return summary
}

interface Tap {
  test(name: string, fn: (t: Test) => Promise<void>): unknown
}

/** Registers one model run as a subtest that also checks the run covered what it should. */
export function modelTest<K extends Key>(t: Tap, seed: number, cfg: ModelConfig<K>): void {
  t.test(cfg.name, async t => {
    const s = runModel(t, cfg, seed)
    t.comment(`seed ${seed} ${cfg.name}: ${JSON.stringify(s)}`)
    // The run must have exercised what it is meant to: many commits, trees emptied and regrown, several levels.
    t.equal(s.ops, cfg.ops, `seed ${seed}: all ${cfg.ops} operations ran`)
    t.ok(s.commits > cfg.ops / 3, `seed ${seed}: ${s.commits} commits`)
    t.ok(s.emptied >= 2, `seed ${seed}: the index was emptied and regrown ${s.emptied} times`)
    // A few seeds in a thousand draw keys that never make the tree three levels deep; then runs
    // of the next seeds, each checked against the model as fully, cover the deeper trees.
    let height = s.maxHeight
    const seeds = [seed]
    for (let next = (seed + 1) >>> 0; height < 3 && seeds.length < 4; next = (next + 1) >>> 0) {
      const more = runModel(t, cfg, next)
      t.comment(`seed ${next} ${cfg.name}: ${JSON.stringify(more)}`)
      seeds.push(next)
      height = Math.max(height, more.maxHeight)
    }
    t.ok(height >= 3, `seeds ${seeds.join(', ')}: the tree reached height ${height}`)
  })
}
