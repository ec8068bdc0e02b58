/** Child-side: waiting for a file the parent creates to give a signal. */
import fs from 'node:fs'
import { sleepMs } from './io.ts'

/** Blocks until `file` exists (polling every few milliseconds); throws after `timeoutMs`. */
export function waitForFile(file: string, timeoutMs: number): void {
  const end = Date.now() + timeoutMs
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`${file} did not appear within ${timeoutMs} ms`)
    sleepMs(3)
  }
}
