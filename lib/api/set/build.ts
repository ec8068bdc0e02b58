/**
 * IndexSet.build: a new set file (FORMAT.md §12) holding named indexes built from their pairs,
 * bottom-up, in one commit: the catalog pairs first, then each index's pairs under its prefix,
 * numbered 1, 2, ... in the order given. Each index's pairs are encoded with its own key encoding,
 * sorted, stripped of duplicate pairs and checked for uniqueness; the file appears at the path
 * only when complete.
 */
import { TailrootError, invalid, naming } from '../../errors.ts'
import { catalogKey, catalogRowId } from '../../format/catalog.ts'
import type { CatalogEntry } from '../../format/catalog.ts'
import { MAX_SET_INDEXES, maxKeyBytes } from '../../format/constants.ts'
import type { Key } from '../../keys.ts'
import { ScopedKeyCodec } from '../../keys.ts'
import { comparePairs, encodePair, publishNewFile } from '../build.ts'
import type { Encoded, Pair } from '../build.ts'
import { resolveBuildOptions } from '../options.ts'
import type { BuildOptions, ResolvedBuildOptions } from '../options.ts'
import { SetContext } from './context.ts'
import type { IndexOptions } from './context.ts'

/** One named index of IndexSet.build: its settings and its pairs (in any order). */
export interface SetBuildIndex extends IndexOptions {
  pairs: Iterable<Pair<Key>>
}

/** The options of IndexSet.build: those of Index.build but unique and keyEncoding, which each named index has. */
export type SetBuildOptions = Omit<BuildOptions, 'unique' | 'keyEncoding'>

/** Writes the set file; returns the resolved options, for opening it. */
export function buildSetFile(path: string, indexes: unknown, options: unknown): ResolvedBuildOptions {
  if (typeof path !== 'string' || path.length === 0) throw invalid('IndexSet.build: path must be a non-empty string')
  let o: ResolvedBuildOptions
  try {
    const r = options as Record<string, unknown> | undefined
    if (r !== null && typeof r === 'object' && ('unique' in r || 'keyEncoding' in r)) {
      throw invalid('IndexSet.build: unique and keyEncoding are settings of each named index: { name: { pairs, unique, keyEncoding } }')
    }
    o = resolveBuildOptions(options)
  } catch (err) { throw naming(path, err) }
  if (indexes === null || typeof indexes !== 'object' || Array.isArray(indexes)) {
    throw invalid(`${path}: IndexSet.build: indexes must be an object of { name: { pairs, unique?, keyEncoding? } }`)
  }
  const names = Object.keys(indexes)
  if (names.length > MAX_SET_INDEXES) throw invalid(`${path}: a set holds at most ${MAX_SET_INDEXES} indexes`)
  const ctx = new SetContext(path, maxKeyBytes(o.pageSize), true)
  // Everything is checked and encoded before the file is created.
  const catalog: Encoded[] = []
  const parts: Encoded[][] = []
  names.forEach((name, i) => {
    ctx.checkName(name)
    const spec = (indexes as Record<string, unknown>)[name]
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw invalid(`${path}: IndexSet.build: index ${JSON.stringify(name)} must be { pairs, unique?, keyEncoding? }`)
    const { pairs, ...settings } = spec as Record<string, unknown>
    const io = ctx.options(settings)
    const e: CatalogEntry = { name, number: i + 1, keyEncoding: io.keyEncoding ?? 'utf8', unique: io.unique ?? false }
    if (pairs === null || typeof (pairs as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
      throw invalid(`${path}: IndexSet.build: the pairs of index ${JSON.stringify(name)} must be an iterable of [key, rowId] pairs`)
    }
    catalog.push([catalogKey(name), catalogRowId(e)])
    parts.push(encodeIndex(path, e, ctx.codec(e), pairs as Iterable<unknown>))
  })
  catalog.sort(comparePairs)
  publishNewFile(o.open.vfs, path, 'IndexSet.build', { keyEncoding: 'binary', unique: false, set: true }, o, [catalog, ...parts].flat(), true)
  return o
}

/** One index's pairs as stored keys, sorted, without duplicates; UNIQUE_VIOLATION for a unique index's second rowId. */
function encodeIndex(path: string, e: CatalogEntry, codec: ScopedKeyCodec, pairs: Iterable<unknown>): Encoded[] {
  const out: Encoded[] = []
  for (const p of pairs) out.push(encodePair(p, codec))
  out.sort(comparePairs)
  let n = 0
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!
    if (n > 0) {
      const last = out[n - 1]!
      if (last[0] === p[0] && last[1] === p[1]) continue
      if (e.unique && last[0] === p[0]) {
        const key = JSON.stringify(String(codec.decode(p[0]))).slice(0, 100)
        throw new TailrootError('UNIQUE_VIOLATION', `${path}: key ${key} has more than one rowId (${last[1]} and ${p[1]}) in unique index ${JSON.stringify(e.name)}`, { path })
      }
    }
    out[n++] = p
  }
  out.length = n
  return out
}
