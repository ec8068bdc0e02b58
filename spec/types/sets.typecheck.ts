/**
 * Compile-time checks of IndexSet, never run (see keys.typecheck.ts): a named index's key type
 * follows its keyEncoding option, and a transaction's or snapshot's index given by handle keeps it.
 */
import { IndexSet } from '../../lib/index.ts'
import type { IndexOptions, Key, TypedKey } from '../../lib/index.ts'

declare const p: string

function sets(o: IndexOptions): void {
  const set = IndexSet.open(p, { pageSize: 1024, durability: 'full' })
  // @ts-expect-error unique is an option of each named index
  IndexSet.open(p, { unique: true })
  const city = set.index('city')
  city.insert('Lyon', 1)
  // @ts-expect-error a utf8 index takes strings
  city.insert(42, 1)
  const email = set.index('email', { keyEncoding: 'binary', unique: true })
  email.insert(Buffer.from('a@x'), 1)
  // @ts-expect-error a binary index takes Uint8Array keys
  email.insert('a@x', 1)
  const name = set.index<[string, string]>('name', { keyEncoding: 'typed' })
  name.insert(['Doe', 'Jane'], 1)
  // @ts-expect-error narrowed to [string, string]
  name.insert(['Doe', 1], 1)
  const any = set.index('x', o)
  any.insert(7, 1)
  set.transaction(tx => {
    tx.index(city).insert('Paris', 2)
    tx.index(email).insert(new Uint8Array(1), 2)
    tx.index(name).insert(['Roe', 'Bob'], 2)
    // @ts-expect-error the handle's key type carries over
    tx.index(city).insert(1, 2)
    // @ts-expect-error the handle's key type carries over
    tx.index(email).insert('b@x', 2)
    const t: TypedKey = [...tx.index('n', { keyEncoding: 'typed' }).range()][0]![0]
    void t
  })
  const snap = set.snapshot()
  const k: string = [...snap.index(city).range()][0]![0]
  const b: Uint8Array = [...snap.index(email).range()][0]![0]
  const n: Key = [...snap.index('x', o).range()][0]![0]
  void k
  void b
  void n
  // @ts-expect-error a snapshot's index has no insert
  snap.index(city).insert('x', 1)
  const ins: Promise<boolean> = city.insertAsync('Lyon', 1)
  void ins
  // @ts-expect-error the async writes take the index's key type too
  void city.insertAsync(new Uint8Array(1), 1)
  // @ts-expect-error insertAsync takes no meta
  void email.deleteAsync(new Uint8Array(1), 1, { meta: new Uint8Array(1) })
  const r: Promise<number> = set.transactionAsync(tx => tx.index(city).count(), { meta: null })
  void r
}
void sets
