/**
 * Builds an index file through a seeded series of commits and records, for each commit, where it
 * ends in the file and what the index held after it: the ground truth for the power-cut tests.
 */
import fs from 'node:fs'
import { Index } from '../../lib/index.ts'
import type { Durability, Vfs } from '../../lib/index.ts'
import type { Rng } from '../helpers/rng.ts'
import { PairSet, describeDiff, listIndex } from './pair-set.ts'

export interface CommitRecord {
  sequence: number
  /** Page of the commit page; its commit ends at (commitPage + 1) * pageSize. */
  commitPage: number
  /** Byte offset where the commit page ends. */
  end: number
  /** First page the commit appended (the page after the previous commit page). */
  firstPage: number
  pairs: string[]
  meta: string | null
  /** The durability of the handle that wrote the commit. */
  durability: Durability
}

export interface History {
  pageSize: number
  /** commits[0] is the empty state before the first commit (sequence 0, end = one page). */
  commits: CommitRecord[]
  bytes: Buffer
}

export interface HistoryOptions {
  pageSize: number
  /** 'mixed': each commit picks a 'full' or a 'none' handle at random. */
  durability: Durability | 'mixed'
  commits: number
  /** Most pairs one transaction changes. */
  maxBatch: number
  keyBytes: number
  /** File layer for both handles (a FaultyVfs records every write and sync). */
  vfs?: Vfs
  /** The handles' preallocate option (default: the library's default). */
  preallocate?: boolean
  /** Called after each commit with its record. */
  onCommit?: (c: CommitRecord) => void
}

/** Runs `o.commits` commits that each change something, checking the index against a model as it goes. */
/**
 * Inserts of the forced last commit, each of a new key: a new key's group takes at least
 * 5 + keyBytes bytes in a leaf, so 48 keys of ≥ 20 bytes need more than two 512-byte leaves.
 */
const BIG_COMMIT_INSERTS = 48

export function buildHistory(file: string, rng: Rng, o: HistoryOptions): History {
  const vfs = o.vfs === undefined ? {} : { vfs: o.vfs }
  const handles = {
    full: o.durability === 'none' ? null : Index.open(file, { pageSize: o.pageSize, durability: 'full', ...vfs, ...(o.preallocate === undefined ? {} : { preallocate: o.preallocate }) }),
    none: o.durability === 'full' ? null : Index.open(file, { pageSize: o.pageSize, durability: 'none', ...vfs, ...(o.preallocate === undefined ? {} : { preallocate: o.preallocate }) }),
  }
  let idx = (handles.full ?? handles.none)!
  const model = new PairSet()
  let meta: string | null = null
  const commits: CommitRecord[] = [{ sequence: 0, commitPage: 0, end: o.pageSize, firstPage: 1, pairs: [], meta: null, durability: 'full' }]
  const key = (): string => `k${String(rng.int(60)).padStart(2, '0')}`.padEnd(o.keyBytes, String.fromCharCode(97 + rng.int(3)))
  const present = (): [string, number] | null => {
    const all = model.list()
    if (all.length === 0) return null
    const l = rng.pick(all)
    const tab = l.indexOf('\t')
    return [l.slice(0, tab), Number(l.slice(tab + 1))]
  }
  try {
    for (let c = 1; c <= o.commits; c++) {
      const durability: Durability = o.durability === 'mixed' ? (rng.next() < 0.5 ? 'full' : 'none') : o.durability
      idx = (handles[durability])!
      const before = commits[commits.length - 1]!
      // Every history has the shapes the tests rely on, whatever the seed: commit 2 sets only
      // metadata (a commit without data pages), and the last commit inserts so many pairs that
      // their entries alone need more than two pages (a commit of several data pages).
      const forceMeta = c === 2 && o.commits >= 3
      const forceBig = c === o.commits && o.commits >= 3
      const r = forceMeta ? 0.5 : forceBig ? 0.99 : rng.next()
      if (!forceBig && (r < 0.3 || model.size === 0)) {
        let k: string, v: number
        do { k = key(); v = rng.int(1e6) } while (model.has(k, v))
        idx.insert(k, v)
        model.insert(k, v)
      } else if (r < 0.45) {
        const p = present()!
        idx.delete(p[0], p[1])
        model.delete(p[0], p[1])
      } else if (r < 0.52) {
        meta = `meta of commit ${c}`
        const m = meta
        idx.transaction(() => {}, { meta: Buffer.from(m) })
      } else {
        const n = forceBig ? BIG_COMMIT_INSERTS : 1 + rng.int(o.maxBatch)
        const m = rng.next() < 0.2 ? `meta of commit ${c}` : undefined
        if (m !== undefined) meta = m
        idx.transaction(tx => {
          for (let i = 0; i < n; i++) {
            const p = !forceBig && rng.next() < 0.25 ? present() : null
            if (p !== null && model.has(p[0], p[1])) {
              tx.delete(p[0], p[1])
              model.delete(p[0], p[1])
            } else {
              const k = forceBig ? `z${String(i).padStart(2, '0')}`.padEnd(o.keyBytes, 'z') : key()
              const v = rng.int(1e6)
              tx.insert(k, v)
              model.insert(k, v)
            }
          }
        }, m === undefined ? undefined : { meta: Buffer.from(m) })
      }
      idx.refresh()
      const s = idx.stats()
      const pairs = model.list()
      const diff = describeDiff(pairs, listIndex(idx))
      if (diff !== null) throw new Error(`building the history: commit ${c} reads back wrong: ${diff}`)
      if (s.sequence !== c) throw new Error(`building the history: commit ${c} has sequence ${s.sequence}`)
      const end = (s.commitPage + 1) * o.pageSize
      if (s.fileBytes < end || s.tailBytes !== s.fileBytes - end) throw new Error(`building the history: commit ${c} ends at ${end} but the file has ${s.fileBytes} bytes (tailBytes ${s.tailBytes})`)
      if (!zerosFrom(file, end)) throw new Error(`building the history: commit ${c} ends at ${end}, and non-zero bytes follow it`)
      const rec: CommitRecord = { sequence: c, commitPage: s.commitPage, end, firstPage: before.commitPage + 1, pairs, meta, durability }
      commits.push(rec)
      o.onCommit?.(rec)
    }
  } finally {
    handles.full?.close()
    handles.none?.close()
  }
  return { pageSize: o.pageSize, commits, bytes: fs.readFileSync(file) }
}

/** Whether every byte of `file` from `offset` on is zero (preallocated space, or nothing). */
export function zerosFrom(file: string, offset: number): boolean {
  const bytes = fs.readFileSync(file)
  return bytes.subarray(offset).every(b => b === 0)
}

/**
 * The newest commit all of whose bytes `damaged` still holds unchanged: the newest commit wholly
 * before the first byte where `damaged` differs from the history's file. (A cut inside the zero
 * padding of a commit page followed by zeros leaves that page whole, so this can lie past the cut.)
 */
export function newestIntact(h: History, damaged: Buffer): CommitRecord {
  const n = Math.min(h.bytes.length, damaged.length)
  let same = 0
  while (same < n && h.bytes[same] === damaged[same]) same++
  let best = h.commits[0]!
  for (const c of h.commits) if (c.end <= same) best = c
  return best
}
