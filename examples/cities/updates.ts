/**
 * Keeping the indexes in step with the table. The table's changes come as a numbered feed (a
 * change log, as an app's database would give them); each batch of changes becomes one
 * transaction per index, and that commit also records the number of the batch's last change
 * (change-number.ts), so that an app restarted after a crash knows where each index stands.
 */
import type { Index, Key } from '../../lib/index.ts'
import { changeMeta, lastChangeNumber } from './change-number.ts'
import { INDEX_NAMES, keyOf } from './indexes.ts'
import type { CityIndexes, IndexName } from './indexes.ts'
import { liveRows } from './table.ts'
import type { City, Table } from './table.ts'

/** One change to the table: an insert (before null), an update, or a delete (after null). */
export interface Change {
  /** Its number in the feed, from 1. */
  seq: number
  rowId: number
  before: City | null
  after: City | null
  what: string
}

/**
 * A deterministic feed of `censusUpdates` population updates (rows at an even stride, ±10 %),
 * then a city founded, a city renamed and a city removed, numbered from `firstSeq`. Computed
 * from `table` as it is; the table is not changed.
 */
export function makeChanges(table: Table, censusUpdates: number, firstSeq = 1): Change[] {
  const live = [...liveRows(table)]
  if (live.length < censusUpdates + 2) throw new Error('makeChanges: the table is too small')
  const changes: Change[] = []
  const touched = new Set<number>()
  const add = (rowId: number, before: City | null, after: City | null, what: string): void => {
    changes.push({ seq: firstSeq + changes.length, rowId, before, after, what })
    touched.add(rowId)
  }
  for (let i = 0; i < censusUpdates; i++) {
    const [c, rowId] = live[Math.floor((i * live.length) / censusUpdates)]!
    const population = Math.round(c.population * (1 + ((i % 21) - 10) / 100))
    add(rowId, c, { ...c, population }, `census: ${c.name} (${c.country}) ${c.population} -> ${population}`)
  }
  const untouched = live.filter(([, r]) => !touched.has(r))
  const maxId = live.reduce((m, [c]) => Math.max(m, c.id), 0)
  const founded: City = { id: maxId + 1, name: 'Tailroot-sur-Mer', country: 'FR', admin: '53', population: 1234, lon: -3.2, lat: 47.6 }
  add(table.length, null, founded, `founded: ${founded.name} (${founded.country}), id ${founded.id}`)
  const [big, bigRow] = untouched.reduce((a, b) => (b[0].population > a[0].population ? b : a))
  add(bigRow, big, { ...big, name: `${big.name} (renamed)` }, `renamed: ${big.name} (${big.country}) -> ${big.name} (renamed)`)
  const [small, smallRow] = untouched.filter(([, r]) => r !== bigRow).reduce((a, b) => (b[0].population < a[0].population ? b : a))
  add(smallRow, small, null, `removed: ${small.name} (${small.country}), population ${small.population}`)
  return changes
}

/** Applies the changes to the table itself (rowIds of inserts are the table's next row). */
export function applyToTable(table: Table, changes: readonly Change[]): void {
  for (const ch of changes) {
    if (ch.before === null && ch.rowId !== table.length) throw new Error(`change ${ch.seq}: an insert must take the next rowId`)
    table[ch.rowId] = ch.after
  }
}

/** What one batch did to one index. */
export interface BatchResult {
  lastChange: number
  /** Per index: the commit sequence the batch made. */
  sequences: Record<IndexName, number>
}

/**
 * Applies the changes to every index in batches of `batchSize`: one transaction per index and
 * batch, each recording the batch's last change number, whether or not the batch touched that
 * index (a transaction given `meta` always commits).
 */
export function applyToIndexes(ix: CityIndexes, changes: readonly Change[], batchSize: number): BatchResult[] {
  const out: BatchResult[] = []
  for (let i = 0; i < changes.length; i += batchSize) {
    const batch = changes.slice(i, i + batchSize)
    const last = batch[batch.length - 1]!.seq
    applyBatch(ix.byId, keyOf.byId, batch, last)
    applyBatch(ix.byCountry, keyOf.byCountry, batch, last)
    applyBatch(ix.byPopulation, keyOf.byPopulation, batch, last)
    applyBatch(ix.byCountryName, keyOf.byCountryName, batch, last)
    applyBatch(ix.byCountryPopulation, keyOf.byCountryPopulation, batch, last)
    applyBatch(ix.byFoldedName, keyOf.byFoldedName, batch, last)
    const sequences = {} as Record<IndexName, number>
    for (const name of INDEX_NAMES) sequences[name] = ix[name].sequence
    out.push({ lastChange: last, sequences })
  }
  return out
}

/** Each index's last applied change, read back from its newest commit's metadata. */
export function changeNumbers(ix: CityIndexes): Record<IndexName, number> {
  const out = {} as Record<IndexName, number>
  for (const name of INDEX_NAMES) out[name] = lastChangeNumber(ix[name])
  return out
}

/** One atomic commit: the batch's changes to this index's pairs, and the change number. */
function applyBatch<K extends Key>(idx: Index<K>, key: (c: City) => K, batch: readonly Change[], last: number): void {
  idx.transaction(tx => {
    for (const ch of batch) {
      const before = ch.before === null ? null : key(ch.before)
      const after = ch.after === null ? null : key(ch.after)
      if (before !== null && after !== null && sameKey(before, after)) continue
      if (before !== null) tx.delete(before, ch.rowId)
      if (after !== null) tx.insert(after, ch.rowId)
    }
  }, { meta: changeMeta(last) })
}

/** The demo's keys are strings, numbers and tuples of them: JSON tells them apart. */
function sameKey(a: Key, b: Key): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
