/**
 * The reference model for the crash tests: a set of (key, rowId) pairs for utf8 keys, listed in
 * tailroot's order (key bytes, then rowId), plus helpers to list an index and describe a mismatch.
 */
interface Readable { range(): IterableIterator<[string, number]> }

export class PairSet {
  private readonly m = new Map<string, Set<number>>()
  private n = 0

  get size(): number { return this.n }

  has(k: string, r: number): boolean { return this.m.get(k)?.has(r) ?? false }

  /** Returns whether the pair was absent. */
  insert(k: string, r: number): boolean {
    let s = this.m.get(k)
    if (!s) this.m.set(k, (s = new Set()))
    if (s.has(r)) return false
    s.add(r)
    this.n++
    return true
  }

  /** Returns whether the pair was present. */
  delete(k: string, r: number): boolean {
    const s = this.m.get(k)
    if (!s || !s.delete(r)) return false
    if (s.size === 0) this.m.delete(k)
    this.n--
    return true
  }

  clone(): PairSet {
    const c = new PairSet()
    for (const [k, s] of this.m) for (const r of s) c.insert(k, r)
    return c
  }

  /** The rowIds of each key, by key. */
  keys(): Map<string, Set<number>> { return this.m }

  /** `key<TAB>rowId` lines in tailroot's order. */
  list(): string[] {
    const keys = [...this.m.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    const out: string[] = []
    for (const k of keys) for (const r of [...this.m.get(k)!].sort((a, b) => a - b)) out.push(`${k}\t${r}`)
    return out
  }
}

/** Every pair of an index or snapshot as `key<TAB>rowId` lines, in its order. */
export function listIndex(v: Readable): string[] {
  const out: string[] = []
  for (const [k, r] of v.range()) out.push(`${k}\t${r}`)
  return out
}

/** A short description of how `actual` differs from `expected` (null when equal). */
export function describeDiff(expected: string[], actual: string[]): string | null {
  let i = 0
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++
  if (i === expected.length && i === actual.length) return null
  const cut = (s: string | undefined): string => (s === undefined ? '(end)' : JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s))
  return `expected ${expected.length} pairs, found ${actual.length}; first difference at #${i}: expected ${cut(expected[i])}, found ${cut(actual[i])}`
}
