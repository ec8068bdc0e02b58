/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (and the command was
 * not asked for --json): scripts and pipes see nothing of it. Redrawn at most every REDRAW_MS.
 */
import type { ErrStream } from './output.ts'

const REDRAW_MS = 100
const DEFAULT_COLUMNS = 80

export class ProgressBar {
  private readonly stream: ErrStream
  private readonly label: string
  private lastDraw = -Infinity
  private drawn = false

  private constructor(stream: ErrStream, label: string) {
    this.stream = stream
    this.label = label
  }

  /** A bar on `stream` when it is a terminal and `enabled`; otherwise null. */
  static on(stream: ErrStream, label: string, enabled: boolean): ProgressBar | null {
    return enabled && stream.isTTY === true ? new ProgressBar(stream, label) : null
  }

  /** `done` of `total` units; drawn when REDRAW_MS have passed since the last drawing. */
  update(done: number, total: number, unit = ''): void {
    const now = Date.now()
    if (now - this.lastDraw < REDRAW_MS) return
    this.lastDraw = now
    this.stream.write(`\r${renderBar(this.label, done, total, unit, this.stream.columns ?? DEFAULT_COLUMNS)}\x1b[K`)
    this.drawn = true
  }

  /** Erases the bar, so what follows starts on a clean line. */
  end(): void {
    if (this.drawn) this.stream.write('\r\x1b[K')
    this.drawn = false
  }
}

/** `label [#####-----]  50% 5,000/10,000 unit`, fitted into `columns`. Pure. */
export function renderBar(label: string, done: number, total: number, unit: string, columns: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0
  const pct = `${Math.floor(frac * 100)}%`.padStart(4)
  const count = ` ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}${unit === '' ? '' : ` ${unit}`}`
  const room = columns - 1 - label.length - 3 - pct.length - count.length - 1
  const width = Math.max(0, Math.min(40, room))
  const full = Math.round(frac * width)
  const bar = width > 0 ? ` [${'#'.repeat(full)}${'-'.repeat(width - full)}]` : ''
  return `${label}${bar} ${pct}${count}`
}
