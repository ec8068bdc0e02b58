// The child processes of the benchmark: bench/run.ts forks its own compiled
// file with --child=<mode>, so that each engine's workloads run in a fresh
// process whose peak resident size is its own.
//   bulk      W1, W3, W4, W6, W5 on a bulk-loaded store (bench/workloads.ts)
//   random    W2 into an empty store, then W7 on it
//   concurrent  W8 on a store of the first 200,000 sorted pairs
//   baseline  generates the data and nothing else: the harness's own memory
//   strace    run under strace by the parent: W5, a short W2 and a short W8 between markers
// A child reports to the parent over the IPC channel (the strace child has none:
// it writes its message to a file in its directory) and exits non-zero on any
// error.

import fs from 'node:fs'
import path from 'node:path'
import { makeBenchData } from './data.ts'
import { deviceOf } from './diskstats.ts'
import { ENGINES } from './engines.ts'
import { peakRss, runBulkWorkloads, runConcurrentWorkload, runRandomWorkloads, runStraceWorkloads, straceMarker, WrongAnswer, type Sample } from './workloads.ts'

export type ChildMode = 'bulk' | 'random' | 'concurrent' | 'baseline' | 'strace'
export const CHILD_MODES: readonly ChildMode[] = ['bulk', 'random', 'concurrent', 'baseline', 'strace']

/** The workloads each engine child runs (one store per child). */
export const CHILD_WORKLOADS = {
  bulk: ['W1', 'W3', 'W4', 'W6', 'W5'],
  random: ['W2', 'W7'],
  concurrent: ['W8'],
} as const satisfies Partial<Record<ChildMode, readonly string[]>>

export interface ChildArgs {
  mode: ChildMode
  engine: string | null
  dir: string
  quick: boolean
}

export type ChildMessage =
  | { ok: true; sample: Sample; peakRss: number }
  | { ok: false; error: string; wrongAnswer: boolean }

/**
 * Commits the strace child makes: single-pair commits, commits of 1,000 pairs, and W8's
 * single-pair writes per caller (of the 100 concurrent callers, on the --quick data).
 */
export const STRACE_COMMITS = { single: 200, batches: 20, perCaller: 10 }

/** Where a child with no IPC channel (the strace child) leaves its message. */
export function childResultFile(dir: string): string {
  return path.join(dir, 'child-result.json')
}

function send(dir: string, m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      fs.writeFileSync(childResultFile(dir), JSON.stringify(m))
      return resolve()
    }
    process.send(m, undefined, {}, () => resolve())
  })
}

export async function runChild(a: ChildArgs): Promise<void> {
  const tag = `${a.mode}${a.engine ? ' ' + a.engine : ''}`
  const log = (s: string): void => {
    process.stderr.write(`  ${tag}: ${s}\n`)
  }
  try {
    const data = makeBenchData(a.mode === 'strace' ? true : a.quick)
    let sample: Sample = {}
    if (a.mode !== 'baseline') {
      const factory = ENGINES.find((e) => e.name === a.engine)
      if (!factory) throw new Error(`unknown engine ${a.engine}`)
      const engine = await factory.load()
      if (a.mode === 'bulk') sample = await runBulkWorkloads(engine, a.dir, data, log)
      else if (a.mode === 'random') sample = await runRandomWorkloads(engine, a.dir, data, deviceOf(a.dir), log)
      else if (a.mode === 'concurrent') sample = await runConcurrentWorkload(engine, a.dir, data, log)
      else {
        const dirs = { a: path.join(a.dir, 'a'), b: path.join(a.dir, 'b'), c: path.join(a.dir, 'c') }
        for (const d of Object.values(dirs)) fs.mkdirSync(d)
        const mark = (name: string): void => {
          try {
            fs.accessSync(straceMarker(a.dir, name))
          } catch {
            // the marker never exists: only the system call matters
          }
        }
        await runStraceWorkloads(engine, dirs, data, STRACE_COMMITS, mark)
      }
    }
    await send(a.dir, { ok: true, sample, peakRss: peakRss() })
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    log(`FAILED: ${error}`)
    if (e instanceof Error && e.stack && !(e instanceof WrongAnswer)) process.stderr.write(e.stack + '\n')
    await send(a.dir, { ok: false, error, wrongAnswer: e instanceof WrongAnswer })
    process.exitCode = 1
  }
}
