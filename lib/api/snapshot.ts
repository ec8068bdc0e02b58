/** A read view pinned at one commit, for as long as it lives. */
import { TailrootError } from '../errors.ts'
import type { Commit } from '../format/commit.ts'
import type { Key, KeyCodec } from '../keys.ts'
import type { FilePin, IndexFile } from '../store/file.ts'
import type { PendingState } from '../store/log-chain.ts'
import { ReadView } from './view.ts'
import type { ReadState } from './view.ts'

export class Snapshot<K extends Key = string> extends ReadView<K> {
  #file: IndexFile | null
  /** Released by close(), or when a snapshot dropped without close() is collected. */
  readonly #pin: FilePin
  readonly #commit: Commit
  readonly #pending: PendingState
  protected readonly codec: KeyCodec

  constructor(file: IndexFile, commit: Commit, pending: PendingState, codec: KeyCodec) {
    super()
    this.#file = file
    this.#pin = file.pin(this)
    this.#commit = commit
    this.#pending = pending
    this.codec = codec
  }

  get sequence(): number {
    this.checkOpen()
    return this.#commit.sequence
  }

  /** The metadata of the pinned commit (a copy), or null when none was set. */
  get meta(): Buffer | null {
    this.checkOpen()
    return this.#commit.meta ? Buffer.from(this.#commit.meta) : null
  }

  protected checkOpen(): void {
    this.#openFile()
  }

  #openFile(): IndexFile {
    if (!this.#file) throw new TailrootError('CLOSED', `${this.codec.path}: the snapshot is closed`, { path: this.codec.path })
    return this.#file
  }

  protected readState(): ReadState {
    const c = this.#commit
    const log = this.#pending.log
    return { src: this.#openFile(), tree: { root: c.root, height: c.height, count: c.entryCount - log.net }, log, pending: null }
  }

  /** Releases the snapshot; the file stays open while another view still uses it. Idempotent. */
  close(): void {
    if (!this.#file) return
    this.#pin.release()
    this.#file = null
  }

  /** close(), for `using`. */
  [Symbol.dispose](): void {
    this.close()
  }
}
