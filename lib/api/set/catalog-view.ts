/**
 * Reading the catalog of a set file (FORMAT.md §12) through any view of its raw, binary-keyed
 * content: the pairs under index number 0, a name's UTF-8 bytes as key and its settings as rowId.
 */
import { TailrootError } from '../../errors.ts'
import { CATALOG_PREFIX, decodeCatalogRowId } from '../../format/catalog.ts'
import type { CatalogEntry } from '../../format/catalog.ts'
import { ScopedKeyCodec } from '../../keys.ts'
import type { Key } from '../../keys.ts'
import type { ReadView } from '../view.ts'
import { IndexView } from './scoped-view.ts'

/** The codec of catalog keys: index names, as utf8 keys after the catalog's prefix. */
export function catalogCodec(fileMaxKeyBytes: number, path: string): ScopedKeyCodec {
  return new ScopedKeyCodec(CATALOG_PREFIX, 'utf8', fileMaxKeyBytes, path)
}

function entry(path: string, name: string, ids: number[]): CatalogEntry {
  const spec = ids.length === 1 ? decodeCatalogRowId(ids[0]!) : `${ids.length} catalog entries`
  if (typeof spec === 'string') throw new TailrootError('CORRUPT', `${path}: the catalog entry of index ${JSON.stringify(name)} is damaged: ${spec}`, { path })
  return { name, ...spec }
}

/** The catalog entry of `name` in what `base` reads, or null. */
export function lookupEntry(base: ReadView<Key>, codec: ScopedKeyCodec, name: string): CatalogEntry | null {
  const ids = new IndexView<string>(base, codec).get(name)
  return ids.length === 0 ? null : entry(codec.path, name, ids)
}

/** Every catalog entry in what `base` reads, in name (UTF-8 byte) order. */
export function listEntries(base: ReadView<Key>, codec: ScopedKeyCodec): CatalogEntry[] {
  const out: CatalogEntry[] = []
  let name: string | null = null
  let ids: number[] = []
  for (const [k, r] of new IndexView<string>(base, codec).range()) {
    if (k !== name) {
      if (name !== null) out.push(entry(codec.path, name, ids))
      name = k
      ids = []
    }
    ids.push(r)
  }
  if (name !== null) out.push(entry(codec.path, name, ids))
  return out
}
