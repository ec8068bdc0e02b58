/**
 * A Bloom filter of the entries of a level of a ChangeLog: two bits for the key of each entry,
 * two for the pair (key, rowId). A key whose bits are not both set has no entry, nor does a pair:
 * state() and a merge skip the search of a level for a pair absent from it even when its key has
 * other entries there (a new rowId of a pending key, common), keyChanges() for a key absent.
 *
 * Bits are only ever added, so a level merged from another shares its filter and adds the
 * entries of its changes: the filter then holds a superset of the entries of every level that
 * shares it, which costs false positives (a search) but never a wrong answer, and a merge adds to
 * it without a copy. A level whose merges added more entries than `limit` gets a new filter, made
 * from its own entries, with room for three times as many.
 *
 * Hashing is a separate step (keyHash, pairHash, in lib/format/pair-hash.ts), so that a key is
 * hashed once for the filters of both levels.
 */
import { bloomAdd, bloomHas } from '../format/pair-hash.ts'

export class KeyFilter {
  private readonly bits: Int32Array
  /** 32 less log2 of the number of bits: a hash's top bits pick a bit. */
  private readonly shift: number
  /** Entries added so far (by every level sharing the filter), and how many it takes before a new one. */
  added = 0
  readonly limit: number

  /** A filter for `entries` entries and about three times as many added later. */
  constructor(entries: number) {
    let log2 = 12
    while (log2 < 26 && 2 ** log2 < 32 * entries) log2++
    this.bits = new Int32Array(2 ** (log2 - 5))
    this.shift = 32 - log2
    // 10 bits per entry (4 of them set) when full: about 10% false positives, 5% at two thirds
    // of that.
    this.limit = Math.floor(2 ** log2 / 10)
  }

  /** Whether the filter has room for `n` more entries before it should be made anew. */
  fits(n: number): boolean {
    return this.added + n <= this.limit
  }

  /** Adds the entry whose key's keyHash is h and pair's pairHash is p. */
  add(h: number, p: number): void {
    bloomAdd(this.bits, this.shift, h)
    bloomAdd(this.bits, this.shift, p)
    this.added++
  }

  /**
   * Whether the key whose keyHash is h, or the pair whose pairHash is h, may have an entry
   * (false: it has none).
   */
  mayHave(h: number): boolean {
    return bloomHas(this.bits, this.shift, h)
  }
}
