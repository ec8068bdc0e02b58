/**
 * Structure-aware mutations of an index file for spec/fuzz/structure.spec.ts: each rewrites a
 * child pointer, a subtree count, a level, a separator, a leaf's keys or rowIds, a whole node
 * page, or a commit field to another plausible value, and re-seals the page's CRC, so the damage
 * is only structural. A mutation returns a description of what it did (printed on failure), or
 * null when it does not apply to the page it drew.
 */
import { COMMIT_DATA_SYNCED, OFF_PAGE_NO, PAGE_COMMIT, PAGE_INTERNAL, PAGE_LEAF } from '../../lib/format/constants.ts'
import { decodeCommit, encodeCommit } from '../../lib/format/commit.ts'
import type { Commit } from '../../lib/format/commit.ts'
import { decodeNode, encodeInternal, encodeLeaf, internalSize, isLeaf, leafSize } from '../../lib/format/node.ts'
import type { InternalNode, LeafNode, TreeNode } from '../../lib/format/node.ts'
import { crcMatches, readU48, sealPage, writeU48 } from '../../lib/format/page.ts'
import type { Rng } from '../helpers/rng.ts'

/** What the mutations know of the file they damage (computed once from the undamaged file). */
export interface FileMap {
  pageSize: number
  fileId: Buffer
  pages: number
  /** Node pages by level (0 = leaves), every one in the file, reachable or not. */
  nodesByLevel: number[][]
  /** Node pages reachable from the newest commit. */
  reachable: number[]
  /** Commits, newest first. */
  commits: Commit[]
  /** Keys of the newest tree's leaves (byte strings, one char per byte), ascending. */
  keys: string[]
}

export function page(bytes: Buffer, P: number, p: number): Buffer {
  return bytes.subarray(p * P, (p + 1) * P)
}

/** Re-computes a page's CRC, keeping its header fields. */
export function reseal(pg: Buffer): void {
  sealPage(pg, pg[0]!, pg.readUInt32LE(OFF_PAGE_NO), pg[1]!, pg.readUInt16LE(2), pg.readUInt32LE(12))
}

/** Decodes a page as a node when it is a well-checksummed node page at its own number. */
export function nodeAt(bytes: Buffer, P: number, p: number): TreeNode | null {
  const pg = page(bytes, P, p)
  if (pg.length < P || (pg[0] !== PAGE_LEAF && pg[0] !== PAGE_INTERNAL) || !crcMatches(pg) || pg.readUInt32LE(OFF_PAGE_NO) !== p) return null
  try { return decodeNode(pg) } catch { return null }
}

export function mapFile(bytes: Buffer, P: number, fileId: Buffer): FileMap {
  const pages = Math.floor(bytes.length / P)
  const nodesByLevel: number[][] = []
  const commits: Commit[] = []
  for (let p = 1; p < pages; p++) {
    const n = nodeAt(bytes, P, p)
    if (n) (nodesByLevel[n.level] ??= []).push(p)
    const c = decodeCommit(page(bytes, P, p), p, fileId)
    if (c) commits.unshift(c)
  }
  const reachable: number[] = []
  const keys: string[] = []
  const visit = (p: number): void => {
    reachable.push(p)
    const n = nodeAt(bytes, P, p)!
    if (isLeaf(n)) keys.push(...n.keys)
    else n.children.forEach(visit)
  }
  if (commits[0] && commits[0].root !== 0) visit(commits[0].root)
  for (let l = 0; l < nodesByLevel.length; l++) nodesByLevel[l] ??= []
  return { pageSize: P, fileId, pages, nodesByLevel, reachable, commits, keys: [...new Set(keys)].sort() }
}

type Mutation = (bytes: Buffer, m: FileMap, rng: Rng) => string | null

const allNodes = (m: FileMap): number[] => m.nodesByLevel.flat()

/** A node page of the file, usually one the newest commit reaches; null when `want` has none. */
function pickNode(m: FileMap, rng: Rng, want: (n: TreeNode) => boolean, bytes: Buffer): [number, TreeNode] | null {
  for (let tries = 0; tries < 8; tries++) {
    const pool = rng.int(4) === 0 ? allNodes(m) : m.reachable
    if (pool.length === 0) return null
    const p = rng.pick(pool)
    const n = nodeAt(bytes, m.pageSize, p)
    if (n && want(n)) return [p, n]
  }
  return null
}

const isInternal = (n: TreeNode): n is InternalNode => !isLeaf(n)

/** A plausible wrong page for child i of internal node p at `level`. */
function wrongChild(m: FileMap, rng: Rng, p: number, n: InternalNode, i: number): [number, string] {
  const below = (pages: number[]): number[] => pages.filter(q => q < p)
  const sameLevel = below(m.nodesByLevel[n.level - 1] ?? [])
  const otherLevel = below(m.nodesByLevel.flatMap((ps, l) => (l === n.level - 1 ? [] : ps)))
  const commitPages = m.commits.map(c => c.page)
  switch (rng.int(9)) {
    case 0: return [n.children[(i + 1 + rng.int(n.children.length - 1)) % n.children.length]!, 'a sibling (same child twice)']
    case 1: return sameLevel.length ? [rng.pick(sameLevel), 'another node of the right level'] : [0, 'zero']
    case 2: return otherLevel.length ? [rng.pick(otherLevel), 'a node of another level'] : [p, 'itself']
    case 3: return [rng.pick(commitPages), 'a commit page']
    case 4: return [0, 'zero (the header)']
    case 5: return [p, 'itself']
    case 6: return [p + 1 + rng.int(3), 'a page above it']
    case 7: return [rng.pick([1, 2 ** 32 - 1, m.pages + 10]), 'far away']
    default: return sameLevel.length ? [rng.pick(sameLevel), 'another node of the right level'] : [1, 'page 1']
  }
}

const childPointer: Mutation = (bytes, m, rng) => {
  const got = pickNode(m, rng, isInternal, bytes)
  if (!got) return null
  const [p, n] = got as [number, InternalNode]
  const i = rng.int(n.children.length)
  const [to, why] = wrongChild(m, rng, p, n, i)
  const pg = page(bytes, m.pageSize, p)
  pg.writeUInt32LE(to >>> 0, 16 + 4 * i)
  reseal(pg)
  return `page ${p} (level ${n.level}): child ${i} ${n.children[i]} -> ${to} (${why})`
}

/** Every child of a node made the same page: the counts still add up, only the sharing is wrong. */
const shareAll: Mutation = (bytes, m, rng) => {
  const got = pickNode(m, rng, isInternal, bytes)
  if (!got) return null
  const [p, n] = got as [number, InternalNode]
  const to = rng.pick(n.children)
  const pg = page(bytes, m.pageSize, p)
  for (let i = 0; i < n.children.length; i++) pg.writeUInt32LE(to, 16 + 4 * i)
  reseal(pg)
  return `page ${p} (level ${n.level}): all ${n.children.length} children -> ${to}`
}

const subtreeCount: Mutation = (bytes, m, rng) => {
  const got = pickNode(m, rng, isInternal, bytes)
  if (!got) return null
  const [p, n] = got as [number, InternalNode]
  const i = rng.int(n.children.length)
  const pg = page(bytes, m.pageSize, p)
  const at = 16 + 4 * n.children.length + 6 * i
  const c = readU48(pg, at)
  const v = rng.pick([c + 1, Math.max(0, c - 1), 0, 1, 2 * c, c + 1000, Math.floor(c / 2), 2 ** 48 - 1, rng.int(2 ** 48)])
  writeU48(pg, at, v)
  reseal(pg)
  return `page ${p}: count ${i} ${c} -> ${v}`
}

const level: Mutation = (bytes, m, rng) => {
  const got = pickNode(m, rng, () => true, bytes)
  if (!got) return null
  const [p, n] = got
  const v = rng.pick([n.level + 1, Math.max(0, n.level - 1), 0, 1, 2, 255, rng.int(256)])
  const pg = page(bytes, m.pageSize, p)
  pg[1] = v
  reseal(pg)
  return `page ${p}: level ${n.level} -> ${v}`
}

const separator: Mutation = (bytes, m, rng) => {
  const got = pickNode(m, rng, isInternal, bytes)
  if (!got) return null
  const [p, n] = got as [number, InternalNode]
  const i = rng.int(n.sepKeys.length)
  const old = `(${JSON.stringify(n.sepKeys[i])}, ${n.sepIds[i]})`
  const key = (): string => (m.keys.length ? rng.pick(m.keys) : 'k')
  switch (rng.int(7)) {
    case 0: if (i > 0) { n.sepKeys[i] = n.sepKeys[i - 1]!; n.sepIds[i] = n.sepIds[i - 1]! } break // equal
    case 1: if (i + 1 < n.sepKeys.length) { // out of order
      [n.sepKeys[i], n.sepKeys[i + 1]] = [n.sepKeys[i + 1]!, n.sepKeys[i]!];
      [n.sepIds[i], n.sepIds[i + 1]] = [n.sepIds[i + 1]!, n.sepIds[i]!]
    } break
    case 2: n.sepKeys[i] = ''; n.sepIds[i] = 0; break // below everything
    case 3: n.sepKeys[i] = '\xff\xff\xff'; n.sepIds[i] = 2 ** 40; break // above everything
    case 4: n.sepIds[i] = Math.max(0, n.sepIds[i]! + rng.pick([-1, 1, 1000, -1000])); break
    default: n.sepKeys[i] = key(); n.sepIds[i] = rng.pick([0, 1, rng.int(2 ** 20)]) // beyond its child's range, often
  }
  if (internalSize(n) > m.pageSize) return null
  page(bytes, m.pageSize, p).set(encodeInternal(n, p, m.pageSize))
  return `page ${p}: separator ${i + 1} ${old} -> (${JSON.stringify(n.sepKeys[i])}, ${n.sepIds[i]})`
}

const leafContent: Mutation = (bytes, m, rng) => {
  const got = pickNode(m, rng, isLeaf, bytes)
  if (!got) return null
  const [p, n] = got as [number, LeafNode]
  const g = rng.int(n.keys.length)
  let what: string
  switch (rng.int(7)) {
    case 0: if (g > 0) { n.keys[g] = n.keys[g - 1]! } what = `key ${g} equal to the one before`; break
    case 1: if (g + 1 < n.keys.length) { [n.keys[g], n.keys[g + 1]] = [n.keys[g + 1]!, n.keys[g]!] } what = `keys ${g}, ${g + 1} swapped`; break
    case 2: n.keys[g] = m.keys.length ? rng.pick(m.keys) : ''; what = `key ${g} -> another key of the tree`; break
    case 3: { const ids = n.ids[g]!; if (ids.length > 1) ids[ids.length - 1] = ids[ids.length - 2]! ; what = `group ${g}: last rowId repeated`; break }
    case 4: n.ids[g] = n.ids[g]!.map(r => r + rng.pick([1, 2 ** 30])); what = `group ${g}: rowIds shifted up`; break
    case 5: { const ids = n.ids[g]!; if (ids.length > 1) ids.reverse() ; what = `group ${g}: rowIds reversed`; break }
    default: n.keys = n.keys.map(k => k + 'z'); what = 'every key extended'
  }
  n.count = n.ids.reduce((a, l) => a + l.length, 0)
  if (leafSize(n) > m.pageSize) return null
  page(bytes, m.pageSize, p).set(encodeLeaf(n, p, m.pageSize))
  return `page ${p} (leaf): ${what}`
}

/** A node page copied over another (renumbered): a subtree in two places, or in the wrong place. */
const copyNode: Mutation = (bytes, m, rng) => {
  const got = pickNode(m, rng, () => true, bytes)
  if (!got) return null
  const [p, n] = got
  const same = m.nodesByLevel[n.level] ?? []
  const from = rng.int(3) === 0 ? rng.pick(allNodes(m)) : rng.pick(same)
  if (from === p) return null
  const pg = page(bytes, m.pageSize, p)
  page(bytes, m.pageSize, from).copy(pg)
  pg.writeUInt32LE(p, OFF_PAGE_NO)
  reseal(pg)
  return `page ${p} (level ${n.level}) <- copy of page ${from}`
}

const commitField: Mutation = (bytes, m, rng) => {
  if (m.commits.length === 0) return null
  const c = { ...(rng.int(6) === 0 ? rng.pick(m.commits) : m.commits[0]!) }
  const prev = m.commits.find(x => x.page < c.page)
  const nodes = allNodes(m)
  let what: string
  switch (rng.int(8)) {
    case 0: {
      const v = rng.pick([rng.pick(nodes), rng.pick(m.nodesByLevel[0]!), prev?.root ?? 0, 0, c.page, c.page - 1, c.page + 1, rng.pick(m.commits).page])
      what = `root ${c.root} -> ${v}`; c.root = v; break
    }
    case 1: { const v = rng.pick([0, 1, c.height - 1, c.height + 1, 255, rng.int(256)]); what = `height ${c.height} -> ${v}`; c.height = v; break }
    case 2: { const v = rng.pick([0, c.entryCount + 1, Math.max(0, c.entryCount - 1), 2 * c.entryCount, 2 ** 53 - 1, 2 ** 48]); what = `entryCount ${c.entryCount} -> ${v}`; c.entryCount = v; break }
    case 3: { const v = rng.pick([0, prev?.prevCommit ?? 0, rng.int(c.page + 2), c.page, m.commits[m.commits.length - 1]!.page]); what = `prevCommit ${c.prevCommit} -> ${v}`; c.prevCommit = v; break }
    case 4: { const v = rng.pick([1, c.firstDataPage + 1, Math.max(1, c.firstDataPage - 1), c.page, c.page + 1]); what = `firstDataPage ${c.firstDataPage} -> ${v}`; c.firstDataPage = v; break }
    case 5: { const v = rng.pick([0, c.livePages + 1, 2 ** 32 - 1, 1]); what = `livePages ${c.livePages} -> ${v}`; c.livePages = v; break }
    case 6: { const v = rng.pick([0, 1, c.sequence - 1, c.sequence + 1, prev?.sequence ?? 0, 2 ** 53 - 1]); what = `sequence ${c.sequence} -> ${v}`; c.sequence = Math.max(0, v); break }
    default: what = `flags ${c.flags} -> ${c.flags ^ COMMIT_DATA_SYNCED}`; c.flags ^= COMMIT_DATA_SYNCED
  }
  page(bytes, m.pageSize, c.page).set(encodeCommit(c, m.fileId, m.pageSize))
  return `commit page ${c.page}: ${what}`
}

export const MUTATIONS: [string, Mutation][] = [
  ['child', childPointer], ['child', childPointer], ['share', shareAll], ['count', subtreeCount], ['level', level],
  ['separator', separator], ['leaf', leafContent], ['copy', copyNode], ['commit', commitField], ['commit', commitField],
]

/**
 * Makes the data checksum of every commit whose data pages include one of `touched` match again,
 * so that opening the file does not reject the commit for its checksum and reaches the damage.
 */
export function fixDataCrcs(bytes: Buffer, m: FileMap, touched: Set<number>, crc: (data: Buffer) => number): void {
  const P = m.pageSize
  for (let p = 1; p < m.pages; p++) {
    const pg = page(bytes, P, p)
    if (pg[0] !== PAGE_COMMIT) continue
    const c = decodeCommit(pg, p, m.fileId)
    if (!c || c.firstDataPage >= c.page) continue
    let hit = false
    for (const q of touched) if (q >= c.firstDataPage && q < c.page) hit = true
    if (!hit) continue
    c.dataCrc = crc(bytes.subarray(c.firstDataPage * P, c.page * P))
    pg.set(encodeCommit(c, m.fileId, P))
  }
}
