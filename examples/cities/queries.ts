/**
 * The questions an app asks of the table, each answered through one index and then the table's
 * rows. Pure reads: every function returns its answer and prints nothing (examples/demo.ts
 * prints and times them; spec/examples/demo.spec.ts checks them against the rows themselves).
 */
import type { CityIndexes } from './indexes.ts'
import { foldName, row } from './table.ts'
import type { City, Table } from './table.ts'

/** The row of GeoNames id `id` (unique index: at most one rowId), or null. */
export function cityById(ix: CityIndexes, table: Table, id: number): City | null {
  const [rowId] = ix.byId.get(id)
  return rowId === undefined ? null : row(table, rowId)
}

/** Every city of `country`, in name order (then rowId), from the [country, name] index. */
export function citiesOfCountry(ix: CityIndexes, table: Table, country: string): City[] {
  return rows(table, ix.byCountryName.range({ prefix: [country] }))
}

/** How many cities `country` has: the country index's count of the key. */
export function countryCount(ix: CityIndexes, country: string): number {
  return ix.byCountry.count(country)
}

/** The `n` most populous cities of `country`: a reverse, limited range over [country, population]. */
export function largestOfCountry(ix: CityIndexes, table: Table, country: string, n: number): City[] {
  return rows(table, ix.byCountryPopulation.range({ prefix: [country], reverse: true, limit: n }))
}

/** The `n` most populous cities of the world, and how many have at least `min` inhabitants. */
export function largestOfWorld(ix: CityIndexes, table: Table, n: number, min: number): { count: number; top: City[] } {
  return {
    count: ix.byPopulation.countRange({ gte: min }),
    top: rows(table, ix.byPopulation.range({ reverse: true, limit: n })),
  }
}

/**
 * The cities whose name starts with `prefix`, case-insensitively: how many (countRange) and the
 * first `n` in folded-name order (range), from the case-folded name index.
 */
export function namesStartingWith(ix: CityIndexes, table: Table, prefix: string, n: number): { count: number; first: City[] } {
  const p = foldName(prefix)
  return {
    count: ix.byFoldedName.countRange({ prefix: p }),
    first: rows(table, ix.byFoldedName.range({ prefix: p, limit: n })),
  }
}

export interface Page {
  /** 1-based. */
  page: number
  pageSize: number
  /** The country's cities in all, and so its pages. */
  total: number
  pages: number
  rows: City[]
}

/**
 * Page `page` (1-based, `pageSize` a page) of `country`'s cities in name order: countRange for
 * the total, range with offset and limit for the page; offset costs O(height), not O(offset).
 */
export function pageOfCountry(ix: CityIndexes, table: Table, country: string, page: number, pageSize: number): Page {
  const total = ix.byCountryName.countRange({ prefix: [country] })
  const found = ix.byCountryName.range({ prefix: [country], offset: (page - 1) * pageSize, limit: pageSize })
  return { page, pageSize, total, pages: Math.ceil(total / pageSize), rows: rows(table, found) }
}

function rows(table: Table, pairs: Iterable<[unknown, number]>): City[] {
  const out: City[] = []
  for (const [, rowId] of pairs) out.push(row(table, rowId))
  return out
}
