/** Option parsing for Index.open, Index.build and the asynchronous writes: defaults, validation, and their documentation. */
import { invalid } from '../errors.ts'
import { DEFAULT_MAX_PENDING, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE, isValidPageSize, maxMetaBytes } from '../format/constants.ts'
import type { KeyEncoding } from '../format/header.ts'
import type { Vfs } from '../store/vfs.ts'
import { nodeVfs } from '../store/vfs.ts'

import type { Durability } from '../store/commit-writer.ts'

export type { Durability }

export interface OpenOptions {
  /** Create the file when it does not exist (default true; with readOnly, true is INVALID_ARGUMENT). */
  create?: boolean
  /** Never write, never lock; the file may be unwritable (default false). */
  readOnly?: boolean
  /** At most one rowId per key; only when creating, else must match the file. */
  unique?: boolean
  /** 'utf8' (string keys, default), 'binary' (Uint8Array keys) or 'typed' (TypedKey keys); fixed at creation. */
  keyEncoding?: KeyEncoding
  /** Page size in bytes, a power of two from 512 to 65536 (default 4096); fixed at creation. */
  pageSize?: number
  /** 'full' (default): every commit is durable when the call returns (one or two fdatasyncs, FORMAT.md §8). 'none': no syncs; unsafe on power loss. */
  durability?: Durability
  /**
   * true (default): a commit that needs space extends the file with zeros for the commits after
   * it (an eighth of the file, from 16 pages to 64 MiB; FORMAT.md §8), so most commits overwrite
   * space already allocated and their fdatasync has no file size to update. false: every commit
   * extends the file by its own pages (zeros another handle preallocated are still used), so a
   * plain copy of the file made while writers commit opens whole at some commit (README,
   * "Backing up"; Index.backup copies whole either way).
   */
  preallocate?: boolean
  /** How long a writer waits for the write lock before LOCKED (default 10000). */
  lockTimeoutMs?: number
  /** Heap bytes the cache of decoded pages may take, estimated (default 64 MiB). */
  cacheBytes?: number
  /**
   * Changes a commit may leave as change records (a few bytes each) instead of rewriting the
   * tree's pages; once the records since the last fold would exceed this, the commit folds them
   * all into the tree (FORMAT.md §10). Larger: fewer bytes written per change, more memory (about
   * 60 bytes per pending change) and a longer first read after opening. 0: every commit rewrites
   * the tree, as format version 1 does. Default 131072.
   */
  maxPendingChanges?: number
  /**
   * 0 (default): reads outside a transaction look for other processes' commits causally (see
   * lib/api/freshness.ts and README, "Seeing other processes' commits"). > 0: they look when at
   * least this many milliseconds passed since the last look, or a handle of this thread
   * committed since. refresh() always looks.
   */
  maxStalenessMs?: number
  /** File-system layer (for fault-injection tests). */
  vfs?: Vfs
}

/** Options of Index.transaction and IndexSet.transaction (and transactionAsync). */
export interface TransactionOptions {
  /**
   * Bytes the commit stores as its metadata, atomically with the transaction's changes: at most
   * min(1024, pageSize − 100) bytes; an empty array stores none. null clears the metadata.
   * Given (a Uint8Array or null), the transaction commits even when it changed nothing else;
   * left out, the commit carries the previous commit's metadata forward.
   */
  meta?: Uint8Array | null
}

/** Options of Index.insertAsync and deleteAsync. */
export interface AsyncWriteOptions {
  /** Aborting it rejects the call with ABORTED while the call waits (queued, or for the lock); not once its commit has begun. */
  signal?: AbortSignal
}

/** Options of Index.transactionAsync: those of transaction and of the other asynchronous writes. */
export interface AsyncTransactionOptions extends AsyncWriteOptions, TransactionOptions {}

export interface BuildOptions {
  unique?: boolean
  keyEncoding?: KeyEncoding
  pageSize?: number
  durability?: Durability
  /** Fraction of each leaf page to fill, from 0.5 to 1 (default 1). */
  fill?: number
  /** Options for the handle Index.build returns. */
  cacheBytes?: number
  lockTimeoutMs?: number
  maxStalenessMs?: number
  maxPendingChanges?: number
  preallocate?: boolean
  vfs?: Vfs
}

export interface ResolvedOptions {
  create: boolean
  readOnly: boolean
  unique: boolean | undefined
  keyEncoding: KeyEncoding | undefined
  pageSize: number | undefined
  durability: Durability
  preallocate: boolean
  lockTimeoutMs: number
  cacheBytes: number
  maxStalenessMs: number
  maxPendingChanges: number
  vfs: Vfs
  /** Open (or create) a set file of named indexes (FORMAT.md §12): IndexSet only, never a user option. */
  set: boolean
}

const OPEN_KEYS = new Set(['create', 'readOnly', 'unique', 'keyEncoding', 'pageSize', 'durability', 'preallocate', 'lockTimeoutMs', 'cacheBytes', 'maxStalenessMs', 'maxPendingChanges', 'vfs'])
const BUILD_KEYS = new Set(['unique', 'keyEncoding', 'pageSize', 'durability', 'preallocate', 'fill', 'cacheBytes', 'lockTimeoutMs', 'maxStalenessMs', 'maxPendingChanges', 'vfs'])

function checkObject(o: unknown, allowed: Set<string>, what: string): Record<string, unknown> {
  if (o === undefined) return {}
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw invalid(`${what} must be an object`)
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw invalid(`${what}: unknown option '${k}'`)
  return o as Record<string, unknown>
}

function bool(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'boolean') throw invalid(`option ${name} must be a boolean`)
  return v
}

function nonNegative(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw invalid(`option ${name} must be a non-negative finite number`)
  return v
}

function maxPending(v: unknown): number {
  const n = nonNegative(v, 'maxPendingChanges', DEFAULT_MAX_PENDING)
  if (!Number.isInteger(n) || n > MAX_PENDING_LIMIT) throw invalid(`option maxPendingChanges must be an integer from 0 to ${MAX_PENDING_LIMIT}, got ${n}`)
  return n
}

/** chainRecords is a u32 (FORMAT.md §10); a chain never holds more records than this option. */
const MAX_PENDING_LIMIT = 0x7fffffff

function encoding(v: unknown): KeyEncoding | undefined {
  if (v === undefined) return undefined
  if (v !== 'utf8' && v !== 'binary' && v !== 'typed') throw invalid(`option keyEncoding must be 'utf8', 'binary' or 'typed', got ${String(v)}`)
  return v
}

function pageSize(v: unknown): number | undefined {
  if (v === undefined) return undefined
  if (!isValidPageSize(v)) throw invalid(`option pageSize must be a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}, got ${String(v)}`)
  return v
}

function durability(v: unknown): Durability {
  if (v === undefined) return 'full'
  if (v !== 'full' && v !== 'none') throw invalid(`option durability must be 'full' or 'none', got ${String(v)}`)
  return v
}

function vfs(v: unknown): Vfs {
  if (v === undefined) return nodeVfs
  if (v === null || typeof v !== 'object') throw invalid('option vfs must be a Vfs object')
  return v as Vfs
}

export function resolveOpenOptions(o: unknown, what = 'Index.open options'): ResolvedOptions {
  const r = checkObject(o, OPEN_KEYS, what)
  const create = bool(r.create, 'create')
  const readOnly = bool(r.readOnly, 'readOnly') ?? false
  if (readOnly && create === true) throw invalid('options readOnly and create: true contradict each other: a readOnly open never creates a file')
  return {
    create: create ?? true,
    readOnly,
    unique: bool(r.unique, 'unique'),
    keyEncoding: encoding(r.keyEncoding),
    pageSize: pageSize(r.pageSize),
    durability: durability(r.durability),
    preallocate: bool(r.preallocate, 'preallocate') ?? true,
    lockTimeoutMs: nonNegative(r.lockTimeoutMs, 'lockTimeoutMs', 10000),
    cacheBytes: nonNegative(r.cacheBytes, 'cacheBytes', 64 * 1024 * 1024),
    maxStalenessMs: nonNegative(r.maxStalenessMs, 'maxStalenessMs', 0),
    maxPendingChanges: maxPending(r.maxPendingChanges),
    vfs: vfs(r.vfs),
    set: false,
  }
}

export interface ResolvedBuildOptions {
  unique: boolean
  keyEncoding: KeyEncoding
  pageSize: number
  durability: Durability
  fill: number
  open: ResolvedOptions
}

export function resolveBuildOptions(o: unknown): ResolvedBuildOptions {
  const r = checkObject(o, BUILD_KEYS, 'Index.build options')
  const fill = r.fill === undefined ? 1 : r.fill
  if (typeof fill !== 'number' || !(fill >= 0.5 && fill <= 1)) throw invalid(`option fill must be a number from 0.5 to 1, got ${String(fill)}`)
  const open = resolveOpenOptions({
    durability: r.durability, preallocate: r.preallocate, lockTimeoutMs: r.lockTimeoutMs, cacheBytes: r.cacheBytes, maxStalenessMs: r.maxStalenessMs, maxPendingChanges: r.maxPendingChanges, vfs: r.vfs,
  })
  return {
    unique: bool(r.unique, 'unique') ?? false,
    keyEncoding: encoding(r.keyEncoding) ?? 'utf8',
    pageSize: pageSize(r.pageSize) ?? DEFAULT_PAGE_SIZE,
    durability: open.durability,
    fill,
    open: { ...open, create: false },
  }
}

/** A description of a value a caller gave, for an error message. */
function given(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  switch (typeof v) {
    case 'string': return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`
    case 'number': case 'bigint': case 'boolean': return `the ${typeof v} ${String(v)}`
    case 'object': {
      const name = (v as { constructor?: { name?: unknown } }).constructor?.name
      return typeof name === 'string' && name !== '' && name !== 'Object' ? `an object (${name})` : 'an object'
    }
    default: return `a ${typeof v}`
  }
}

/**
 * Checks a transaction's `meta` option against the limit of `pageSize` (FORMAT.md §8): undefined
 * (keep the previous commit's), null or an empty array (none), or a copy of the bytes.
 */
function metaOption(meta: unknown, what: string, pageSize: number): Buffer | null | undefined {
  if (meta === undefined) return undefined
  if (meta === null) return null
  if (!(meta instanceof Uint8Array)) throw invalid(`${what}: option meta must be a Uint8Array (a Buffer is one) or null, got ${given(meta)}`)
  const max = maxMetaBytes(pageSize)
  if (meta.length > max) throw invalid(`${what}: option meta is ${meta.length} bytes; the maximum is ${max} (page size ${pageSize})`)
  return meta.length === 0 ? null : Buffer.from(meta)
}

/** The checked options of a transaction: `meta` as metaOption() returns it. */
export interface CheckedTransactionOptions {
  meta?: Buffer | null
  signal?: AbortSignal
}

function optionsObject(o: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw invalid(`${what}: options must be an object, got ${given(o)}`)
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(`${what}: unknown option '${k}'`)
  return o as Record<string, unknown>
}

/** Checks the options of Index.transaction or IndexSet.transaction, for a file of `pageSize`. */
export function transactionOptions(o: unknown, what: string, pageSize: number): CheckedTransactionOptions {
  if (o === undefined) return {}
  const r = optionsObject(o, what, ['meta'])
  const meta = metaOption(r.meta, what, pageSize)
  return meta === undefined ? {} : { meta }
}

/** Checks the options of an asynchronous write (`meta` only for transactionAsync). */
/** The checked options of a call given none (shared: nothing changes it). */
const NO_OPTIONS: CheckedTransactionOptions = Object.freeze({})

export function asyncOptions(o: unknown, what: string, allowMeta: boolean, pageSize: number): CheckedTransactionOptions {
  if (o === undefined) return NO_OPTIONS
  const r = optionsObject(o, what, allowMeta ? ['signal', 'meta'] : ['signal'])
  const signal = r.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid(`${what}: option signal must be an AbortSignal, got ${given(signal)}`)
  const meta = metaOption(r.meta, what, pageSize)
  return { ...(signal === undefined ? {} : { signal }), ...(meta === undefined ? {} : { meta }) }
}
