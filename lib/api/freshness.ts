/**
 * When a read outside a transaction looks for commits made elsewhere (one read of 32 bytes at the
 * end of the known commit, FORMAT.md §8 "Following the tail"). The default policy is causal. A
 * handle skips the look only when all of these hold: it already looked during the same
 * synchronous run of code (no microtask boundary since), the clock has not moved on by a
 * millisecond, and no handle of this thread has committed since. Anything that reached this
 * process through an event (a message from a writer, a child's exit, a timer) therefore starts a
 * new run and is always seen, while a tight loop of reads costs one such read per millisecond.
 * `maxStalenessMs` > 0 replaces the run and clock conditions with a plain time bound; commits of
 * this thread's handles are still seen at once.
 */

let run = 0
let runEndScheduled = false
let localCommits = 0

/** The current synchronous run of code; it ends at the next microtask boundary. */
function currentRun(): number {
  if (!runEndScheduled) {
    runEndScheduled = true
    queueMicrotask(() => { run++; runEndScheduled = false })
  }
  return run
}

/** Called after every commit by any handle of this thread. */
export function noteLocalCommit(): void {
  localCommits++
}

export class Freshness {
  private readonly maxStalenessMs: number
  private lastMs = -1
  private lastRun = -1
  private lastCommits = -1

  constructor(maxStalenessMs: number) {
    this.maxStalenessMs = maxStalenessMs
  }

  /** Whether a read must look for newer commits now. */
  due(): boolean {
    if (this.lastCommits !== localCommits) return true
    const now = Date.now()
    if (this.maxStalenessMs > 0) return now - this.lastMs >= this.maxStalenessMs
    return now !== this.lastMs || this.lastRun !== run
  }

  /** Records that the handle just looked (or committed, and so knows the newest commit). */
  looked(): void {
    this.lastMs = Date.now()
    this.lastRun = currentRun()
    this.lastCommits = localCommits
  }

  /** Forgets the last look, so the next read looks again. */
  reset(): void {
    this.lastMs = -1
    this.lastCommits = -1
  }
}
