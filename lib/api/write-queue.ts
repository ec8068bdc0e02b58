/**
 * The asynchronous writes of one Index and their group commits. Calls queue in call order; a
 * group is every call queued when the previous group has ended (up to MAX_GROUP_CALLS), plus the
 * calls that arrive while it waits for the write lock. A group takes the lock once, runs its
 * calls one after another in one transaction over the newest state, each from a savepoint (a call
 * that throws goes back to it, dropping only its own changes), and writes what they changed as
 * one commit with one sync, off the main thread. Every promise of a group settles when its commit is durable; a group that fails
 * (the lock, I/O) rejects every promise in it.
 *
 * The Index supplies the lock, the state and the commit through a GroupHost, so its internals
 * stay private to it.
 */
import { TailrootError, invalid } from '../errors.ts'
import type { Key } from '../keys.ts'
import type { Batch } from '../tree/batch.ts'
import { ChangeLog } from '../tree/change-log.ts'
import { TransactionControl, isThenable } from './transaction.ts'
import type { Transaction, TransactionBase } from './transaction.ts'

/** Most calls one group commit holds: bounds how long a group keeps the event loop busy. */
export const MAX_GROUP_CALLS = 4096

export interface GroupHost<K extends Key> {
  readonly path: string
  /**
   * Takes the write lock without blocking and adopts the newest commit under it; rejects with
   * LOCKED, IO, or the signal's reason.
   */
  lock(signal: AbortSignal): Promise<void>
  unlock(): void
  /** Under the lock: the state the group's first call reads. */
  begin(): TransactionBase
  /** Runs a call's callback, `fn(c.tx, c)`, with `c.tx` as the handle's running transaction. */
  run<T>(c: TransactionControl<K>, fn: (tx: Transaction<K>, c: TransactionControl<K>) => T): T
  /**
   * Writes the group's net changes as one commit and makes it durable; after it resolves, the
   * handle reads the commit. `log()` makes the log with the changes merged (while the sync runs).
   * Rejects when nothing was committed, or the outcome is in doubt.
   */
  commit(records: Batch, log: () => ChangeLog, meta: Buffer | null | undefined): Promise<void>
}

interface Call<K extends Key> {
  /** The callback; `c` is the transaction's control, for IndexSet's scoped writes. */
  fn: (tx: Transaction<K>, c: TransactionControl<K>) => unknown
  /** The checked `meta` option (undefined: none given). */
  meta: Buffer | null | undefined
  signal: AbortSignal | undefined
  resolve(v: unknown): void
  reject(err: unknown): void
  onAbort: (() => void) | null
  /** Callbacks of flush() waiting for this call to settle. */
  waiters: (() => void)[] | null
}

/** The outcomes of a group's calls: ok[i], and the value (ok) or error of call i in results[i]. */
interface Outcomes { ok: boolean[]; results: unknown[] }

export interface QueueOptions {
  signal?: AbortSignal | undefined
  /** Checked already (asyncOptions): null, or bytes within the limit. */
  meta?: Buffer | null | undefined
}

export class WriteQueue<K extends Key> {
  private readonly host: GroupHost<K>
  /** Calls not in a group yet, in call order. */
  private queue: Call<K>[] = []
  /** The group waiting for the lock (its array shrinks when calls abort), and how to stop the wait. */
  private waiting: Call<K>[] | null = null
  private stopWait: AbortController | null = null
  /** Calls not settled yet. */
  private readonly live = new Set<Call<K>>()
  private draining = false
  private closed = false
  private idleWaiters: (() => void)[] = []

  constructor(host: GroupHost<K>) {
    this.host = host
  }

  /** Whether any call is queued, waiting for the lock or committing. */
  get busy(): boolean {
    return this.live.size > 0
  }

  /** Queues a call; its promise settles once the group holding it is durable (or failed). */
  enqueue<T>(fn: (tx: Transaction<K>, c: TransactionControl<K>) => T, o: QueueOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: Call<K> = {
        fn, meta: o.meta, signal: o.signal, resolve: resolve as (v: unknown) => void, reject, onAbort: null, waiters: null,
      }
      if (this.closed) return reject(closedError(this.host.path))
      const signal = o.signal
      if (signal?.aborted) return reject(abortedError(this.host.path, signal.reason))
      if (signal !== undefined) {
        call.onAbort = () => this.abort(call)
        signal.addEventListener('abort', call.onAbort, { once: true })
      }
      this.live.add(call)
      this.queue.push(call)
      this.schedule()
    })
  }

  /** Resolves once every call queued so far has settled (whether it was written or rejected). */
  flush(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve()
    return new Promise(resolve => {
      let left = this.live.size
      const one = (): void => { if (--left === 0) resolve() }
      for (const c of this.live) (c.waiters ??= []).push(one)
    })
  }

  /**
   * Rejects with CLOSED every call not in a commit yet (queued, or waiting for the lock). A group
   * already committing goes on; `idle()` resolves when it has ended.
   */
  close(): void {
    this.closed = true
    const err = closedError(this.host.path)
    for (const c of this.queue.splice(0)) this.settle(c, false, err)
    if (this.waiting !== null) {
      for (const c of this.waiting.splice(0)) this.settle(c, false, err)
      this.stopWait?.abort(err)
    }
  }

  /** Resolves when no group is running. */
  idle(): Promise<void> {
    if (!this.draining) return Promise.resolve()
    return new Promise(resolve => this.idleWaiters.push(resolve))
  }

  /** A call's signal aborted: reject it, unless its group is committing already. */
  private abort(call: Call<K>): void {
    const err = abortedError(this.host.path, call.signal?.reason)
    let i = this.queue.indexOf(call)
    if (i >= 0) {
      this.queue.splice(i, 1)
    } else if (this.waiting !== null && (i = this.waiting.indexOf(call)) >= 0) {
      this.waiting.splice(i, 1)
      // A group left without calls stops waiting for the lock.
      if (this.waiting.length === 0) this.stopWait?.abort(err)
    } else {
      return
    }
    this.settle(call, false, err)
  }

  private schedule(): void {
    if (this.draining) return
    this.draining = true
    // On the next turn of the event loop: calls made in the meantime join the group.
    setImmediate(() => { void this.drain() })
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.closed) {
        await this.runGroup()
        // Let timers and I/O run, and the callers whose writes just resolved queue their next.
        if (this.queue.length > 0) await new Promise<void>(resolve => setImmediate(resolve))
      }
    } catch (err) {
      // runGroup settles its own calls; this only guards against an internal error.
      for (const c of [...this.live]) this.settle(c, false, err)
      this.queue = []
    } finally {
      this.draining = false
      for (const w of this.idleWaiters.splice(0)) w()
      if (this.queue.length > 0) this.schedule()
    }
  }

  private async runGroup(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP_CALLS)
    this.waiting = group
    const stop = new AbortController()
    this.stopWait = stop
    try {
      await this.host.lock(stop.signal)
    } catch (err) {
      // LOCKED, IO, or stopped because close() or aborts emptied the group.
      for (const c of group.splice(0)) this.settle(c, false, err)
      return
    } finally {
      this.waiting = null
      this.stopWait = null
    }
    let outcomes: Outcomes
    try {
      // Calls that came while the group waited join it.
      if (group.length < MAX_GROUP_CALLS && !this.closed) group.push(...this.queue.splice(0, MAX_GROUP_CALLS - group.length))
      if (group.length === 0) return
      for (const c of group) this.detach(c)
      const r = this.apply(group)
      outcomes = r
      if (r.changed) await this.host.commit(r.records, r.log, r.meta)
    } catch (err) {
      for (const c of group) this.settle(c, false, err)
      return
    } finally {
      this.host.unlock()
    }
    for (let i = 0; i < group.length; i++) this.settle(group[i]!, outcomes.ok[i]!, outcomes.results[i])
  }

  /**
   * Runs the calls in order in one transaction over the newest state, each from a savepoint it
   * goes back to when the call throws; returns each call's outcome and their changes.
   */
  private apply(group: Call<K>[]): Outcomes & { records: Batch; log: () => ChangeLog; meta: Buffer | null | undefined; changed: boolean } {
    const c = new TransactionControl<K>(this.host.begin())
    const ok: boolean[] = []
    const results: unknown[] = []
    for (const call of group) {
      const sp = c.savepoint()
      let value: unknown
      try {
        // In call order: the group's commit stores the last meta of a call that did not throw.
        if (call.meta !== undefined) c.setMeta(call.meta)
        value = this.host.run(c, call.fn)
        if (isThenable(value)) {
          ;(value as PromiseLike<unknown>).then(undefined, () => {})
          throw invalid(`${this.host.path}: the transaction callback returned a promise; it must be synchronous (nothing was written)`)
        }
      } catch (err) {
        c.rollback(sp)
        ok.push(false)
        results.push(err)
        continue
      }
      ok.push(true)
      results.push(value)
    }
    if (!c.changed) {
      c.abandon()
      return { ok, results, records: { keys: [], ids: [], ins: [] }, log: () => ChangeLog.EMPTY, meta: undefined, changed: false }
    }
    const meta = c.meta
    const { records, log } = c.finishLater()
    return { ok, results, records, log, meta, changed: true }
  }

  private detach(c: Call<K>): void {
    if (c.onAbort !== null) {
      c.signal!.removeEventListener('abort', c.onAbort)
      c.onAbort = null
    }
  }

  /** Settles call c: resolves it with `result` when `ok`, else rejects it with `result`. */
  private settle(c: Call<K>, ok: boolean, result: unknown): void {
    if (!this.live.delete(c)) return
    this.detach(c)
    if (ok) c.resolve(result)
    else c.reject(result)
    if (c.waiters !== null) for (const w of c.waiters) w()
  }
}

function closedError(path: string): TailrootError {
  return new TailrootError('CLOSED', `${path}: the index was closed before this write was committed (nothing was written)`, { path })
}

function abortedError(path: string, reason: unknown): TailrootError {
  return new TailrootError('ABORTED', `${path}: the write was aborted before it was committed (nothing was written)`, { path, cause: reason })
}
