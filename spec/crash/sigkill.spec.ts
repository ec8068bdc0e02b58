// A writer process is killed with SIGKILL at random moments, again and again on one file: every
// acknowledged commit survives whole, the commit in flight is either wholly there or wholly
// absent, transactions never show half their pairs, and the file verifies.
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 runs 200 rounds instead of 25.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { killAfterReady, runChild } from '../helpers/children/run.ts'
import { PairSet, describeDiff, listIndex } from './pair-set.ts'
import { SOAK } from '../helpers/soak.ts'

const ROUNDS = SOAK ? 200 : 25
// Mirrors the shapes random-writer.ts writes.
const GROUP = 5
const BULK = 40

type Pair = [string, number]
interface Op { ins: Pair[]; del: Pair[]; meta?: string }

interface State { pairs: PairSet; meta: string | null; sequence: number }

/** Applies a commit to a copy of the state: deletes, then inserts; the sequence moves only when something changed. */
function applied(s: State, op: Op): State {
  const pairs = s.pairs.clone()
  let changed = false
  for (const [k, r] of op.del) changed = pairs.delete(k, r) || changed
  for (const [k, r] of op.ins) changed = pairs.insert(k, r) || changed
  let meta = s.meta
  if (op.meta !== undefined) { meta = op.meta; changed = true }
  return { pairs, meta, sequence: s.sequence + (changed ? 1 : 0) }
}

/** Groups of pairs a transaction writes together must be all there or all gone. */
function partialGroups(lines: string[]): string[] {
  const groups = new Map<string, number>()
  for (const l of lines) {
    const k = l.slice(0, l.indexOf('\t'))
    const g = k.startsWith('g/') ? k : k.startsWith('b/') ? k.slice(0, k.indexOf('/', 2) + 1) : null
    if (g !== null) groups.set(g, (groups.get(g) ?? 0) + 1)
  }
  const bad: string[] = []
  for (const [g, n] of groups) if (n !== (g.startsWith('g/') ? GROUP : BULK)) bad.push(`${g} has ${n} pairs`)
  return bad
}

t.test('SIGKILL at random moments never loses an acknowledged commit nor tears one', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun), ${ROUNDS} rounds`)
  const file = path.join(tmpDir(t), 'killed.idx')
  let state: State = { pairs: new PairSet(), meta: null, sequence: 0 }
  let inFlightAtKill = 0
  let inFlightLanded = 0
  let acked = 0
  let bulkCommits = 0
  // A reader that lives through all the rounds: after each kill, refresh() must bring it to
  // exactly what a fresh handle sees.
  let reader: Index | null = null
  t.teardown(() => reader?.close())

  for (let round = 0; round < ROUNDS; round++) {
    const where = `seed ${seed}, round ${round}`
    const child = runChild('random-writer', [file, seed, round])
    // Kill at a random moment: often right away, sometimes after many commits.
    if (!await killAfterReady(t, child, rng.pick([0, 0, 2, 5, 10, 25, 50, 100, 200, 400]) + rng.int(15), where)) return

    // Replay the protocol: every ack is a commit the file must keep.
    let pending: { n: number; op: Op } | null = null
    for (const line of child.lines) {
      const sp = line.indexOf(' ')
      const word = sp < 0 ? line : line.slice(0, sp)
      if (word === 'ready') {
        t.equal(Number(line.slice(sp + 1)), state.sequence, `the restarted writer opens at the sequence seen after the last kill (${where})`)
      } else if (word === 'begin') {
        const sp2 = line.indexOf(' ', sp + 1)
        pending = { n: Number(line.slice(sp + 1, sp2)), op: JSON.parse(line.slice(sp2 + 1)) as Op }
      } else if (word === 'ack') {
        const [n, seq] = line.slice(sp + 1).split(' ').map(Number)
        if (pending === null || pending.n !== n) { t.fail(`ack ${n} without its begin (${where})`); return }
        state = applied(state, pending.op)
        if (seq !== state.sequence) { t.fail(`commit ${n} acknowledged sequence ${seq}, the model expects ${state.sequence} (${where})`); return }
        if (pending.op.ins.length === BULK) bulkCommits++
        acked++
        pending = null
      } else {
        t.fail(`unexpected line from the writer (${where}): ${line.slice(0, 3000)}`)
        return
      }
    }

    // The file now holds the state after the last ack, or after the commit in flight.
    const idx = Index.open(file, { readOnly: true })
    const actual = listIndex(idx)
    const seq = idx.sequence
    const meta = idx.meta?.toString() ?? null
    idx.close()
    const matches = (s: State): boolean => seq === s.sequence && meta === s.meta && describeDiff(s.pairs.list(), actual) === null
    if (pending !== null) inFlightAtKill++
    if (!matches(state)) {
      const landed = pending === null ? null : applied(state, pending.op)
      if (landed === null || !matches(landed)) {
        t.fail(`after the kill the file matches neither the acknowledged state nor that state plus the commit in flight (${where}): ` +
          `sequence ${seq} (acknowledged ${state.sequence}${landed ? `, with the commit in flight ${landed.sequence}` : ''}); ` +
          `acknowledged: ${describeDiff(state.pairs.list(), actual) ?? 'pairs equal'}${landed ? `; with the commit in flight: ${describeDiff(landed.pairs.list(), actual) ?? 'pairs equal'}` : ''}; ` +
          `metadata ${JSON.stringify(meta)} (expected ${JSON.stringify(state.meta)})`)
        return
      }
      state = landed
      inFlightLanded++
    }
    reader ??= Index.open(file, { readOnly: true })
    reader.refresh()
    if (reader.sequence !== seq || describeDiff(actual, listIndex(reader)) !== null) {
      t.fail(`a long-lived reader after refresh() reads sequence ${reader.sequence}, a fresh handle ${seq} (${where}): ${describeDiff(actual, listIndex(reader)) ?? 'pairs equal'}`)
      return
    }
    const torn = partialGroups(actual)
    if (torn.length > 0) { t.fail(`partial transactions in the file (${where}): ${torn.slice(0, 5).join(', ')}`); return }
    const v = Index.verify(file)
    if (!v.ok || v.sequence !== state.sequence || v.entries !== state.pairs.size) {
      t.fail(`verify after the kill (${where}): ${JSON.stringify(v).slice(0, 3000)}`)
      return
    }
  }
  t.comment(`${acked} acknowledged commits (${bulkCommits} multi-page), ${inFlightAtKill} kills during a commit, ${inFlightLanded} of those commits landed; final sequence ${state.sequence}, ${state.pairs.size} pairs, ${fs.statSync(file).size} bytes`)
  t.ok(acked >= ROUNDS, `the writers acknowledged commits between kills (${acked}, seed ${seed})`)
  t.ok(inFlightAtKill >= ROUNDS / 4, `many kills landed inside a commit (${inFlightAtKill} of ${ROUNDS}, seed ${seed})`)
  t.pass(`${ROUNDS} kills, every acknowledged commit present and whole (seed ${seed})`)
})
