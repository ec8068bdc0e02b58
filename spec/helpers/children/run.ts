/**
 * Parent-side helper: runs a child script from this directory in its own Node process through
 * tsx, collects its stdout lines and stderr, and lets a test wait for lines or for the exit.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { writeFileSync } from 'node:fs'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class Child {
  readonly name: string
  readonly proc: ChildProcess
  /** Complete stdout lines, in order. A line cut off by a kill is not included. */
  readonly lines: string[] = []
  stderr = ''
  readonly exited: Promise<Exit>
  private partial = ''
  private waiters: { pred: (line: string) => boolean; resolve: (l: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = []
  private exit: Exit | null = null

  constructor(script: string, args: string[]) {
    this.name = script
    const file = fileURLToPath(new URL(`./${script}.ts`, import.meta.url))
    this.proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc.stdout!.setEncoding('utf8')
    this.proc.stderr!.setEncoding('utf8')
    this.proc.stdout!.on('data', (d: string) => this.onData(d))
    this.proc.stderr!.on('data', (d: string) => { this.stderr += d })
    this.exited = new Promise<Exit>((resolve, reject) => {
      this.proc.on('error', reject)
      // 'close' comes after the stdio streams ended, so every line is in `lines` by then.
      this.proc.on('close', (code, signal) => {
        this.exit = { code, signal }
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer)
          w.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before the awaited line; stderr: ${this.stderr.slice(-2000)}; last lines: ${this.lines.slice(-5).join(' | ').slice(0, 2000)}`))
        }
        resolve(this.exit)
      })
    })
  }

  private onData(d: string): void {
    const parts = (this.partial + d).split('\n')
    this.partial = parts.pop()!
    for (const line of parts) {
      this.lines.push(line)
      for (const w of [...this.waiters]) {
        if (w.pred(line)) {
          clearTimeout(w.timer)
          this.waiters.splice(this.waiters.indexOf(w), 1)
          w.resolve(line)
        }
      }
    }
  }

  /** Resolves with the first line (already received or to come) that satisfies `pred`. */
  waitFor(pred: (line: string) => boolean, timeoutMs: number, what = 'a line'): Promise<string> {
    const seen = this.lines.find(pred)
    if (seen !== undefined) return Promise.resolve(seen)
    if (this.exit) return Promise.reject(new Error(`${this.name} already exited (code ${this.exit.code}, signal ${this.exit.signal}); stderr: ${this.stderr.slice(-2000)}`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.findIndex(w => w.timer === timer), 1)
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}; last lines: ${this.lines.slice(-5).join(' | ').slice(0, 2000)}`))
      }, timeoutMs)
      this.waiters.push({ pred, resolve, reject, timer })
    })
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exit === null) this.proc.kill(signal)
  }
}

export function runChild(script: string, args: (string | number)[]): Child {
  return new Child(script, args.map(String))
}

/**
 * Kills the children when the test ends, waits until each has printed `ready`, then creates the
 * file `go` so they start together. Returns false (after failing the test) when one did not start.
 */
export async function startTogether(t: { teardown(fn: () => void): void; fail(msg: string): void }, children: Child[], go: string, seed: number): Promise<boolean> {
  t.teardown(() => { for (const c of children) c.kill() })
  try {
    await Promise.all(children.map(c => c.waitFor(l => l === 'ready', 60_000, 'ready line')))
  } catch (err) {
    t.fail(`a child did not start (seed ${seed}): ${(err as Error).message}`)
    return false
  }
  writeFileSync(go, '')
  return true
}

/**
 * A crash round: waits for the child's `ready ...` line, lets it run `delayMs`, then SIGKILLs it
 * and waits for it to end. Returns false (after failing the test) when it did not start or ended
 * on its own; `where` names the round in the failure.
 */
export async function killAfterReady(t: { fail(msg: string): void }, child: Child, delayMs: number, where: string): Promise<boolean> {
  try {
    await child.waitFor(l => l.startsWith('ready '), 60_000, 'ready line')
  } catch (err) {
    child.kill()
    t.fail(`the writer did not start (${where}): ${(err as Error).message}`)
    return false
  }
  await new Promise(r => setTimeout(r, delayMs))
  child.kill('SIGKILL')
  const exit = await child.exited
  if (exit.signal !== 'SIGKILL') {
    t.fail(`the writer ended on its own (code ${exit.code}) instead of being killed (${where}); stderr: ${child.stderr.slice(-3000)}; last lines: ${child.lines.slice(-3).join(' | ').slice(0, 3000)}`)
    return false
  }
  return true
}
