/**
 * Child-side helpers: line output that is written before the next statement runs (so a parent
 * that SIGKILLs the child has every line printed before the kill), sleeping, and argument parsing.
 */
import fs from 'node:fs'

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** Blocks the thread for `ms` milliseconds. */
export function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms)
}

/** Writes one line to stdout synchronously (retrying if the pipe is momentarily full). */
export function say(line: string): void {
  const buf = Buffer.from(line + '\n')
  let done = 0
  while (done < buf.length) {
    try {
      done += fs.writeSync(1, buf, done, buf.length - done)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
      sleepMs(1)
    }
  }
}

/** Reports an unexpected error on stdout (as `error <message>`) and exits with status 2. */
export function fail(err: unknown): never {
  const msg = err instanceof Error ? `${err.name}${(err as { code?: string }).code ? ` ${(err as { code?: string }).code}` : ''}: ${err.message}\n${err.stack ?? ''}` : String(err)
  try { say(`error ${JSON.stringify(msg)}`) } catch { /* nothing to do */ }
  process.exit(2)
}

/** The nth command-line argument after the script, required. */
export function arg(n: number, name: string): string {
  const v = process.argv[2 + n]
  if (v === undefined) fail(new Error(`missing argument ${n} (${name})`))
  return v
}
