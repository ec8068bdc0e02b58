// I/O faults injected at each I/O step of a commit (each data-page write, the data fdatasync, the
// commit-page write, the final fdatasync, the torn-tail truncate): the commit call throws a
// TailrootError with code IO and never reports success, the committed content stays what it was
// (a fresh handle sees the previous commit), the same handle commits again once the fault is
// gone, and the file verifies. The exception: no room for preallocated zeros (ENOSPC, or a short
// write of them) is not a failure of the commit, which goes on without them.
//
// Faults (spec/helpers/faulty-vfs.ts): EIO, ENOSPC, a short write (a prefix lands, then ENOSPC),
// and a crash (the call fails, a write leaves a prefix, and all further I/O of the handle fails
// until heal(), as if the process had died; what it wrote stays in the file as in the page cache).
// One exception: a fault of any kind at the final fdatasync comes after a whole commit page was
// written, which other processes may already have adopted. The writer never cuts it (bytes up to
// a commit never change), so it is a valid commit, as after a crash at that instant: every handle,
// the failing one included, must see the new commit. The caller was told the commit failed (its
// outcome is in doubt), so either outcome keeps every acknowledged commit.
//
// TAILROOT_SEED=n reruns one seed (it picks the base file's contents). TAILROOT_SOAK=1 adds
// more base files.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index, TailrootError } from '../../lib/index.ts'
import { CMT_OFF_LOG_HEAD, FILE_ID_SIZE, HDR_OFF_FILE_ID } from '../../lib/format/constants.ts'
import { decodeCommit } from '../../lib/format/commit.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { FaultyVfs } from '../helpers/faulty-vfs.ts'
import type { FaultKind, FaultOp, FaultRule, OpRecord } from '../helpers/faulty-vfs.ts'
import { buildHistory } from './history.ts'
import type { CommitRecord, History } from './history.ts'
import { describeDiff, listIndex } from './pair-set.ts'
import { SOAK } from '../helpers/soak.ts'

const P = 512
const KINDS: FaultKind[] = ['EIO', 'ENOSPC', 'short', 'crash']

interface Scenario {
  name: string
  /** The commit under test. */
  run(idx: Index): void
  /** The pairs after it, from the pairs before it. */
  expect(before: string[]): string[]
  meta?: string
  /** Data-page writes the commit must make (several once it exceeds the 1 MiB write chunk). */
  dataWrites: number
  /** The same with change records (FORMAT.md §10): a small commit's records sit in its commit page. */
  logDataWrites: number
}

const bigKey = (i: number): string => String(i).padStart(6, '0') + 'y'.repeat(194)
const BIG = 5000

function sorted(lines: string[]): string[] {
  const pairs = lines.map(l => { const i = l.indexOf('\t'); return [l.slice(0, i), Number(l.slice(i + 1))] as const })
  pairs.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])) || a[1] - b[1])
  return pairs.map(([k, r]) => `${k}\t${r}`)
}

function scenarios(base: History): Scenario[] {
  const last = base.commits[base.commits.length - 1]!
  const victim = last.pairs[Math.floor(last.pairs.length / 2)]!
  const [vk, vr] = [victim.slice(0, victim.indexOf('\t')), Number(victim.slice(victim.indexOf('\t') + 1))]
  return [
    {
      name: 'an autocommit insert',
      run: idx => { idx.insert('m-new', 42) },
      expect: b => sorted([...b, 'm-new\t42']),
      dataWrites: 1,
      logDataWrites: 0,
    },
    {
      name: 'an autocommit delete',
      run: idx => { idx.delete(vk, vr) },
      expect: b => b.filter(l => l !== victim),
      dataWrites: 1,
      logDataWrites: 0,
    },
    {
      name: 'a metadata-only transaction (no data pages)',
      run: idx => idx.transaction(() => {}, { meta: Buffer.from('new meta') }),
      expect: b => b,
      meta: 'new meta',
      dataWrites: 0,
      logDataWrites: 0,
    },
    {
      name: `a transaction of ${BIG} long keys (data written in several chunks)`,
      run: idx => idx.transaction(tx => { for (let i = 0; i < BIG; i++) tx.insert(bigKey(i), i) }),
      expect: b => sorted([...b, ...Array.from({ length: BIG }, (_, i) => `${bigKey(i)}\t${i}`)]),
      dataWrites: 2,
      // 5,000 records of 200-byte keys fill 2,500 log pages of 512 bytes: 1.25 MiB, two writes.
      logDataWrites: 2,
    },
  ]
}

interface Step { label: string; op: FaultOp; nth: number; record: OpRecord }

/** The state after the warm-up commit ('~warm', 0) on top of `c`; `end` is filled in when known. */
function warmed(c: CommitRecord): CommitRecord {
  return { ...c, sequence: c.sequence + 1, pairs: sorted([...c.pairs, '~warm\t0']) }
}

/** Names each I/O call of a commit, checking that they come in the order FORMAT.md §8 prescribes. */
function classify(t: Test, log: OpRecord[], commitPage: number, baseEnd: number, torn: boolean, where: string): Step[] {
  const steps: Step[] = []
  const counts: Record<FaultOp, number> = { write: 0, datasync: 0, truncate: 0 }
  let i = 0
  const take = (label: string): void => {
    const r = log[i++]!
    steps.push({ label, op: r.op, nth: ++counts[r.op], record: r })
  }
  const shape = log.map(r => r.op === 'write' ? `write@${r.position / P}+${r.length / P}p${r.data!.every(b => b === 0) ? ' (zeros)' : ''}` : r.op === 'truncate' ? `truncate@${r.position}` : r.op).join(', ')
  if (torn) {
    t.match(log[0], { op: 'truncate', position: baseEnd }, `the torn tail is cut first (${where}): ${shape}`)
    take('the torn-tail truncate')
  }
  let next = baseEnd
  let writes = 0
  let zeroWrites = 0
  const end = (r: OpRecord): number => r.position + r.length
  // Preallocation (FORMAT.md §8): zeros from the commit page on, written before the commit page.
  const isZeros = (r: OpRecord | undefined): boolean => r?.op === 'write' && r.position >= commitPage * P && r.data!.every(b => b === 0)
  const takeZeros = (): void => {
    while (isZeros(log[i])) {
      t.equal(log[i]!.position, zeroWrites === 0 ? log[i]!.position : end(log[i - 1]!), `preallocation writes are contiguous (${where}): ${shape}`)
      take(`preallocation write ${++zeroWrites}`)
    }
  }
  for (;;) {
    takeZeros()
    if (!(i < log.length && log[i]!.op === 'write' && end(log[i]!) <= commitPage * P)) break
    t.equal(log[i]!.position, next, `data pages are appended in order right after the previous commit (${where}): ${shape}`)
    next = end(log[i]!)
    take(`data write ${++writes}`)
  }
  const last = log[i]
  if (last?.op === 'write' && end(last) === (commitPage + 1) * P && last.position === next) {
    // One sync (COMMIT_PREV_DURABLE): the commit page goes out with the last pages, then one sync.
    take(last.length > P ? 'the write of the pages and the commit page' : 'the commit-page write')
  } else {
    t.equal(next, commitPage * P, `the data pages end where the commit page starts (${where}): ${shape}`)
    // Even without data pages: the commit page promises that everything below it is durable, and
    // an earlier 'none' commit's pages may not be.
    t.match(log[i], { op: 'datasync' }, `everything below the commit page is synced before it is written (${where}): ${shape}`)
    take('the data fdatasync')
    t.match(log[i], { op: 'write', position: commitPage * P, length: P }, `then the commit page is written (${where}): ${shape}`)
    take('the commit-page write')
  }
  t.match(log[i], { op: 'datasync' }, `then synced (${where}): ${shape}`)
  take('the final fdatasync')
  t.equal(i, log.length, `and nothing else is written (${where}): ${shape}`)
  return steps
}

/** Whether page `page` of the file is a well-formed commit page. */
function wholeCommit(file: string, page: number): boolean {
  const bytes = fs.readFileSync(file)
  const fileId = bytes.subarray(HDR_OFF_FILE_ID, HDR_OFF_FILE_ID + FILE_ID_SIZE)
  return bytes.length >= (page + 1) * P && decodeCommit(bytes.subarray(page * P, (page + 1) * P), page, fileId) !== null
}

function errorChain(err: unknown): string {
  const parts: string[] = []
  for (let e = err; e instanceof Error && parts.length < 5; e = (e as Error & { cause?: unknown }).cause) parts.push(`${e.name}${(e as { code?: string }).code ? ` ${(e as { code?: string }).code}` : ''}: ${e.message}`)
  return parts.join(' <- ')
}

t.test('faults at each I/O step of a commit', async t => {
  const seed = Rng.seedFromEnv()
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const dir = tmpDir(t)
  for (let b = 0; b < (SOAK ? 4 : 1); b++) {
    const base = buildHistory(path.join(dir, `base-${b}.idx`), new Rng(seed + b), { pageSize: P, durability: 'full', commits: 15, maxBatch: 20, keyBytes: 20 })
    const file = path.join(dir, 'faulty.idx')
    const tornTail = new Rng(seed ^ 0x5eed).bytes(2 * P + 100)
    for (const sc of scenarios(base)) {
      // warm: the handle made the commit before the one under test itself, so it knows every
      // page below is durable, and a small commit takes one write and one sync.
      // logMode: the commit keeps its changes as change records (the default); else it rewrites the tree.
      for (const [torn, warm, logMode] of [[false, false, false], [true, false, false], [false, true, false], [false, false, true], [true, false, true], [false, true, true]] as const) {
        const setup = (): Buffer => {
          const bytes = torn ? Buffer.concat([base.bytes, tornTail]) : base.bytes
          fs.writeFileSync(file, bytes)
          return bytes
        }
        const open = (vfs: FaultyVfs): Index => {
          const h = Index.open(file, { preallocate: true, vfs, durability: 'full', maxPendingChanges: logMode ? 131072 : 0 })
          if (warm) h.insert('~warm', 0)
          return h
        }
        const last = warm ? warmed(base.commits[base.commits.length - 1]!) : base.commits[base.commits.length - 1]!
        const after = { pairs: sc.expect(last.pairs), meta: sc.meta ?? last.meta, sequence: last.sequence + 1 }
        const ctx = `seed ${seed}, base ${b}, ${sc.name}${torn ? ', after a torn tail' : ''}${warm ? ', after a commit of its own' : ''}${logMode ? ', change records' : ', tree rewrite'}`
        // A fault-free run records the I/O calls of this commit.
        setup()
        const probe = new FaultyVfs(undefined, true)
        let idx = open(probe)
        if (warm) last.end = (idx.stats().commitPage + 1) * P
        probe.arm()
        sc.run(idx)
        const commitPage = idx.stats().commitPage
        idx.close()
        const steps = classify(t, [...probe.log], commitPage, last.end, torn, ctx)
        // Rewriting the tree folds the base's pending changes too (one more write when it otherwise has none).
        const basePending = base.bytes.readUInt32LE(last.commitPage * P + CMT_OFF_LOG_HEAD) !== 0
        const writes = logMode ? sc.logDataWrites : basePending ? Math.max(1, sc.dataWrites) : sc.dataWrites
        const oneSync = warm && writes <= 1
        const dataWrites = oneSync ? 0 : writes
        t.equal(steps.filter(s => s.label.startsWith('data write')).length, dataWrites, `the commit makes ${dataWrites} separate data writes (${ctx})`)
        t.equal(steps.filter(s => s.op === 'datasync').length, oneSync ? 1 : 2, `the commit makes ${oneSync ? 'one fdatasync' : 'two fdatasyncs'} (${ctx})`)
        t.equal(describeDiff(after.pairs, listIndex(idx = Index.open(file, { preallocate: true, readOnly: true }))), null, `the fault-free commit reads back (${ctx})`)
        idx.close()

        for (const step of steps) {
          for (const kind of KINDS) {
            if (kind === 'short' && step.op !== 'write') continue
            const where = `${ctx}: ${kind} at ${step.label}`
            setup()
            const vfs = new FaultyVfs()
            idx = open(vfs)
            const bytesBefore = fs.readFileSync(file)
            vfs.arm({ op: step.op, nth: step.nth, kind })
            let err: unknown = null
            try { sc.run(idx) } catch (e) { err = e }
            t.equal(vfs.fired, 1, `the fault fired (${where})`)
            if (step.label.startsWith('preallocation write') && (kind === 'ENOSPC' || kind === 'short')) {
              // No room for the zeros: the commit goes on without them (FORMAT.md §8).
              t.equal(err, null, `a full disk refuses the preallocation, not the commit (${where}): ${errorChain(err)}`)
              const s = idx.stats()
              t.equal(s.sequence, after.sequence, `the commit is made (${where})`)
              t.equal(s.fileBytes, (s.commitPage + 1) * P, `without zeros after it (${where})`)
              idx.close()
              const fresh = Index.open(file, { preallocate: true, readOnly: true })
              t.equal(describeDiff(after.pairs, listIndex(fresh)), null, `a fresh handle reads it (${where})`)
              fresh.close()
              t.ok(Index.verify(file).ok, `verify ok (${where})`)
              continue
            }
            if (!(err instanceof TailrootError) || err.code !== 'IO') {
              t.fail(`the commit must fail with a TailrootError IO, got ${err === null ? 'success' : errorChain(err)} (${where})`)
              idx.close()
              continue
            }
            const injected = kind === 'short' ? 'ENOSPC' : kind === 'crash' ? 'EIO' : kind
            t.match(errorChain(err), injected, `the error names the injected ${injected} (${where}): ${errorChain(err)}`)
            // What a new handle must see: the previous commit, except after a fault at the final
            // fdatasync, which left a whole commit page in the file.
            // Or after a write that stored the commit page whole after all: the part it wrote
            // holds every non-zero byte of the page, over preallocated zeros (FORMAT.md §8).
            const landed = step.label === 'the final fdatasync' || (step.record.position + step.record.length === (commitPage + 1) * P && wholeCommit(file, commitPage))
            const exp = landed ? after : { pairs: last.pairs, meta: last.meta, sequence: last.sequence }
            if (landed) t.match(errorChain(err), /may or may not be durable/, `the error says the outcome is in doubt (${where})`)
            if (kind !== 'crash') {
              t.equal(idx.sequence, exp.sequence, `the failing handle reads ${landed ? 'the new' : 'the previous'} commit (${where})`)
              t.equal(describeDiff(exp.pairs, listIndex(idx)), null, `with its contents (${where})`)
            }
            const fresh = Index.open(file, { preallocate: true, readOnly: true })
            t.equal(fresh.sequence, exp.sequence, `a fresh handle sees ${landed ? 'the new' : 'the previous'} commit (${where})`)
            t.equal(describeDiff(exp.pairs, listIndex(fresh)), null, `with its contents (${where})`)
            t.equal(fresh.meta?.toString() ?? null, exp.meta, `and its meta (${where})`)
            fresh.close()
            const now = fs.readFileSync(file)
            t.ok(now.subarray(0, last.end).equals(bytesBefore.subarray(0, last.end)), `no byte of the committed file changed (${where})`)
            const v = Index.verify(file)
            t.ok(v.ok && v.sequence === exp.sequence, `verify ok after the fault (${where}): ${JSON.stringify(v).slice(0, 500)}`)

            // The fault is gone: the same handle commits again, on top of what the file holds.
            vfs.heal()
            t.equal(idx.insert('~again', 1), true, `the same handle commits after the fault (${where})`)
            const s = idx.stats()
            t.equal(s.sequence, exp.sequence + 1, `the new commit follows commit ${exp.sequence} (${where})`)
            t.ok(fs.readFileSync(file).subarray((s.commitPage + 1) * P).every(b => b === 0), `only zeros follow the new commit, the failed pages are gone (${where})`)
            t.equal(describeDiff(sorted([...exp.pairs, '~again\t1']), listIndex(idx)), null, `the handle reads it (${where})`)
            idx.close()
            const again = Index.open(file, { preallocate: true, readOnly: true })
            t.equal(describeDiff(sorted([...exp.pairs, '~again\t1']), listIndex(again)), null, `and so does a fresh handle (${where})`)
            again.close()
            const v2 = Index.verify(file)
            t.ok(v2.ok && v2.sequence === exp.sequence + 1, `verify ok after the next commit (${where}): ${JSON.stringify(v2).slice(0, 500)}`)
          }
        }
      }
    }
  }
})

t.test('a second fault while cleaning up after the first', async t => {
  const seed = Rng.seedFromEnv()
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun)`)
  const dir = tmpDir(t)
  const base = buildHistory(path.join(dir, 'base.idx'), new Rng(seed), { pageSize: P, durability: 'full', commits: 10, maxBatch: 20, keyBytes: 20, preallocate: true })
  const last = base.commits[base.commits.length - 1]!
  const file = path.join(dir, 'faulty.idx')
  // After a failed commit the writer truncates its pages away; when that truncate fails too, the
  // pages stay. A whole commit page (the final fdatasync failed) is never truncated and makes a
  // commit of them: the caller was told the commit failed, but its outcome is in doubt.
  const cases: { first: FaultRule; landed: boolean; label: string }[] = [
    { first: { op: 'write', nth: 1, kind: 'short' }, landed: false, label: 'short data write' },
    { first: { op: 'datasync', nth: 1, kind: 'EIO' }, landed: false, label: 'EIO at the data fdatasync' },
    // 40 bytes: the page header and part of the commit fields, not its fileId: not a commit page.
    { first: { op: 'write', nth: 2, kind: 'short', partialBytes: 40 }, landed: false, label: 'short commit-page write' },
    // All but the last byte, a zero: over preallocated zeros the page is whole, so the writer
    // treats it as written (outcome in doubt) and does not cut it; the truncate is never tried.
    { first: { op: 'write', nth: 2, kind: 'short', partialBytes: P - 1 }, landed: true, label: 'short commit-page write that leaves the page whole' },
  ]
  for (const c of cases) {
    const where = `seed ${seed}: ${c.label}, then EIO on the cleanup truncate`
    // Room for the commit in zeros after the base's newest commit, so that it needs no extension.
    fs.writeFileSync(file, Buffer.concat([base.bytes, Buffer.alloc(64 * P)]))
    const vfs = new FaultyVfs()
    // A commit that rewrites the tree: its first write is of data pages, its second of the commit page.
    const idx = Index.open(file, { preallocate: true, vfs, durability: 'full', maxPendingChanges: 0 })
    vfs.arm(c.first, { op: 'truncate', nth: 1, kind: 'EIO' })
    let err: unknown = null
    try { idx.insert('m-new', 42) } catch (e) { err = e }
    t.equal(vfs.fired, c.landed ? 1 : 2, `${c.landed ? 'only the first fault fired: a whole commit page is not cut' : 'both faults fired'} (${where})`)
    t.ok(err instanceof TailrootError && err.code === 'IO', `the commit fails with IO (${where}): ${errorChain(err)}`)
    t.ok(!fs.readFileSync(file).subarray(last.end).every(b => b === 0), `the failed commit's pages are still in the file (${where})`)
    if (c.landed) t.match(errorChain(err), /may or may not be durable/, `the error says the outcome is in doubt (${where})`)
    const exp = c.landed ? sorted([...last.pairs, 'm-new\t42']) : last.pairs
    const fresh = Index.open(file, { preallocate: true, readOnly: true })
    t.equal(fresh.sequence, last.sequence + (c.landed ? 1 : 0), `a fresh handle sees the ${c.landed ? 'whole commit page' : 'previous commit'} (${where})`)
    t.equal(describeDiff(exp, listIndex(fresh)), null, `with its contents (${where})`)
    fresh.close()
    t.ok(Index.verify(file).ok, `verify ok (${where})`)
    vfs.heal()
    // The same handle adopts whatever the file holds, cuts the rest, and goes on.
    t.equal(idx.insert('~again', 1), true, `the same handle commits afterwards (${where})`)
    t.equal(idx.sequence, last.sequence + (c.landed ? 2 : 1), `on top of the file's newest commit (${where})`)
    t.equal(describeDiff(sorted([...exp, '~again\t1']), listIndex(idx)), null, `contents (${where})`)
    const s = idx.stats()
    t.ok(fs.readFileSync(file).subarray((s.commitPage + 1) * P).every(b => b === 0), `only zeros follow the new commit: the leftover pages are gone (${where})`)
    idx.close()
    t.ok(Index.verify(file).ok, `verify ok after the next commit (${where})`)
  }
})

t.test('a crash while reading does not disturb the file, and the handle recovers', async t => {
  const seed = Rng.seedFromEnv()
  const dir = tmpDir(t)
  const base = buildHistory(path.join(dir, 'base.idx'), new Rng(seed), { pageSize: P, durability: 'full', commits: 10, maxBatch: 20, keyBytes: 20 })
  const last = base.commits[base.commits.length - 1]!
  const file = path.join(dir, 'faulty.idx')
  fs.writeFileSync(file, base.bytes)
  const vfs = new FaultyVfs()
  const idx = Index.open(file, { preallocate: true, vfs, durability: 'full', cacheBytes: 0 })
  vfs.die()
  t.throws(() => listIndex(idx), { name: 'TailrootError', code: 'IO' }, `reads fail with IO while crashed (seed ${seed})`)
  t.throws(() => idx.insert('x', 1), { name: 'TailrootError', code: 'IO' }, `writes fail with IO while crashed (seed ${seed})`)
  t.ok(fs.readFileSync(file).equals(base.bytes), `the file is untouched (seed ${seed})`)
  vfs.heal()
  t.equal(describeDiff(last.pairs, listIndex(idx)), null, `the handle reads again after heal (seed ${seed})`)
  t.equal(idx.insert('x', 1), true, `and writes (seed ${seed})`)
  idx.close()
  t.ok(Index.verify(file).ok, `verify ok (seed ${seed})`)
})
