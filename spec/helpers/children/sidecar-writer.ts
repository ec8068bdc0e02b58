/**
 * Child for spec/process/lock-sidecar.spec.ts: a writer process with two handles on one file.
 * Commit i inserts the new pairs (`<tag>:<i>:<j>`, i) for j < n (n = 1 to 3, one commit each,
 * through either handle, as an autocommit insert or a transaction), so every acknowledged commit
 * adds pairs that can be checked one by one afterwards.
 *
 * Arguments: <file> <tag> <commits> <seed> <goFile>. Output: `ready`, then `ack <i> <n>` after
 * each commit returned, then `done <commits>`.
 */
import { Index } from '../../../lib/index.ts'
import { Rng } from '../rng.ts'
import { arg, fail, say } from './io.ts'
import { waitForFile } from './wait.ts'

function main(): void {
  const file = arg(0, 'file')
  const tag = arg(1, 'tag')
  const commits = Number(arg(2, 'commits'))
  const rng = new Rng(Number(arg(3, 'seed')))
  // Generous: the other process's writers take turns with these, on a busy machine.
  const handles = [Index.open(file, { lockTimeoutMs: 60_000 }), Index.open(file, { lockTimeoutMs: 60_000 })]
  say('ready')
  waitForFile(arg(4, 'goFile'), 120_000)
  for (let i = 0; i < commits; i++) {
    const idx = rng.pick(handles)
    const n = 1 + rng.int(3)
    if (n === 1) {
      if (!idx.insert(`${tag}:${i}:0`, i)) throw new Error(`insert of the new pair ${tag}:${i}:0 found it there`)
    } else {
      idx.transaction(tx => {
        for (let j = 0; j < n; j++) if (!tx.insert(`${tag}:${i}:${j}`, i)) throw new Error(`insert of the new pair ${tag}:${i}:${j} found it there`)
      })
    }
    say(`ack ${i} ${n}`)
  }
  for (const idx of handles) idx.close()
  say(`done ${commits}`)
}

try { main() } catch (err) { fail(err) }
