/**
 * Test helpers for the tailroot command: `cli()` runs lib/cli/main.ts in this process with
 * captured streams (fast, for most tests); `spawnCli()` runs bin/tailroot as a real process (for
 * the launcher, exit statuses and stderr as a user sees them).
 */
import { spawn } from 'node:child_process'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { main } from '../../lib/cli/main.ts'

export const bin = fileURLToPath(new URL('../../bin/tailroot', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** A stderr stand-in; `tty` makes it look like a terminal. */
export class FakeStderr {
  text = ''
  readonly isTTY: boolean
  readonly columns = 80
  constructor(tty = false) { this.isTTY = tty }
  write(s: string): boolean { this.text += s; return true }
}

export async function cli(args: string[], stderr = new FakeStderr()): Promise<CliResult> {
  const stdout = new PassThrough()
  let out = ''
  stdout.setEncoding('utf8')
  stdout.on('data', (d: string) => { out += d })
  const code = await main(args, { stdout, stderr })
  stdout.end()
  await new Promise(r => setImmediate(r))
  return { code, stdout: out, stderr: stderr.text }
}

export function spawnCli(args: string[], nodeArgs: string[] = []): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...nodeArgs, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    p.on('error', reject)
    p.on('close', code => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
