/**
 * Child for spec/crash/sets-sigkill.spec.ts: writes table rows into a set of three indexes (city,
 * email unique, [last, first] typed), one transaction per batch of 1 or 20 rows, each row into
 * all three indexes. Row ids go on from the rows already in the file.
 *
 * Arguments: <file> <seed>. Output: `ready <rows>`, then `ack <rows>` after each commit returned.
 */
import { IndexSet } from '../../../lib/index.ts'
import { Rng } from '../rng.ts'
import { arg, fail, say } from './io.ts'

function main(): void {
  const set = IndexSet.open(arg(0, 'file'), { pageSize: 512, maxPendingChanges: 64 })
  const rng = new Rng(Number(arg(1, 'seed')))
  const city = set.index('city')
  const email = set.index('email', { unique: true })
  const name = set.index<[string, string]>('name', { keyEncoding: 'typed' })
  let n = email.count()
  say(`ready ${n}`)
  for (;;) {
    const batch = rng.next() < 0.2 ? 20 : 1
    set.transaction(tx => {
      for (let i = n; i < n + batch; i++) {
        tx.index(city).insert(`city-${i % 13}`, i)
        tx.index(email).insert(`user${i}@example.com`, i)
        tx.index(name).insert([`Last${i % 29}`, `First${i}`], i)
      }
    })
    n += batch
    say(`ack ${n}`)
  }
}

try { main() } catch (err) { fail(err) }
