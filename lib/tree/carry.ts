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
 * H's records `h` (net against state P) followed by `own` (net against H's state), as records net
 * against P: a pair that `own` changes back is dropped from both. Throws CarryConflict when `own`
 * repeats one of `h`'s changes (an insert of a pair `h` inserted, or a delete of one it deleted).
 */
export function carry(h: Batch, own: Batch): Batch {
  const out: Batch = { keys: [], ids: [], ins: [] }
  let i = 0
  let j = 0
  while (i < h.keys.length || j < own.keys.length) {
    const c = i >= h.keys.length ? 1 : j >= own.keys.length ? -1 : comparePair(h.keys[i]!, h.ids[i]!, own.keys[j]!, own.ids[j]!)
    if (c < 0) { push(out, h.keys[i]!, h.ids[i]!, h.ins[i]!); i++; continue }
    if (c > 0) { push(out, own.keys[j]!, own.ids[j]!, own.ins[j]!); j++; continue }
    if (h.ins[i] === own.ins[j]) throw new CarryConflict(h.keys[i]!, h.ids[i]!, `${h.ins[i] ? 'inserted' : 'deleted'} twice`)
    i++
    j++
  }
  return out
}

/**
 * The changes that take the state of H (records `h`) to the state of N (records `n`), when both
 * are net against the same state: a pair only `n` changes, as `n` changes it; a pair only `h`
 * changes, changed back. Throws CarryConflict for a pair the two change in opposite ways (one
 * inserts it, so it was absent; the other deletes it, so it was present).
 */
export function difference(h: Batch, n: Batch): Batch {
  const out: Batch = { keys: [], ids: [], ins: [] }
  let i = 0
  let j = 0
  while (i < h.keys.length || j < n.keys.length) {
    const c = i >= h.keys.length ? 1 : j >= n.keys.length ? -1 : comparePair(h.keys[i]!, h.ids[i]!, n.keys[j]!, n.ids[j]!)
    if (c < 0) { push(out, h.keys[i]!, h.ids[i]!, !h.ins[i]!); i++; continue }
    if (c > 0) { push(out, n.keys[j]!, n.ids[j]!, n.ins[j]!); j++; continue }
    if (h.ins[i] !== n.ins[j]) throw new CarryConflict(h.keys[i]!, h.ids[i]!, 'inserted by one commit and deleted by another, both against the same state')
    i++
    j++
  }
  return out
}
