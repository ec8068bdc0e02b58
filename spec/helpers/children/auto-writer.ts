/**
 * Child for spec/process/concurrency.spec.ts: the autocommit writer. Inserts ('auto', 0),
 * ('auto', 1), … one commit each, so every commit holds exactly the rowIds 0..n-1 of 'auto'.
 *
 * Arguments: <file> <seed> <durationMs> <goFile> [<preallocate: on|off>, default the library's]. Output: `ready`, `ack <rowId> <sequence>` after
 * each insert returned, `done <commits>`.
 */
import { Index } from '../../../lib/index.ts'
import { Rng } from '../rng.ts'
import { arg, fail, say, sleepMs } from './io.ts'
import { waitForFile } from './wait.ts'

function main(): void {
  const file = arg(0, 'file')
  const rng = new Rng(Number(arg(1, 'seed')))
  const duration = Number(arg(2, 'durationMs'))
  const pre = process.argv[6]
  const idx = Index.open(file, pre === undefined ? {} : { preallocate: pre === 'on' })
  say('ready')
  waitForFile(arg(3, 'goFile'), 120_000)
  const end = Date.now() + duration
  let n = 0
  while (Date.now() < end) {
    if (!idx.insert('auto', n)) throw new Error(`insert ('auto', ${n}) found the pair already there`)
    say(`ack ${n} ${idx.sequence}`)
    n++
    sleepMs(rng.int(3))
  }
  idx.close()
  say(`done ${n}`)
}

try { main() } catch (err) { fail(err) }
