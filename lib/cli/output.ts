/**
 * The command's streams: text and JSON on stdout with backpressure (a dump of millions of pairs
 * into a slow pipe must not fill the heap), diagnostics on stderr. A reader that goes away (EPIPE,
 * as with `| head`) ends the output quietly.
 */
import type { Writable } from 'node:stream'

/** What the commands need of stderr: writing, and whether it is a terminal (for the progress bar). */
export interface ErrStream {
  write(s: string): unknown
  isTTY?: boolean
  columns?: number
}

export interface CliStreams {
  stdout: Writable
  stderr: ErrStream
}

/** Bytes buffered before a write to stdout. */
const CHUNK = 64 * 1024

export class Output {
  private readonly out: Writable
  private buf = ''
  /** The reader went away (or writing failed): nothing more is written. */
  closed = false
  /** A write error other than EPIPE, thrown by the next flush. */
  private failure: Error | null = null

  constructor(out: Writable) {
    this.out = out
    out.on('error', (err: NodeJS.ErrnoException) => {
      this.closed = true
      if (err.code !== 'EPIPE') this.failure = err
      out.emit('drain')
    })
  }

  /** Adds a line; waits for the stream to drain when a chunk was written and it is full. */
  async line(s: string): Promise<void> {
    this.buf += s + '\n'
    if (this.buf.length >= CHUNK) await this.flush()
  }

  /** One JSON document on its own line. */
  async json(v: unknown): Promise<void> {
    await this.line(JSON.stringify(v))
  }

  async flush(): Promise<void> {
    if (this.failure !== null) throw this.failure
    if (this.buf === '' || this.closed) { this.buf = ''; return }
    const chunk = this.buf
    this.buf = ''
    if (!this.out.write(chunk)) {
      await new Promise<void>(resolve => {
        const done = (): void => { this.out.off('drain', done); this.out.off('close', done); resolve() }
        this.out.on('drain', done)
        this.out.on('close', done)
      })
    }
  }
}
