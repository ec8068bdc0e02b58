/**
 * Child for spec/crash/async-sigkill.spec.ts: concurrent asynchronous writers (durability 'full')
 * on one handle until the process is killed. Every key is written by one call only, so the
 * parent can tell what each call did.
 *
 * Arguments: <file> <seed> <round> <writers> [<stopAfter> <goFile>]. With stopAfter, it waits for
 * goFile to exist before writing, and once the writers made that many calls, they stop, the
 * handle is flushed and closed, and it says `done <calls>` and exits. Protocol (stdout, one line each, written
 * synchronously before the next statement runs):
 *   ready <sequence>              after opening
 *   ins <key> <rowId>             an insertAsync resolved (true)
 *   try-del <key> <rowId>         a deleteAsync of a pair whose insert resolved is about to be queued
 *   del <key> <rowId>             that deleteAsync resolved (true)
 *   try-drop <key>                a transaction dropping a whole group is about to be queued
 *   tx <json>                     a transactionAsync resolved; json = { group?: key, bulk?: prefix, dropped?: key }
 *   error <json message>          on any unexpected error (exit status 2)
 *
 * Transactions: a "group" inserts GROUP pairs under one key g/…; a "bulk" one inserts BULK pairs
 * under keys b/<id>/… (long keys: many pages); a "drop" removes a whole earlier group and adds a
 * new one; a "throwing" one inserts pairs under x/… and then throws (they must never appear).
 * Keys are ASCII, so string order is byte order.
 */
import { Index } from '../../../lib/index.ts'
import { Rng } from '../rng.ts'
import { arg, fail, say } from './io.ts'
import { waitForFile } from './wait.ts'

const GROUP = 5
const BULK = 40
const PAD = 'x'.repeat(150)

let resolved = 0
let stopAfter = Infinity

async function writer(idx: Index, rng: Rng, tag: string): Promise<void> {
  const mine: [string, number][] = []
  const groups: string[] = []
  for (let n = 0; resolved < stopAfter; n++, resolved++) {
    const id = `${tag}.${n}`
    const r = rng.next()
    if (r < 0.4) {
      const k = `i/${id}`
      const v = rng.int(1e9)
      if (await idx.insertAsync(k, v)) { say(`ins ${k} ${v}`); mine.push([k, v]) }
    } else if (r < 0.5 && mine.length > 0) {
      const [k, v] = mine.splice(rng.int(mine.length), 1)[0]!
      say(`try-del ${k} ${v}`)
      if (await idx.deleteAsync(k, v)) say(`del ${k} ${v}`)
    } else if (r < 0.75) {
      const g = `g/${id}`
      const drop = rng.next() < 0.3 && groups.length > 0 ? groups.splice(rng.int(groups.length), 1)[0]! : null
      if (drop !== null) say(`try-drop ${drop}`)
      await idx.transactionAsync(tx => {
        if (drop !== null) for (const [, v] of [...tx.range({ gte: drop, lt: drop + '\u0000' })]) tx.delete(drop, v)
        for (let j = 0; j < GROUP; j++) tx.insert(g, j)
      })
      say(`tx ${JSON.stringify(drop === null ? { group: g } : { group: g, dropped: drop })}`)
      groups.push(g)
    } else if (r < 0.85) {
      const b = `b/${id}/`
      await idx.transactionAsync(tx => { for (let j = 0; j < BULK; j++) tx.insert(`${b}${String(j).padStart(2, '0')}${PAD}`, j) })
      say(`tx ${JSON.stringify({ bulk: b })}`)
    } else {
      const thrown = await idx.transactionAsync(tx => {
        for (let j = 0; j < GROUP; j++) tx.insert(`x/${id}`, j)
        throw new Error('planned')
      }).then(() => false, (err: unknown) => (err as Error).message === 'planned')
      if (!thrown) throw new Error('a throwing transaction did not reject with its error')
    }
  }
}

async function main(): Promise<void> {
  const file = arg(0, 'file')
  const seed = Number(arg(1, 'seed'))
  const round = Number(arg(2, 'round'))
  const writers = Number(arg(3, 'writers'))
  if (process.argv[6] !== undefined) stopAfter = Number(process.argv[6])
  const idx = Index.open(file, { pageSize: 512, durability: 'full' })
  say(`ready ${idx.sequence}`)
  if (process.argv[7] !== undefined) waitForFile(process.argv[7], 60_000)
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(idx, new Rng((seed ^ Math.imul(round * 64 + w + 1, 0x9e3779b1)) >>> 0), `${round}.${w}`)))
  await idx.flush()
  idx.close()
  say(`done ${resolved}`)
  process.exit(0)
}

// The parent kills the process; stop on our own after a minute in case it does not.
setTimeout(() => process.exit(3), 60_000)
main().catch(fail)
