/**
 * A transaction's changes not yet applied to its tree. Each recorded insert is of a pair absent
 * from the tree and each delete of a pair present in it, so counts adjust by simple arithmetic.
 *
 * A key's changes are, in the usual cases of one insert or one delete, just a number (no
 * objects): the rowId r of an insert, or -(r + 1) for a delete of r (rowIds are non-negative
 * safe integers, so the two never meet); any other mix is a KeyChanges with sets of inserted and
 * deleted rowIds.
 */
import type { Batch } from '../tree/batch.ts'

export interface KeyChanges {
  ins: Set<number> | null
  del: Set<number> | null
}

export class Pending {
  private map = new Map<string, number | KeyChanges>()
  /** Net change in the number of entries. */
  delta = 0
  ops = 0

  get empty(): boolean { return this.ops === 0 }

  /** 1 = inserted, -1 = deleted, 0 = untouched here. */
  state(k: string, r: number): number {
    const c = this.map.get(k)
    if (c === undefined) return 0
    if (typeof c === 'number') return c === r ? 1 : c === -(r + 1) ? -1 : 0
    if (c.ins?.has(r)) return 1
    if (c.del?.has(r)) return -1
    return 0
  }

  changes(k: string): KeyChanges | undefined {
    const c = this.map.get(k)
    if (typeof c !== 'number') return c
    return c >= 0 ? { ins: new Set([c]), del: null } : { ins: null, del: new Set([-c - 1]) }
  }

  keyDelta(k: string): number {
    const c = this.map.get(k)
    if (c === undefined) return 0
    if (typeof c === 'number') return c >= 0 ? 1 : -1
    return (c.ins?.size ?? 0) - (c.del?.size ?? 0)
  }

  /** The changes of key k as sets (made when it held a single change). */
  private sets(k: string): KeyChanges {
    const c = this.map.get(k)
    if (typeof c === 'object') return c
    const s: KeyChanges = c === undefined ? { ins: null, del: null } : c >= 0 ? { ins: new Set([c]), del: null } : { ins: null, del: new Set([-c - 1]) }
    this.map.set(k, s)
    return s
  }

  /** Records an insert of a pair that is currently absent. */
  insert(k: string, r: number): void {
    this.delta++
    const one = this.map.get(k)
    if (one === undefined) {
      this.map.set(k, r)
      this.ops++
      return
    }
    if (one === -(r + 1)) {
      // Undoes the key's single delete.
      this.map.delete(k)
      this.ops--
      return
    }
    const c = this.sets(k)
    if (c.del?.delete(r)) this.ops--
    else { (c.ins ??= new Set()).add(r); this.ops++ }
  }

  /** Records a delete of a pair that is currently present. */
  delete(k: string, r: number): void {
    this.delta--
    const one = this.map.get(k)
    if (one === undefined) {
      this.map.set(k, -(r + 1))
      this.ops++
      return
    }
    if (one === r) {
      // Undoes the key's single insert.
      this.map.delete(k)
      this.ops--
      return
    }
    const c = this.sets(k)
    if (c.ins?.delete(r)) this.ops--
    else { (c.del ??= new Set()).add(r); this.ops++ }
  }

  /** The changes as a sorted batch. */
  toBatch(): Batch {
    const keys: string[] = []
    const ids: number[] = []
    const ins: boolean[] = []
    const sorted = [...this.map.keys()].sort()
    for (const k of sorted) {
      const c = this.map.get(k)!
      if (typeof c === 'number') {
        // The usual cases: one insert or one delete of the key.
        if (c >= 0) { keys.push(k); ids.push(c); ins.push(true) } else { keys.push(k); ids.push(-c - 1); ins.push(false) }
        continue
      }
      const list: number[] = []
      if (c.ins) for (const r of c.ins) list.push(r)
      if (c.del) for (const r of c.del) list.push(r)
      list.sort((a, b) => a - b)
      for (const r of list) { keys.push(k); ids.push(r); ins.push(c.ins?.has(r) ?? false) }
    }
    return { keys, ids, ins }
  }

  clear(): void {
    this.map.clear()
    this.delta = 0
    this.ops = 0
  }
}
