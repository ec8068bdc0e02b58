/**
 * The lifetimes of handles, snapshots and iterators: `using` closes an Index or a Snapshot, a
 * snapshot dropped without close() gives its file descriptor back once it is collected, and an
 * iterator whose view is closed (or whose transaction ended) throws CLOSED on its very next step.
 */
import fs from 'node:fs'
import path from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import t from 'tap'
import { Index, TailrootError } from '../../lib/index.ts'
import type { Snapshot } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const fdDir = '/proc/self/fd'
const haveFdDir = fs.existsSync(fdDir)
/**
 * Descriptors of this process open on `file` (others, which the test runner opens and closes
 * on its own, would make a count of all of them vary).
 */
function fdsOn(file: string): number {
  const real = fs.realpathSync(file)
  let n = 0
  for (const fd of fs.readdirSync(fdDir)) {
    try { if (fs.readlinkSync(path.join(fdDir, fd)) === real) n++ } catch { /* closed meanwhile */ }
  }
  return n
}

async function collectRounds(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    gc()
    await new Promise(resolve => setImmediate(resolve))
  }
}

/**
 * Collects garbage until `done()` holds, yielding to the event loop between rounds so that
 * finalization callbacks can run; gives up after a bounded number of rounds.
 */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !done(); i++) {
    gc()
    await new Promise(resolve => setImmediate(resolve))
  }
  return done()
}

/** An index of `n` pairs in small pages, so one leaf holds many pairs. */
function sample(dir: string, n = 2000): string {
  const file = path.join(dir, 'l.idx')
  const idx = Index.open(file, { pageSize: 4096, durability: 'none' })
  idx.transaction(tx => { for (let i = 0; i < n; i++) tx.insert(`k${String(i).padStart(5, '0')}`, i) })
  idx.close()
  return file
}

/** The code of the TailrootError fn throws, or what else happened. */
function errorCode(fn: () => unknown): string {
  try { fn() } catch (err) {
    return err instanceof TailrootError ? err.code : `foreign ${String(err)}`
  }
  return 'no error'
}

t.test('a snapshot dropped without close() releases its descriptor once collected', { skip: haveFdDir ? false : `no ${fdDir} here` }, async t => {
  const file = sample(tmpDir(t), 10)
  // One round first, so that whatever the first open sets up once is not counted.
  const warm = Index.open(file)
  warm.snapshot().close()
  warm.close()
  const leak = (): void => {
    const idx = Index.open(file)
    idx.snapshot()
    idx.close()
  }
  const base = fdsOn(file)
  for (let i = 0; i < 5; i++) leak()
  t.equal(fdsOn(file), base + 5, 'each forgotten snapshot holds its file while it may be in use')
  t.ok(await collectUntil(() => fdsOn(file) <= base), `back to ${base} descriptors after collection (now ${fdsOn(file)})`)
})

t.test('collection never takes the file from a snapshot or iterator still in use', { skip: haveFdDir ? false : `no ${fdDir} here` }, async t => {
  const file = sample(tmpDir(t))
  const expected = (() => { const i = Index.open(file, { readOnly: true }); try { return [...i.range()] } finally { i.close() } })()
  const open = (): Index => Index.open(file, { readOnly: true, cacheBytes: 0 })
  // A snapshot kept, an iterator whose snapshot is reachable only through it, and a snapshot
  // closed explicitly (the safety net must not release its file a second time).
  const kept = ((): Snapshot => { const i = open(); const s = i.snapshot(); i.close(); return s })()
  const it = ((): IterableIterator<[string, number]> => { const i = open(); const r = i.snapshot().range(); i.close(); return r })()
  const first = it.next().value
  const idx = open()
  const closedSnap = idx.snapshot()
  closedSnap.close()
  const base = fdsOn(file)
  await collectRounds(20)
  t.equal(fdsOn(file), base, 'no descriptor in use was released')
  t.same(kept.get('k00007'), [7], 'the kept snapshot reads')
  t.same([first, ...it], expected, 'the iterator reads to its end')
  t.same([...idx.range()], expected, 'the index whose snapshot was closed reads (its file was released once)')
  kept.close()
  idx.close()
})

t.test('Symbol.dispose closes an Index and a Snapshot (using)', t => {
  const file = sample(tmpDir(t), 10)
  let outerIdx: Index | null = null
  let outerSnap: Snapshot | null = null
  {
    using idx = Index.open(file)
    using snap = idx.snapshot()
    outerIdx = idx
    outerSnap = snap
    t.equal(snap.count(), 10)
  }
  t.equal(errorCode(() => outerIdx!.count()), 'CLOSED', 'the index is closed at the end of the block')
  t.equal(errorCode(() => outerSnap!.count()), 'CLOSED', 'the snapshot too')
  const idx = Index.open(file)
  idx[Symbol.dispose]()
  idx[Symbol.dispose]()
  t.equal(errorCode(() => idx.get('k00001')), 'CLOSED', 'explicit dispose, twice')
  t.end()
})

t.test('an iterator throws CLOSED on the next step once its view is closed, even inside a leaf', async t => {
  const file = sample(tmpDir(t))

  t.test('index closed', async t => {
    const idx = Index.open(file)
    const it = idx.range()
    t.same(it.next().value, ['k00000', 0])
    const rev = idx.range({ reverse: true })
    rev.next()
    const unstarted = idx.range({ gte: 'k01000' })
    idx.close()
    t.equal(errorCode(() => it.next()), 'CLOSED', 'forward, in the middle of the first leaf')
    t.equal(errorCode(() => rev.next()), 'CLOSED', 'reverse')
    t.equal(errorCode(() => unstarted.next()), 'CLOSED', 'an iterator not started yet')
  })

  t.test('index closed while a snapshot keeps its file open', async t => {
    const idx = Index.open(file)
    const snap = idx.snapshot()
    const it = idx.range()
    const seen = [it.next().value]
    for (let i = 0; i < 500; i++) seen.push(it.next().value)
    idx.close()
    t.equal(errorCode(() => it.next()), 'CLOSED', 'the index iterator stops although the file is still open')
    t.equal(snap.count(), 2000, 'the snapshot still reads')
    snap.close()
  })

  t.test('snapshot closed, index open', async t => {
    const idx = Index.open(file)
    const snap = idx.snapshot()
    const it = snap.range({ gt: 'k00100' })
    t.same(it.next().value, ['k00101', 101])
    snap.close()
    t.equal(errorCode(() => it.next()), 'CLOSED', 'the snapshot iterator stops')
    t.same(idx.range({ gt: 'k00100' }).next().value, ['k00101', 101], 'the index reads on')
    idx.close()
  })

  t.test('transaction ended', async t => {
    const idx = Index.open(file, { durability: 'none' })
    let it: IterableIterator<[string, number]> | null = null
    idx.transaction(tx => {
      tx.insert('a', 1)
      it = tx.range()
      t.same(it.next().value, ['a', 1])
    })
    t.equal(errorCode(() => it!.next()), 'CLOSED', 'after a commit')
    t.throws(() => idx.transaction(tx => {
      it = tx.range()
      it.next()
      throw new Error('rollback')
    }), { message: 'rollback' })
    t.equal(errorCode(() => it!.next()), 'CLOSED', 'after a rollback')
    idx.close()
  })

  t.test('an iterator of an open view runs to its end', async t => {
    const idx = Index.open(file)
    const n = idx.count()
    t.equal([...idx.range()].length, n)
    const snap = idx.snapshot()
    t.equal([...snap.range({ reverse: true })].length, n)
    snap.close()
    idx.close()
  })
})
