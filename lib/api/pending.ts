/**
 * A transaction's changes not yet applied to its tree. Each recorded insert is of a pair absent
 * from the tree and each delete of a pair present in it, so counts adjust by simple arithmetic.
 */
import type { Batch } from '../tree/batch.ts'

interface KeyChanges {
  ins: Set<number> | null
  del: Set<number> | null
}

export class Pending {
  private map = new Map<string, KeyChanges>()
  /** Net change in the number of entries. */
  delta = 0
  ops = 0

  get empty(): boolean { return this.ops === 0 }

  /** 1 = inserted, -1 = deleted, 0 = untouched here. */
  state(k: string, r: number): number {
    const c = this.map.get(k)
    if (!c) return 0
    if (c.ins?.has(r)) return 1
    if (c.del?.has(r)) return -1
    return 0
  }

  changes(k: string): KeyChanges | undefined {
    return this.map.get(k)
  }

  keyDelta(k: string): number {
    const c = this.map.get(k)
    return c ? (c.ins?.size ?? 0) - (c.del?.size ?? 0) : 0
  }

  private entry(k: string): KeyChanges {
    let c = this.map.get(k)
    if (!c) { c = { ins: null, del: null }; this.map.set(k, c) }
    return c
  }

  /** Records an insert of a pair that is currently absent. */
  insert(k: string, r: number): void {
    const c = this.entry(k)
    if (c.del?.delete(r)) this.ops--
    else { (c.ins ??= new Set()).add(r); this.ops++ }
    this.delta++
  }

  /** Records a delete of a pair that is currently present. */
  delete(k: string, r: number): void {
    const c = this.entry(k)
    if (c.ins?.delete(r)) this.ops--
    else { (c.del ??= new Set()).add(r); this.ops++ }
    this.delta--
  }

  /** The changes as a sorted batch. */
  toBatch(): Batch {
    const keys: string[] = []
    const ids: number[] = []
    const ins: boolean[] = []
    const sorted = [...this.map.keys()].sort()
    for (const k of sorted) {
      const c = this.map.get(k)!
      if (c.del === null && c.ins !== null && c.ins.size === 1) {
        // The usual case: one insert of the key.
        for (const r of c.ins) { keys.push(k); ids.push(r); ins.push(true) }
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
