/**
 * The table's six indexes, one file each, and how each row maps to its key. rowIds are the
 * table's row numbers, so every index answers "which rows", and the rows are read from the table.
 */
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import type { Pair } from '../../lib/index.ts'
import { foldName, liveRows } from './table.ts'
import type { City, Table } from './table.ts'

export interface CityIndexes {
  /** Unique, typed: GeoNames id -> row. */
  byId: Index<number>
  /** utf8: country code -> rows. */
  byCountry: Index<string>
  /** Typed: population -> rows, in numeric order. */
  byPopulation: Index<number>
  /** Typed: [country, name] -> rows; a country's cities in name order. */
  byCountryName: Index<[string, string]>
  /** Typed: [country, population] -> rows; a country's cities by size. */
  byCountryPopulation: Index<[string, number]>
  /** utf8: the case-folded name -> rows, for prefix search. */
  byFoldedName: Index<string>
}

export type IndexName = keyof CityIndexes

/** Each index's key of a row. */
export const keyOf = {
  byId: (c: City): number => c.id,
  byCountry: (c: City): string => c.country,
  byPopulation: (c: City): number => c.population,
  byCountryName: (c: City): [string, string] => [c.country, c.name],
  byCountryPopulation: (c: City): [string, number] => [c.country, c.population],
  byFoldedName: (c: City): string => foldName(c.name),
} satisfies { [N in IndexName]: (c: City) => unknown }

export const INDEX_NAMES = Object.keys(keyOf) as IndexName[]

/** The file of each index in `dir`. */
export function indexFile(dir: string, name: IndexName): string {
  return path.join(dir, `cities.${name}.tailroot`)
}

/** Called as pairs are read into each build: index name, pairs read so far for it. */
export type BuildProgress = (name: IndexName, pairs: number) => void

/** What buildIndexes reports of each index: the milliseconds its Index.build took. */
export type BuildTimes = Record<IndexName, number>

/**
 * Creates the six index files in `dir` with Index.build (one commit each) and returns them open.
 * `durability: 'full'` (the default): each file is durable when its build returns.
 */
export function buildIndexes(dir: string, table: Table, onProgress: BuildProgress = () => {}): { indexes: CityIndexes; ms: BuildTimes } {
  const ms = {} as BuildTimes
  const timed = <T>(name: IndexName, fn: () => T): T => {
    const t0 = performance.now()
    try { return fn() } finally { ms[name] = performance.now() - t0 }
  }
  /** Lazily, the (key, rowId) pairs of every live row, reporting progress as Index.build reads them. */
  function* pairs<K>(name: IndexName, key: (c: City) => K): Generator<Pair<K>> {
    let n = 0
    for (const [c, rowId] of liveRows(table)) {
      yield [key(c), rowId]
      if (++n % 4096 === 0) onProgress(name, n)
    }
    onProgress(name, n)
  }
  const file = (name: IndexName): string => indexFile(dir, name)
  const opened: Partial<CityIndexes> = {}
  try {
    opened.byId = timed('byId', () => Index.build<number>(file('byId'), pairs('byId', keyOf.byId), { keyEncoding: 'typed', unique: true }))
    opened.byCountry = timed('byCountry', () => Index.build(file('byCountry'), pairs('byCountry', keyOf.byCountry)))
    opened.byPopulation = timed('byPopulation', () => Index.build<number>(file('byPopulation'), pairs('byPopulation', keyOf.byPopulation), { keyEncoding: 'typed' }))
    opened.byCountryName = timed('byCountryName', () =>
      Index.build<[string, string]>(file('byCountryName'), pairs('byCountryName', keyOf.byCountryName), { keyEncoding: 'typed' }))
    opened.byCountryPopulation = timed('byCountryPopulation', () =>
      Index.build<[string, number]>(file('byCountryPopulation'), pairs('byCountryPopulation', keyOf.byCountryPopulation), { keyEncoding: 'typed' }))
    opened.byFoldedName = timed('byFoldedName', () => Index.build(file('byFoldedName'), pairs('byFoldedName', keyOf.byFoldedName)))
  } catch (err) {
    for (const idx of Object.values(opened)) idx.close()
    throw err
  }
  return { indexes: opened as CityIndexes, ms }
}

/** Opens the six existing index files of `dir` (as an app does after a restart). */
export function openIndexes(dir: string): CityIndexes {
  const file = (name: IndexName): string => indexFile(dir, name)
  return {
    byId: Index.open<number>(file('byId'), { create: false, keyEncoding: 'typed', unique: true }),
    byCountry: Index.open(file('byCountry'), { create: false }),
    byPopulation: Index.open<number>(file('byPopulation'), { create: false, keyEncoding: 'typed' }),
    byCountryName: Index.open<[string, string]>(file('byCountryName'), { create: false, keyEncoding: 'typed' }),
    byCountryPopulation: Index.open<[string, number]>(file('byCountryPopulation'), { create: false, keyEncoding: 'typed' }),
    byFoldedName: Index.open(file('byFoldedName'), { create: false }),
  }
}

export function closeIndexes(ix: CityIndexes): void {
  for (const name of INDEX_NAMES) ix[name].close()
}
