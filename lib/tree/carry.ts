/**
 * Carried change records (FORMAT.md §10, "Carrying records forward"). Pure.
 *
 * A commit whose previous commit H heads the pending chain may carry H's records forward: it
 * records its own changes merged with H's, net against the commit before H (H's `logPrev`), and
 * links to that commit, so H leaves the chain. `carry` makes those records; `difference` goes the
 * other way, for a reader that knows the pending changes as of H: the changes that take H's state
 * to the state of a commit N whose records are, like H's, net against the same commit.
 */
import { comparePair } from '../format/node.ts'
import type { Batch } from './batch.ts'

/** Two records of one pair that cannot both be net against one state (a corrupt chain). */
export class CarryConflict extends Error {
  readonly key: string
  readonly rowId: number
  constructor(key: string, rowId: number, message: string) {
    super(message)
    this.name = 'CarryConflict'
    this.key = key
    this.rowId = rowId
  }
}

function push(out: Batch, k: string, r: number, ins: boolean): void {
  out.keys.push(k)
  out.ids.push(r)
  out.ins.push(ins)
}

/**
 * One ordered walk over two sorted batches: a pair only in `a` goes out as `a` records it (or
 * undone, with `undoA`), a pair only in `b` as `b` records it, and a pair in both goes out in
 * neither; it is a CarryConflict when the two records have the same operation (`sameConflicts`)
 * or opposite ones (otherwise).
 */
function walk(a: Batch, b: Batch, undoA: boolean, sameConflicts: boolean, conflict: (aIns: boolean) => string): Batch {
  const out: Batch = { keys: [], ids: [], ins: [] }
  let i = 0
  let j = 0
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : comparePair(a.keys[i]!, a.ids[i]!, b.keys[j]!, b.ids[j]!)
    if (c < 0) { push(out, a.keys[i]!, a.ids[i]!, a.ins[i]! !== undoA); i++; continue }
    if (c > 0) { push(out, b.keys[j]!, b.ids[j]!, b.ins[j]!); j++; continue }
    if ((a.ins[i] === b.ins[j]) === sameConflicts) throw new CarryConflict(a.keys[i]!, a.ids[i]!, conflict(a.ins[i]!))
    i++
    j++
  }
  return out
}

/**
 * H's records `h` (net against state P) followed by `own` (net against H's state), as records net
 * against P: a pair that `own` changes back is dropped from both. Throws CarryConflict when `own`
 * repeats one of `h`'s changes (an insert of a pair `h` inserted, or a delete of one it deleted).
 */
export function carry(h: Batch, own: Batch): Batch {
  return walk(h, own, false, true, ins => `${ins ? 'inserted' : 'deleted'} twice`)
}

/**
 * The changes that take the state of H (records `h`) to the state of N (records `n`), when both
 * are net against the same state: a pair only `n` changes, as `n` changes it; a pair only `h`
 * changes, changed back. Throws CarryConflict for a pair the two change in opposite ways (one
 * inserts it, so it was absent; the other deletes it, so it was present).
 */
export function difference(h: Batch, n: Batch): Batch {
  return walk(h, n, true, false, () => 'inserted by one commit and deleted by another, both against the same state')
}
