/**
 * Compile-time checks of commit metadata, never run (see keys.typecheck.ts): the `meta` option of
 * transaction, transactionAsync and IndexSet.transaction is bytes or null; `meta` reads a Buffer
 * or null; the old names (tx.setMetadata, idx.metadata, a `metadata` option) are gone.
 */
import { Index, IndexSet } from '../../lib/index.ts'
import type { AsyncTransactionOptions, TransactionOptions } from '../../lib/index.ts'

declare const p: string

async function single(): Promise<void> {
  const idx = Index.open(p)
  idx.transaction(tx => { tx.insert('a', 1) }, { meta: Buffer.from('7') })
  idx.transaction(() => {}, { meta: new Uint8Array(8) })
  idx.transaction(() => {}, { meta: null })
  idx.transaction(() => {}, {})
  const n: number = idx.transaction(tx => tx.count(), { meta: null })
  void n
  // @ts-expect-error meta is bytes, not a string
  idx.transaction(() => {}, { meta: 'change 7' })
  // @ts-expect-error meta is bytes, not a number
  idx.transaction(() => {}, { meta: 7 })
  // @ts-expect-error meta is bytes, not a JSON value
  idx.transaction(() => {}, { meta: { change: 7 } })
  // @ts-expect-error meta is bytes, not an array of numbers
  idx.transaction(() => {}, { meta: [0, 7] })
  // @ts-expect-error the option is named meta
  idx.transaction(() => {}, { metadata: Buffer.from('7') })
  // @ts-expect-error the options are an object
  idx.transaction(() => {}, Buffer.from('7'))
  idx.transaction(tx => {
    // @ts-expect-error no setMetadata: the metadata is the transaction's meta option
    tx.setMetadata(Buffer.from('7'))
  })
  const m: Buffer | null = idx.meta
  void m
  // @ts-expect-error meta may be null
  idx.meta.length
  // @ts-expect-error the getter is named meta
  void idx.metadata
  const snap = idx.snapshot()
  const s: Buffer | null = snap.meta
  void s
  // @ts-expect-error the getter is named meta
  void snap.metadata
  // @ts-expect-error meta is read-only
  idx.meta = Buffer.from('7')

  await idx.transactionAsync(() => {}, { meta: Buffer.from('7'), signal: AbortSignal.timeout(10) })
  await idx.transactionAsync(() => {}, { meta: null })
  // @ts-expect-error meta is bytes, not a string
  await idx.transactionAsync(() => {}, { meta: 'change 7' })
  // @ts-expect-error the option is named meta
  await idx.transactionAsync(() => {}, { metadata: Buffer.from('7') })
  // @ts-expect-error meta is for transactions only
  await idx.insertAsync('a', 1, { meta: Buffer.from('7') })

  const o: TransactionOptions = { meta: Buffer.from('7') }
  const ao: AsyncTransactionOptions = { ...o, signal: AbortSignal.timeout(10) }
  idx.transaction(() => {}, o)
  await idx.transactionAsync(() => {}, ao)
  // @ts-expect-error a signal is for the asynchronous calls
  idx.transaction(() => {}, { meta: null, signal: AbortSignal.timeout(10) })
}

function set(): void {
  const s = IndexSet.open(p)
  s.transaction(tx => { tx.index('city').insert('Lyon', 1) }, { meta: Buffer.from('7') })
  s.transaction(() => {}, { meta: null })
  // @ts-expect-error meta is bytes, not a number
  s.transaction(() => {}, { meta: 7 })
  // @ts-expect-error the option is named meta
  s.transaction(() => {}, { metadata: Buffer.from('7') })
  s.transaction(tx => {
    // @ts-expect-error no setMetadata: the metadata is the transaction's meta option
    tx.setMetadata(Buffer.from('7'))
  })
  const m: Buffer | null = s.meta
  void m
  // @ts-expect-error the getter is named meta
  void s.metadata
  const snap = s.snapshot()
  const sm: Buffer | null = snap.meta
  void sm
  // @ts-expect-error the getter is named meta
  void snap.metadata
}

void single
void set
