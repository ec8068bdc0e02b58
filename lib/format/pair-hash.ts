/**
 * Hashes of keys and (key, rowId) pairs, and the two-bit probes of the in-memory Bloom filters
 * built from them: the change log's (lib/tree/key-filter.ts) and the cached leaves'
 * (leaf-search.ts, leafPairFilter). Pure; never stored in a file.
 */

/** FNV-1a over the key's bytes (chars). */
export function keyHash(k: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193)
  return h
}

/** keyHash of the key whose bytes are page[at, at + len). */
export function keyHashAt(page: Uint8Array, at: number, len: number): number {
  let h = 0x811c9dc5
  for (let i = at; i < at + len; i++) h = Math.imul(h ^ page[i]!, 0x01000193)
  return h
}

/** The hash of the pair (k, r) from h = keyHash(k) and the rowId r (an integer up to 2^53). */
export function pairHash(h: number, r: number): number {
  let x = Math.imul(h ^ (r >>> 0), 0x9e3779b1)
  x = Math.imul(x ^ (x >>> 15) ^ ((r / 4294967296) >>> 0), 0x85ebca6b)
  return x ^ (x >>> 13)
}

/**
 * Sets the two bits of hash h in `bits`, a filter of 2^(32 - shift) bits: the top bits of two
 * multiplications of h pick them.
 */
export function bloomAdd(bits: Int32Array, shift: number, h: number): void {
  const a = Math.imul(h, 0x9e3779b1) >>> shift
  const b = Math.imul(h, 0x85ebca6b) >>> shift
  bits[a >>> 5]! |= 1 << (a & 31)
  bits[b >>> 5]! |= 1 << (b & 31)
}

/** Whether both bits of hash h are set in `bits` (bloomAdd): false means h was never added. */
export function bloomHas(bits: Int32Array, shift: number, h: number): boolean {
  const a = Math.imul(h, 0x9e3779b1) >>> shift
  const b = Math.imul(h, 0x85ebca6b) >>> shift
  return (bits[a >>> 5]! & (1 << (a & 31))) !== 0 && (bits[b >>> 5]! & (1 << (b & 31))) !== 0
}
