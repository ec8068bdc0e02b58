// A process making concurrent asynchronous writes (group commits, durability 'full') is killed
// with SIGKILL at random moments, again and again on one file: every write whose promise resolved
// (the child printed it) is in the file, every delete that resolved is absent, no transaction is
// there in part, a transaction that threw left nothing, and the file verifies.
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 runs 100 rounds instead of 12.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { runChild } from '../helpers/children/run.ts'
import { SOAK } from '../helpers/soak.ts'
import { listIndex } from './pair-set.ts'

const ROUNDS = SOAK ? 100 : 12
const WRITERS = 16
// Mirrors async-writer.ts.
const GROUP = 5
const BULK = 40

t.test('SIGKILL during group commits loses no resolved write and tears no transaction', async t => {
  const seed = Rng.seedFromEnv()
  const rng = new Rng(seed)
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun), ${ROUNDS} rounds`)
  const file = path.join(tmpDir(t), 'killed.idx')
  /** Pairs that must be present (resolved inserts not since queued for deletion), as `key\trowId`. */
  const present = new Set<string>()
  /** Pairs and group keys that must be absent (resolved deletes and drops). */
  const absent = new Set<string>()
  const groupsPresent = new Set<string>()
  let resolved = 0

  for (let round = 0; round < ROUNDS; round++) {
    const where = `seed ${seed}, round ${round}`
    const child = runChild('async-writer', [file, seed, round, WRITERS])
    try {
      await child.waitFor(l => l.startsWith('ready '), 60_000, 'ready line')
    } catch (err) {
      child.kill()
      t.fail(`the writer did not start (${where}): ${(err as Error).message}`)
      return
    }
    const delay = rng.pick([5, 20, 50, 100, 200, 400]) + rng.int(20)
    await new Promise(r => setTimeout(r, delay))
    child.kill('SIGKILL')
    const exit = await child.exited
    if (exit.signal !== 'SIGKILL') {
      t.fail(`child ended on its own (code ${exit.code}) instead of being killed (${where}); stderr: ${child.stderr.slice(-3000)}; last lines: ${child.lines.slice(-3).join(' | ').slice(0, 3000)}`)
      return
    }
    let acked = 0
    for (const line of child.lines) {
      const [word, a, b] = line.split(' ')
      if (word === 'ready') continue
      if (word === 'ins') { present.add(`${a}\t${b}`); acked++ } else if (word === 'try-del') present.delete(`${a}\t${b}`)
      else if (word === 'del') { absent.add(`${a}\t${b}`); acked++ } else if (word === 'try-drop') groupsPresent.delete(a!)
      else if (word === 'tx') {
        const tx = JSON.parse(line.slice(3)) as { group?: string; bulk?: string; dropped?: string }
        if (tx.group !== undefined) groupsPresent.add(tx.group)
        if (tx.bulk !== undefined) groupsPresent.add(tx.bulk)
        if (tx.dropped !== undefined) absent.add(tx.dropped)
        acked++
      } else {
        t.fail(`unexpected line from the writer (${where}): ${line.slice(0, 3000)}`)
        return
      }
    }
    resolved += acked

    const idx = Index.open(file, { readOnly: true })
    const lines = listIndex(idx)
    idx.close()
    const have = new Set(lines)
    const missing = [...present].filter(p => !have.has(p))
    if (missing.length > 0) { t.fail(`resolved inserts missing after the kill (${where}): ${missing.slice(0, 5).join(', ')}`); return }
    const counts = new Map<string, number>()
    const resurrected: string[] = []
    for (const l of lines) {
      if (absent.has(l)) resurrected.push(l)
      const k = l.slice(0, l.indexOf('\t'))
      const g = k.startsWith('g/') || k.startsWith('x/') ? k : k.startsWith('b/') ? k.slice(0, k.indexOf('/', 2) + 1) : null
      if (g !== null) counts.set(g, (counts.get(g) ?? 0) + 1)
    }
    if (resurrected.length > 0) { t.fail(`pairs whose delete resolved are back (${where}): ${resurrected.slice(0, 5).join(', ')}`); return }
    const bad: string[] = []
    for (const [g, n] of counts) {
      if (g.startsWith('x/')) bad.push(`${g}: a transaction that threw left ${n} pairs`)
      else if (n !== (g.startsWith('g/') ? GROUP : BULK)) bad.push(`${g} has ${n} pairs`)
      else if (absent.has(g)) bad.push(`${g} was dropped by a resolved transaction but is there`)
    }
    for (const g of groupsPresent) if (!counts.has(g)) bad.push(`${g}: its transaction resolved but it is absent`)
    if (bad.length > 0) { t.fail(`partial or lost transactions (${where}): ${bad.slice(0, 5).join('; ')}`); return }
    const v = Index.verify(file)
    if (!v.ok || v.entries !== lines.length) { t.fail(`verify after the kill (${where}): ${JSON.stringify(v).slice(0, 3000)}`); return }
  }
  t.comment(`${resolved} resolved writes over ${ROUNDS} kills; ${present.size} pairs and ${groupsPresent.size} transactions required at the end; ${fs.statSync(file).size} bytes`)
  t.ok(resolved >= ROUNDS * 10, `the writers had writes resolved between kills (${resolved}, seed ${seed})`)
  t.pass(`${ROUNDS} kills, every resolved write present, no partial transaction (seed ${seed})`)
})
