/**
 * A read view of one named index of a set file (FORMAT.md §12): the reads of another view (the
 * set's raw index, a transaction or a snapshot), through a codec that prefixes every key with the
 * index's number and keeps reads without bounds within the index's range.
 */
import type { Key, KeyCodec } from '../../keys.ts'
import { ReadView, viewCheckOpen, viewState } from '../view.ts'
import type { ReadState } from '../view.ts'

export class IndexView<K extends Key = Key> extends ReadView<K> {
  readonly #base: ReadView<Key>
  protected readonly codec: KeyCodec

  /** Made by IndexSet, its transactions and snapshots. */
  constructor(base: ReadView<Key>, codec: KeyCodec) {
    super()
    this.#base = base
    this.codec = codec
  }

  /** The commit this view reads (the set's: every index of a set is at the same commit). */
  get sequence(): number { return this.#base.sequence }

  protected readState(ordered: boolean): ReadState { return viewState(this.#base, ordered) }

  protected checkOpen(): void { viewCheckOpen(this.#base) }
}
