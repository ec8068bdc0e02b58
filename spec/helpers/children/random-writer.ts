/**
 * Child for spec/crash/sigkill.spec.ts: a writer doing random autocommit inserts and deletes and
 * transactions (durability 'full') on one file until it is killed.
 *
 * Arguments: <file> <seed> <round>. Protocol (stdout, one line each, written synchronously):
 *   ready <sequence>            after opening, with the sequence it found
 *   begin <n> <json>            before commit n starts; json = { ins: [key, rowId][], del: [key, rowId][], meta?: string }
 *   ack <n> <sequence>          after commit n returned (it is acknowledged)
 *   error <json message>        on any unexpected error (exit status 2)
 *
 * Transactions keep invariants a partial commit would break: a "group" transaction inserts
 * exactly GROUP pairs under one key g/…; a "bulk" transaction inserts BULK pairs under keys
 * b/<id>/… (long keys, so it spans many pages); a transaction that removes a group removes all
 * of it. Keys are ASCII, so string order is byte order.
 */
import { Index } from '../../../lib/index.ts'
import { Rng } from '../rng.ts'
import { arg, fail, say } from './io.ts'

const GROUP = 5
const BULK = 40
const PAD = 'x'.repeat(150)

type Pair = [string, number]
interface Op { ins: Pair[]; del: Pair[]; meta?: string }

function main(): void {
  const file = arg(0, 'file')
  const seed = Number(arg(1, 'seed'))
  const round = Number(arg(2, 'round'))
  const rng = new Rng((seed ^ Math.imul(round + 1, 0x9e3779b1)) >>> 0)
  const idx = Index.open(file, { pageSize: 512, durability: 'full' })
  say(`ready ${idx.sequence}`)
  const deadline = Date.now() + 60_000
  let n = 0
  let serial = 0
  const pairsUnder = (lo: string, hi: string): Pair[] => [...idx.range({ gte: lo, lt: hi })]
  const randomPair = (lo: string, hi: string): Pair | null => {
    const c = idx.countRange({ gte: lo, lt: hi })
    if (c === 0) return null
    return idx.range({ gte: lo, lt: hi, offset: rng.int(c), limit: 1 }).next().value ?? null
  }
  while (Date.now() < deadline) {
    n++
    const r = rng.next()
    const op: Op = { ins: [], del: [] }
    let kind: 'insert' | 'delete' | 'tx'
    if (r < 0.35) {
      kind = 'insert'
      op.ins.push([`a/${String(rng.int(300)).padStart(3, '0')}`, rng.int(1e9)])
    } else if (r < 0.5) {
      const p = randomPair('a/', 'a0')
      if (p === null) { n--; continue }
      kind = 'delete'
      op.del.push(p)
    } else {
      kind = 'tx'
      const id = `${round}.${serial++}`
      const t = rng.next()
      if (t < 0.55) {
        const r0 = rng.int(1e6)
        for (let j = 0; j < GROUP; j++) op.ins.push([`g/${id}`, r0 + j * 3])
      } else if (t < 0.75) {
        for (let j = 0; j < BULK; j++) op.ins.push([`b/${id}/${String(j).padStart(2, '0')}${PAD}`, j])
      } else if (t < 0.9) {
        // Remove a whole group or bulk set, and add a new group in the same commit.
        const p = rng.next() < 0.6 ? randomPair('g/', 'g0') : randomPair('b/', 'b0')
        if (p !== null) {
          const k = p[0]
          const prefix = k.startsWith('g/') ? k : k.slice(0, k.lastIndexOf('/') + 1)
          op.del.push(...(k.startsWith('g/') ? pairsUnder(k, k + '\u0000') : pairsUnder(prefix, prefix.slice(0, -1) + '0')))
        }
        const r0 = rng.int(1e6)
        for (let j = 0; j < GROUP; j++) op.ins.push([`g/${id}`, r0 + j])
      } else {
        // Metadata only: a commit without data pages.
        op.meta = `meta ${id}`
      }
    }
    say(`begin ${n} ${JSON.stringify(op)}`)
    if (kind === 'insert') idx.insert(op.ins[0]![0], op.ins[0]![1])
    else if (kind === 'delete') idx.delete(op.del[0]![0], op.del[0]![1])
    else {
      idx.transaction(tx => {
        for (const [k, v] of op.del) tx.delete(k, v)
        for (const [k, v] of op.ins) tx.insert(k, v)
      }, op.meta === undefined ? undefined : { meta: Buffer.from(op.meta) })
    }
    say(`ack ${n} ${idx.sequence}`)
  }
  idx.close()
  say('done')
}

try { main() } catch (err) { fail(err) }
