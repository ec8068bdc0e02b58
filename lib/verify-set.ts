/**
 * Index.verify's checks of a set file's content (FORMAT.md §12), over every pair in key order:
 * each key starts with a two-byte index number; the catalog's entries (number 0) hold valid
 * names, one rowId each, with valid settings and numbers used once; every other key's number is
 * catalogued, its bytes after the prefix are a key of that index's encoding, and a unique index
 * has one rowId per key.
 */
import { catalogName, decodeCatalogRowId, prefixNumber } from './format/catalog.ts'
import type { CatalogEntry } from './format/catalog.ts'
import { SET_CATALOG, SET_NUMBER_BYTES } from './format/constants.ts'
import { decodeTypedKey } from './format/typed-key.ts'

/** Checks the pairs (in key order); calls `report` with each problem found. */
export function checkSetPairs(path: string, pairs: Iterable<[string, number]>, report: (message: string) => void): void {
  const byNumber = new Map<number, Omit<CatalogEntry, 'name'>>()
  let lastKey: string | null = null
  let lastNumberMissing = -1
  for (const [k, r] of pairs) {
    const repeat = k === lastKey
    lastKey = k
    const show = JSON.stringify(k.slice(0, 40))
    if (k.length < SET_NUMBER_BYTES) { report(`${path}: key ${show} is shorter than an index number`); continue }
    const n = prefixNumber(k)
    if (n === SET_CATALOG) {
      const name = catalogName(k)
      if (name === null) { report(`${path}: catalog key ${show} is not a valid index name`); continue }
      if (repeat) { report(`${path}: the catalog names index ${JSON.stringify(name)} twice`); continue }
      const spec = decodeCatalogRowId(r)
      if (typeof spec === 'string') { report(`${path}: index ${JSON.stringify(name)}: ${spec}`); continue }
      if (byNumber.has(spec.number)) { report(`${path}: index ${JSON.stringify(name)} has number ${spec.number}, which another index has`); continue }
      byNumber.set(spec.number, spec)
      continue
    }
    const spec = byNumber.get(n)
    if (spec === undefined) {
      if (n !== lastNumberMissing) report(`${path}: keys under index number ${n}, which the catalog does not name`)
      lastNumberMissing = n
      continue
    }
    if (repeat && spec.unique) report(`${path}: key ${show} has several rowIds in a unique index`)
    if (repeat) continue
    const bytes = Buffer.from(k.slice(SET_NUMBER_BYTES), 'latin1')
    if (spec.keyEncoding === 'utf8' && !Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)) {
      report(`${path}: key ${show} of a utf8 index is not UTF-8`)
    } else if (spec.keyEncoding === 'typed') {
      try { decodeTypedKey(bytes) } catch (err) {
        report(`${path}: key ${show} of a typed index is not a typed key (${err instanceof Error ? err.message : String(err)})`)
      }
    }
  }
}
