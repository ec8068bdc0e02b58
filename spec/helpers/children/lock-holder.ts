/**
 * Child for spec/process/lock.spec.ts: opens a transaction (so it holds the write lock), inserts
 * ('held', 1), says `holding`, and keeps the transaction open until <releaseFile> exists; then
 * the transaction commits and it says `committed <sequence>`.
 *
 * Arguments: <file> <releaseFile>.
 */
import { Index } from '../../../lib/index.ts'
import { arg, fail, say } from './io.ts'
import { waitForFile } from './wait.ts'

function main(): void {
  const file = arg(0, 'file')
  const release = arg(1, 'releaseFile')
  const idx = Index.open(file)
  idx.transaction(tx => {
    tx.insert('held', 1)
    say('holding')
    waitForFile(release, 120_000)
  })
  say(`committed ${idx.sequence}`)
  idx.close()
}

try { main() } catch (err) { fail(err) }
