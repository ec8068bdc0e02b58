/**
 * Child for spec/process/concurrency.spec.ts: the transactional writer. Every transaction changes
 * the pairs ('tx', i) and ('tx-mirror', i) together (inserts both, or deletes both), so
 * count('tx') === count('tx-mirror') holds at every commit boundary and nowhere else.
 *
 * Arguments: <file> <seed> <durationMs> <goFile> [<preallocate: on|off>, default the library's]. Waits for <goFile>, then commits for durationMs.
 * Output: `ready`, then `ack +i <sequence>` or `ack -i <sequence>` after each commit returned,
 * then `done <commits>`; `bad <message>` if its own reads break the invariant.
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
  let next = 0
  let commits = 0
  while (Date.now() < end) {
    const result = idx.transaction(tx => {
      const ids = tx.get('tx')
      const mirror = tx.get('tx-mirror')
      if (ids.join() !== mirror.join()) return `bad inside a transaction: tx ${ids.length} rowIds, tx-mirror ${mirror.length}`
      if (ids.length > 0 && rng.next() < 0.25) {
        const r = rng.pick(ids)
        tx.delete('tx', r)
        tx.delete('tx-mirror', r)
        return `-${r}`
      }
      const r = next++
      tx.insert('tx', r)
      tx.insert('tx-mirror', r)
      return `+${r}`
    })
    if (result.startsWith('bad')) { say(result); process.exit(1) }
    commits++
    say(`ack ${result} ${idx.sequence}`)
    sleepMs(rng.int(3))
  }
  idx.close()
  say(`done ${commits}`)
}

try { main() } catch (err) { fail(err) }
