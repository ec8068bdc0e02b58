/**
 * A Vfs wrapper for fault-injection tests. It passes every call to an inner Vfs (nodeVfs by
 * default), records the mutating calls (write, datasync, truncate) made through the files it
 * opened, and can make the Nth such call fail:
 *
 * - 'EIO' / 'ENOSPC': the call throws an errno-style error and does nothing;
 * - 'short': a write stores only a prefix of its buffer (not page aligned), then throws ENOSPC;
 *   on datasync/truncate it behaves like 'EIO';
 * - 'crash': the call throws (a write first stores a prefix of its buffer) and from then on every
 *   call through this Vfs (reads, sizes, stats, writes, syncs, opens, locks) throws, as if the
 *   process had died at that instant; the bytes written before stay in the file, like a process
 *   crash leaves them in the OS page cache. close() still releases descriptors.
 *
 * `heal()` removes the rules and ends a crash, so the same handle can be used again.
 */
import type { FileIdentity, Vfs, VfsFile, VfsLock } from '../../lib/index.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'

export type FaultOp = 'write' | 'datasync' | 'truncate'
export type FaultKind = 'EIO' | 'ENOSPC' | 'short' | 'crash'

export interface FaultRule {
  op: FaultOp
  /** 1-based: the rule fires on the nth call of `op` counted from arm(). */
  nth: number
  kind: FaultKind
  /** For 'short' and 'crash' writes: bytes stored before failing (default: a non-aligned part of the buffer). */
  partialBytes?: number
  /** Runs when the rule fires, before the failing call does anything (to act at that instant, e.g. read through another handle). */
  onFire?: () => void
}

export interface OpRecord {
  op: FaultOp
  file: string
  /** Byte position of a write, or the new length of a truncate. */
  position: number
  /** Bytes of a write. */
  length: number
  /** Whether a fault fired on this call. */
  failed: boolean
  /** A copy of the bytes a write stored, when the FaultyVfs keeps them (`keepData`). */
  data?: Buffer
}

const ERRNO: Record<string, number> = { EIO: -5, ENOSPC: -28 }

/** An error shaped like the ones node:fs throws. */
export function injectedError(code: 'EIO' | 'ENOSPC', syscall: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: injected fault, ${syscall}`) as NodeJS.ErrnoException
  e.code = code
  e.errno = ERRNO[code]
  e.syscall = syscall
  return e
}

export class FaultyVfs implements Vfs {
  readonly inner: Vfs
  /** Every write, datasync and truncate since the last arm() or clearLog(). */
  readonly log: OpRecord[] = []
  /** How many faults fired since construction. */
  fired = 0
  private rules: FaultRule[] = []
  private counts: Record<FaultOp, number> = { write: 0, datasync: 0, truncate: 0 }
  private dead = false

  /** Whether the log keeps a copy of each write's bytes (for replaying a history page by page). */
  readonly keepData: boolean

  constructor(inner: Vfs = nodeVfs, keepData = false) {
    this.inner = inner
    this.keepData = keepData
  }

  get crashed(): boolean { return this.dead }

  /** Replaces the rules and restarts the call counts (and the log). */
  arm(...rules: FaultRule[]): void {
    for (const r of rules) if (!(Number.isInteger(r.nth) && r.nth >= 1)) throw new Error(`bad fault rule nth ${r.nth}`)
    this.rules = rules
    this.counts = { write: 0, datasync: 0, truncate: 0 }
    this.log.length = 0
  }

  /** No more faults; a crash is over. */
  heal(): void {
    this.rules = []
    this.dead = false
  }

  clearLog(): void { this.log.length = 0 }

  /** Throws when crashed. */
  alive(syscall: string): void {
    if (this.dead) throw injectedError('EIO', `${syscall} after a crash`)
  }

  /**
   * Called by a file before a mutating call: returns the rule that fires on this call, if any,
   * after recording it.
   */
  step(op: FaultOp, file: string, position: number, length: number, data?: Buffer): FaultRule | undefined {
    this.alive(op)
    const n = ++this.counts[op]
    const rule = this.rules.find(r => r.op === op && r.nth === n)
    const rec: OpRecord = { op, file, position, length, failed: rule !== undefined }
    if (data !== undefined && this.keepData) rec.data = Buffer.from(data)
    this.log.push(rec)
    if (rule) {
      this.fired++
      rule.onFire?.()
    }
    return rule
  }

  die(): void { this.dead = true }

  open(file: string, writable: boolean): VfsFile {
    this.alive('open')
    return new FaultyFile(this, this.inner.open(file, writable), file)
  }
  identity(file: string): FileIdentity | null {
    this.alive('stat')
    return this.inner.identity(file)
  }
  createExclusive(file: string, bytes: Buffer): boolean {
    this.alive('create')
    return this.inner.createExclusive(file, bytes)
  }
  publish(tmp: string, file: string): boolean {
    this.alive('link')
    return this.inner.publish(tmp, file)
  }
  openLock(file: string, create: boolean): VfsLock {
    this.alive('open for locking')
    return new FaultyLock(this, this.inner.openLock(file, create))
  }
  remove(file: string): void {
    this.alive('unlink')
    this.inner.remove(file)
  }
  replace(tmp: string, file: string): void {
    this.alive('rename')
    this.inner.replace(tmp, file)
  }
  list(dir: string): string[] {
    this.alive('readdir')
    return this.inner.list(dir)
  }
}

/** Locks pass through; after a crash they throw like every other call, but close() still releases. */
class FaultyLock implements VfsLock {
  private readonly vfs: FaultyVfs
  private readonly inner: VfsLock

  constructor(vfs: FaultyVfs, inner: VfsLock) {
    this.vfs = vfs
    this.inner = inner
  }

  tryLock(): boolean {
    this.vfs.alive('flock')
    return this.inner.tryLock()
  }
  unlock(): void {
    this.vfs.alive('flock (unlock)')
    this.inner.unlock()
  }
  identity(): FileIdentity {
    this.vfs.alive('fstat')
    return this.inner.identity()
  }
  close(): void { this.inner.close() }
}

class FaultyFile implements VfsFile {
  private readonly vfs: FaultyVfs
  private readonly inner: VfsFile
  private readonly name: string

  constructor(vfs: FaultyVfs, inner: VfsFile, name: string) {
    this.vfs = vfs
    this.inner = inner
    this.name = name
  }

  read(buf: Buffer, position: number): number {
    this.vfs.alive('read')
    return this.inner.read(buf, position)
  }

  write(buf: Buffer, position: number): void {
    const rule = this.vfs.step('write', this.name, position, buf.length, buf)
    if (!rule) return this.inner.write(buf, position)
    if (rule.kind === 'EIO' || rule.kind === 'ENOSPC') throw injectedError(rule.kind, 'write')
    // A prefix that ends inside a page: half the buffer plus a few bytes, never all of it.
    const part = Math.min(buf.length - 1, rule.partialBytes ?? Math.floor(buf.length / 2) + 7)
    if (part > 0) this.inner.write(buf.subarray(0, part), position)
    if (rule.kind === 'crash') {
      this.vfs.die()
      throw injectedError('EIO', 'write (crash)')
    }
    throw injectedError('ENOSPC', 'write (short)')
  }

  datasync(): void {
    const rule = this.vfs.step('datasync', this.name, 0, 0)
    if (!rule) return this.inner.datasync()
    if (rule.kind === 'crash') this.vfs.die()
    throw injectedError(rule.kind === 'ENOSPC' ? 'ENOSPC' : 'EIO', 'fdatasync')
  }

  /** Counted and faulted as datasync; the inner file's async sync when it has one. */
  async datasyncAsync(): Promise<void> {
    const rule = this.vfs.step('datasync', this.name, 0, 0)
    if (!rule) {
      if (this.inner.datasyncAsync !== undefined) return this.inner.datasyncAsync()
      return this.inner.datasync()
    }
    if (rule.kind === 'crash') this.vfs.die()
    throw injectedError(rule.kind === 'ENOSPC' ? 'ENOSPC' : 'EIO', 'fdatasync')
  }

  truncate(length: number): void {
    const rule = this.vfs.step('truncate', this.name, length, 0)
    if (!rule) return this.inner.truncate(length)
    if (rule.kind === 'crash') this.vfs.die()
    throw injectedError(rule.kind === 'ENOSPC' ? 'ENOSPC' : 'EIO', 'ftruncate')
  }

  size(): number {
    this.vfs.alive('fstat')
    return this.inner.size()
  }

  identity(): FileIdentity {
    this.vfs.alive('fstat')
    return this.inner.identity()
  }

  close(): void { this.inner.close() }
}
