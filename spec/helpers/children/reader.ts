/**
 * Child for spec/process/concurrency.spec.ts: a lock-free reader. Reads continuously while the
 * writers commit and checks invariants that hold only at commit boundaries:
 *   - in a snapshot: get('tx') equals get('tx-mirror'), get('auto') is exactly 0..n-1, and the
 *     counts agree with the lists;
 *   - on the live handle: countRange over both keys is even (one call, one commit), and a range
 *     iterator keeps reading the commit it started on even when the handle moves on mid-iteration;
 *   - sequences never go backwards.
 *
 * Arguments: <file> <mode: readOnly | writable> <goFile> <stopFile>. Reads from when it is ready
 * until <stopFile> exists, then does one last check and prints `done <distinct sequences>
 * <iterations> <last sequence>`. Prints `bad <message>` and exits 1 on the first violation.
 */
import fs from 'node:fs'
import { Index } from '../../../lib/index.ts'
import type { Snapshot } from '../../../lib/index.ts'
import { arg, fail, say } from './io.ts'
import { waitForFile } from './wait.ts'

function bad(msg: string): never {
  say(`bad ${msg}`)
  process.exit(1)
}

function checkView(v: Snapshot, where: string): void {
  const seq = v.sequence
  const tx = v.get('tx')
  const mirror = v.get('tx-mirror')
  if (tx.join() !== mirror.join()) bad(`${where} at sequence ${seq}: tx has ${tx.length} rowIds, tx-mirror ${mirror.length}: ${tx.slice(0, 10)} / ${mirror.slice(0, 10)}`)
  const auto = v.get('auto')
  for (let i = 0; i < auto.length; i++) if (auto[i] !== i) bad(`${where} at sequence ${seq}: auto rowIds are not 0..${auto.length - 1}: #${i} is ${auto[i]}`)
  if (v.count('tx') !== tx.length || v.count('auto') !== auto.length) bad(`${where} at sequence ${seq}: count disagrees with get`)
  if (v.count() !== 2 * tx.length + auto.length) bad(`${where} at sequence ${seq}: ${v.count()} pairs in all, expected ${2 * tx.length + auto.length}`)
}

function main(): void {
  const file = arg(0, 'file')
  const readOnly = arg(1, 'mode') === 'readOnly'
  const stopFile = arg(3, 'stopFile')
  const idx = Index.open(file, { readOnly })
  say('ready')
  waitForFile(arg(2, 'goFile'), 120_000)
  const seqs = new Set<number>()
  let last = -1
  let iterations = 0
  for (let stop = false; !stop;) {
    stop = fs.existsSync(stopFile)
    iterations++
    idx.refresh()
    const snap = idx.snapshot()
    try {
      if (snap.sequence < last) bad(`sequence went back from ${last} to ${snap.sequence}`)
      last = snap.sequence
      seqs.add(last)
      checkView(snap, 'snapshot')
    } finally {
      snap.close()
    }
    const c = idx.countRange({ gte: 'tx', lte: 'tx-mirror' })
    if (c % 2 !== 0) bad(`countRange over tx..tx-mirror is odd (${c}) on the live handle`)
    // Half an iteration, then the handle moves on (refresh), then the rest: one commit throughout.
    const it = idx.range({ gte: 'tx', lte: 'tx-mirror' })
    const seen = { tx: [] as number[], 'tx-mirror': [] as number[] }
    let k = 0
    for (let r = it.next(); !r.done; r = it.next()) {
      seen[r.value[0] as 'tx' | 'tx-mirror'].push(r.value[1])
      if (++k === Math.floor(c / 2)) { idx.refresh(); idx.count() }
    }
    if (seen.tx.join() !== seen['tx-mirror'].join()) {
      bad(`a range iterator mixed commits: tx ${seen.tx.length} rowIds, tx-mirror ${seen['tx-mirror'].length} (${k} pairs)`)
    }
  }
  idx.close()
  say(`done ${seqs.size} ${iterations} ${last}`)
}

try { main() } catch (err) { fail(err) }
