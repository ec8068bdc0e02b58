/** Random valid nodes for codec tests and fuzzing (keys as byte strings, one char per byte). */
import { maxKeyBytes } from '../../lib/format/constants.ts'
import type { InternalNode, LeafNode } from '../../lib/format/node.ts'
import type { Rng } from '../helpers/rng.ts'
import { refLeb128 } from './ref.ts'

const MAX_ID = Number.MAX_SAFE_INTEGER

function vlen(n: number): number {
  return refLeb128(n).length
}

/** FORMAT.md §5's size formula. */
export function refLeafSize(keys: string[], ids: number[][]): number {
  let s = 16
  for (let i = 0; i < keys.length; i++) {
    const l = ids[i]!
    s += 2 + vlen(keys[i]!.length) + keys[i]!.length + vlen(l.length) + vlen(l[0]!)
    for (let j = 1; j < l.length; j++) s += vlen(l[j]! - l[j - 1]!)
  }
  return s
}

export function refInternalSize(n: InternalNode): number {
  let s = 16 + 10 * n.children.length
  for (let i = 0; i < n.sepKeys.length; i++) s += 2 + vlen(n.sepKeys[i]!.length) + n.sepKeys[i]!.length + vlen(n.sepIds[i]!)
  return s
}

export function randomKey(rng: Rng, maxLen: number): string {
  const shape = rng.int(4)
  const len = shape === 0 ? rng.int(4) : shape === 1 ? rng.int(Math.min(40, maxLen + 1)) : rng.int(maxLen + 1)
  const alphabet = rng.int(2) === 0 ? 256 : 4
  let s = ''
  for (let i = 0; i < len; i++) s += String.fromCharCode(alphabet === 256 ? rng.int(256) : 0x61 + rng.int(4))
  return s
}

export function randomId(rng: Rng): number {
  const bits = rng.pick([7, 14, 21, 28, 35, 42, 49, 53])
  return Math.min(MAX_ID, Math.floor(rng.next() * 2 ** bits))
}

export function randomIds(rng: Rng): number[] {
  const n = rng.pick([1, 1, 1, 2, 3, 10, 130, 300])
  const set = new Set<number>()
  const base = randomId(rng)
  const spread = rng.pick([1, 2, 200, 20000, 2 ** 30, 2 ** 52])
  set.add(Math.min(MAX_ID, base))
  for (let i = 1; i < n; i++) set.add(Math.min(MAX_ID, base + Math.floor(rng.next() * spread)))
  if (rng.int(20) === 0) set.add(MAX_ID)
  if (rng.int(20) === 0) set.add(0)
  return [...set].sort((a, b) => a - b)
}

/** A random leaf that fits in `pageSize` bytes, with as many groups as fit. */
export function randomLeaf(rng: Rng, pageSize: number): LeafNode {
  const max = maxKeyBytes(pageSize)
  const want = new Set<string>()
  const target = 1 + rng.int(rng.int(2) === 0 ? 5 : 400)
  for (let i = 0; i < target; i++) want.add(randomKey(rng, max))
  const sorted = [...want].sort()
  const keys: string[] = []
  const ids: number[][] = []
  for (const k of sorted) {
    let l = randomIds(rng)
    while (refLeafSize([...keys, k], [...ids, l]) > pageSize && l.length > 1) l = l.slice(0, Math.ceil(l.length / 2))
    if (refLeafSize([...keys, k], [...ids, l]) > pageSize) break
    keys.push(k)
    ids.push(l)
  }
  return { level: 0, keys, ids, count: ids.reduce((a, l) => a + l.length, 0) }
}

export function randomInternal(rng: Rng, pageSize: number, pageNo: number): InternalNode {
  const max = maxKeyBytes(pageSize)
  const pairs = new Map<string, number>()
  const target = 1 + rng.int(rng.int(2) === 0 ? 3 : 300)
  for (let i = 0; i < target; i++) pairs.set(`${randomKey(rng, max)}`, randomId(rng))
  // Same key twice with different rowIds is legal for separators: add a few such.
  const list: [string, number][] = [...pairs.entries()]
  if (list.length > 0 && rng.int(2) === 0) list.push([list[0]![0], Math.min(MAX_ID, list[0]![1] + 1 + rng.int(5))])
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))
  const dedup = list.filter((p, i) => i === 0 || p[0] !== list[i - 1]![0] || p[1] !== list[i - 1]![1])
  const n: InternalNode = { level: 1 + rng.int(20), children: [], counts: [], sepKeys: [], sepIds: [], count: 0 }
  const addChild = (): void => {
    n.children.push(1 + rng.int(pageNo - 1))
    const c = rng.int(3) === 0 ? 2 ** 48 - 1 - rng.int(1000) : 1 + rng.int(100000)
    n.counts.push(c)
    n.count += c
  }
  addChild()
  for (const [k, r] of dedup) {
    n.sepKeys.push(k)
    n.sepIds.push(r)
    addChild()
    if (refInternalSize(n) > pageSize || n.count > MAX_ID) {
      n.sepKeys.pop(); n.sepIds.pop(); n.count -= n.counts.pop()!; n.children.pop()
      break
    }
  }
  if (n.children.length < 2) {
    n.sepKeys.push('k'); n.sepIds.push(0); addChild()
    if (n.count > MAX_ID) { n.count -= n.counts[1]!; n.counts[1] = 1; n.count += 1 }
  }
  return n
}

