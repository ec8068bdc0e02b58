/** A read view pinned at one commit, for as long as it lives. */
import { TailrootError } from '../errors.ts'
import type { Commit } from '../format/commit.ts'
import type { Key, KeyCodec } from '../keys.ts'
import type { IndexFile } from '../store/file.ts'
import { ReadView } from './view.ts'
import type { ReadState } from './view.ts'

export class Snapshot<K extends Key = string> extends ReadView<K> {
  private file: IndexFile | null
  private readonly commit: Commit
  protected readonly codec: KeyCodec

  constructor(file: IndexFile, commit: Commit, codec: KeyCodec) {
    super()
    this.file = file.retain()
    this.commit = commit
    this.codec = codec
  }

  get sequence(): number {
    this.readState()
    return this.commit.sequence
  }

  /** The metadata blob of the pinned commit, or null. */
  get metadata(): Buffer | null {
    this.readState()
    return this.commit.meta ? Buffer.from(this.commit.meta) : null
  }

  protected readState(): ReadState {
    if (!this.file) throw new TailrootError('CLOSED', `${this.codec.path}: the snapshot is closed`, { path: this.codec.path })
    return { src: this.file, tree: { root: this.commit.root, height: this.commit.height, count: this.commit.entryCount }, pending: null }
  }

  /** Releases the snapshot; the file stays open while another view still uses it. */
  close(): void {
    if (this.file) { this.file.release(); this.file = null }
  }
}
