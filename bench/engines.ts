// Engine adapters for the benchmark: tailroot and its peers, each behind the
// same small interface. Every engine module is loaded with a dynamic import so
// that one that is missing or fails to load is skipped, not fatal.
//
// Mapping of the index (key -> ascending rowIds) onto each engine, every commit
// durable when the call returns:
//   tailroot  Index (keyEncoding 'utf8', unique false, pageSize 4096,
//             durability 'full'), public API only: Index.build, Index.open,
//             transaction(tx => tx.insert / tx.delete), insert, get, range;
//             W8: insertAsync (group commit, lib/api/write-queue.ts).
//   lmdb      lmdb-js in dupSort mode: key = the key string, one duplicate value
//             per rowId = 8-byte big-endian rowId. LMDB sorts duplicates byte-wise,
//             so getValues(key) yields the rowIds ascending; getRange yields every
//             (key, duplicate) entry. overlappingSync is turned off: with lmdb-js's
//             default on Linux (overlappingSync: true) putSync/transactionSync
//             return before the commit is flushed, which is not a durable commit;
//             with it off each commit is flushed before it returns, as plain LMDB
//             does. `lmdb-overlap` (only with --only) keeps the default.
//             W8: the async put, which lmdb-js gathers with the other pending
//             puts into one transaction, committed (and, overlappingSync off,
//             flushed) on its write thread before the promises resolve.
//   leveldb   classic-level, composite key `key \0 rowId8` -> empty value; get is
//             an iterator over [key\0, key\1); scans iterate keys from `key`.
//             Defaults otherwise (Snappy on, 8 MiB block cache, 4 MiB memtable).
//             Writes with { sync: true }. Its API is async: the harness awaits
//             each call in turn (no concurrent requests), except in W8, where
//             the callers' puts are pending together (LevelDB lets one writer
//             commit the waiting writers' batches with one sync).
//   sqlite    better-sqlite3, table idx(key TEXT, rowid INTEGER,
//             PRIMARY KEY(key, rowid)) WITHOUT ROWID, page_size 4096,
//             journal_mode=WAL with synchronous=FULL: every commit appends to the
//             WAL and fsyncs it before it returns, so each commit is durable
//             (WAL with synchronous=NORMAL would not be). Automatic checkpoints
//             (every 1,000 WAL pages, the default) and the one at close are part
//             of what is measured. The bulk load (W1) runs in journal_mode=DELETE,
//             synchronous=FULL (one commit, no WAL copy of a fresh file's pages);
//             the file is then switched to WAL for everything else.
//             W8: the synchronous insert, one commit each (its API has no other).

import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import type { BenchData, PairList } from './data.ts'

export type Visit = (key: string, rowId: number) => void

/** A handle whose calls are synchronous. */
export interface SyncHandle {
  readonly async: false
  /** all rowIds of key, ascending ([] for an absent key) */
  get(key: string): number[]
  /** calls visit for the pairs from key `gte` on (from the first key when null), at most `limit` (Infinity: all) */
  scan(gte: string | null, limit: number, visit: Visit): void
  /** one pair, one durable commit */
  insert(key: string, rowId: number): void
  /** pairs [from, to) of list, one durable commit */
  insertBatch(list: PairList, from: number, to: number): void
  /** deletes pairs [from, to) of list in one durable commit; returns how many were there, or -1 if the engine does not say */
  deleteBatch(list: PairList, from: number, to: number): number
  /** W8: one pair, durable when the promise resolves, or on return when there is none (see Handle) */
  insertConcurrent(key: string, rowId: number): Promise<unknown> | void
  close(): void | Promise<void>
}

/** A handle whose calls return promises (awaited one at a time). */
export interface AsyncHandle {
  readonly async: true
  get(key: string): Promise<number[]>
  scan(gte: string | null, limit: number, visit: Visit): Promise<void>
  insert(key: string, rowId: number): Promise<void>
  insertBatch(list: PairList, from: number, to: number): Promise<void>
  deleteBatch(list: PairList, from: number, to: number): Promise<number>
  insertConcurrent(key: string, rowId: number): Promise<unknown>
  close(): Promise<void>
}

/**
 * insertConcurrent is W8's write: many callers' calls are pending at once and the engine may
 * commit them together; each promise resolves once its pair is durable. An engine whose API is
 * synchronous only (SQLite) commits on the call and returns nothing.
 */
export type Handle = SyncHandle | AsyncHandle

export interface Engine {
  readonly name: string
  /** mapping and settings, printed in the run's header */
  readonly describe: string
  /** Create the store in the empty directory dir from data.sortedPairs(), commit durably, close. */
  bulkLoad(dir: string, data: BenchData): Promise<void>
  /** Open the store in dir, creating an empty one when dir is empty. */
  open(dir: string): Promise<Handle>
}

export interface EngineFactory {
  readonly name: string
  /** the name in the tables */
  readonly title: string
  /** whether the engine runs when --only is not given */
  readonly byDefault: boolean
  /** Load the engine's module; throws if it cannot be loaded. */
  load(): Promise<Engine>
}

// ---------------------------------------------------------------- helpers

/** 8-byte big-endian encoding of a non-negative integer rowId (< 2^53). */
function be8(rowId: number): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeUInt32BE(Math.floor(rowId / 4294967296), 0)
  b.writeUInt32BE(rowId >>> 0, 4)
  return b
}

function readBe8(b: Buffer, at: number): number {
  return b.readUInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4)
}

/** Composite key: key bytes, 0x00, 8-byte big-endian rowId. */
function compositeKey(key: string, rowId: number): Buffer {
  const n = Buffer.byteLength(key, 'utf8')
  const b = Buffer.allocUnsafe(n + 9)
  b.write(key, 0, 'utf8')
  b[n] = 0
  b.writeUInt32BE(Math.floor(rowId / 4294967296), n + 1)
  b.writeUInt32BE(rowId >>> 0, n + 5)
  return b
}

/** The key followed by one byte: [key+\0, key+\1) bounds all composite keys of key. */
function keyPlusByte(key: string, byte: number): Buffer {
  const n = Buffer.byteLength(key, 'utf8')
  const b = Buffer.allocUnsafe(n + 1)
  b.write(key, 0, 'utf8')
  b[n] = byte
  return b
}

// ---------------------------------------------------------------- tailroot

const TAILROOT_FILE = 'bench.tailroot'

const tailroot: EngineFactory = {
  name: 'tailroot',
  title: 'tailroot',
  byDefault: true,
  async load(): Promise<Engine> {
    const { Index } = await import('../lib/index.ts')
    const options = {
      keyEncoding: 'utf8',
      unique: false,
      pageSize: 4096,
      durability: 'full',
    } as const
    return {
      name: 'tailroot',
      describe: "Index.build from sorted pairs; Index.open { keyEncoding: 'utf8', unique: false, pageSize: 4096, durability: 'full' }",
      async bulkLoad(dir, data) {
        Index.build(path.join(dir, TAILROOT_FILE), data.sortedPairs(), options).close()
      },
      async open(dir) {
        const idx = Index.open<string>(path.join(dir, TAILROOT_FILE), { create: true, ...options })
        return {
          async: false,
          get: (key) => idx.get(key),
          scan(gte, limit, visit) {
            const it = gte === null ? idx.range({ limit }) : idx.range({ gte, limit })
            for (const [k, r] of it) visit(k, r)
          },
          insert(key, rowId) {
            idx.insert(key, rowId)
          },
          insertConcurrent: (key, rowId) => idx.insertAsync(key, rowId),
          insertBatch(list, from, to) {
            idx.transaction((tx) => {
              for (let i = from; i < to; i++) tx.insert(list.keys[i]!, list.rowIds[i]!)
            })
          },
          deleteBatch(list, from, to) {
            let n = 0
            idx.transaction((tx) => {
              for (let i = from; i < to; i++) if (tx.delete(list.keys[i]!, list.rowIds[i]!)) n++
            })
            return n
          },
          close() {
            idx.close()
          },
        }
      },
    }
  },
}

// ---------------------------------------------------------------- lmdb

function lmdbFactory(name: string, overlappingSync: boolean, byDefault: boolean): EngineFactory {
  return {
    name,
    title: name,
    byDefault,
    async load(): Promise<Engine> {
      const { open } = await import('lmdb')
      const openDb = (dir: string) =>
        open<Buffer, string>({
          path: path.join(dir, 'lmdb'),
          dupSort: true,
          encoding: 'binary',
          pageSize: 4096,
          overlappingSync,
        })
      return {
        name,
        describe:
          'lmdb-js dupSort: key string -> 8-byte BE rowId duplicates; getValues / getRange; ' +
          `overlappingSync: ${overlappingSync}` +
          (overlappingSync ? ' (default: commits return before they are flushed)' : ' (each commit flushed before return)'),
        async bulkLoad(dir, data) {
          const db = openDb(dir)
          const R = data.sizes.rowsPerKey
          db.transactionSync(() => {
            // Sorted input: MDB_APPEND for a key's first value, MDB_APPENDDUP for all.
            for (let p = 0; p < data.pairCount; p++) {
              db.putSync(data.keys[Math.floor(p / R)]!, be8(data.sortedRowIds[p]!), {
                append: p % R === 0,
                appendDup: true,
              })
            }
          })
          await db.close()
        },
        async open(dir) {
          const db = openDb(dir)
          return {
            async: false,
            get(key) {
              const out: number[] = []
              for (const v of db.getValues(key)) out.push(readBe8(v, 0))
              return out
            },
            scan(gte, limit, visit) {
              const opts = gte === null ? {} : { start: gte }
              const it = db.getRange(limit === Infinity ? opts : { ...opts, limit })
              for (const { key, value } of it) visit(key, readBe8(value, 0))
            },
            insert(key, rowId) {
              db.putSync(key, be8(rowId))
            },
            insertConcurrent: (key, rowId) => db.put(key, be8(rowId)),
            insertBatch(list, from, to) {
              db.transactionSync(() => {
                for (let i = from; i < to; i++) db.putSync(list.keys[i]!, be8(list.rowIds[i]!))
              })
            },
            deleteBatch(list, from, to) {
              let n = 0
              db.transactionSync(() => {
                for (let i = from; i < to; i++) if (db.removeSync(list.keys[i]!, be8(list.rowIds[i]!))) n++
              })
              return n
            },
            close: () => db.close(),
          }
        },
      }
    },
  }
}

// ---------------------------------------------------------------- leveldb

const leveldb: EngineFactory = {
  name: 'leveldb',
  title: 'LevelDB',
  byDefault: true,
  async load(): Promise<Engine> {
    const { ClassicLevel } = await import('classic-level')
    const EMPTY = Buffer.alloc(0)
    const openDb = async (dir: string) => {
      const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'leveldb'), {
        keyEncoding: 'buffer',
        valueEncoding: 'buffer',
      })
      await db.open()
      return db
    }
    return {
      name: 'leveldb',
      describe: 'classic-level: composite key key\\0rowId8 -> empty; iterators over the key prefix; put/batch with { sync: true }',
      async bulkLoad(dir, data) {
        const db = await openDb(dir)
        const R = data.sizes.rowsPerKey
        const batch = db.batch()
        for (let p = 0; p < data.pairCount; p++) {
          batch.put(compositeKey(data.keys[Math.floor(p / R)]!, data.sortedRowIds[p]!), EMPTY)
        }
        await batch.write({ sync: true })
        await db.close()
      },
      async open(dir) {
        const db = await openDb(dir)
        return {
          async: true,
          async get(key) {
            const keys = await db.keys({ gte: keyPlusByte(key, 0), lt: keyPlusByte(key, 1) }).all()
            const out = new Array<number>(keys.length)
            for (let i = 0; i < keys.length; i++) {
              const k = keys[i]!
              out[i] = readBe8(k, k.length - 8)
            }
            return out
          },
          async scan(gte, limit, visit) {
            const opts = gte === null ? {} : { gte: Buffer.from(gte, 'utf8') }
            const it = db.keys(limit === Infinity ? opts : { ...opts, limit })
            const chunkSize = Math.min(1000, limit)
            try {
              for (;;) {
                const chunk = await it.nextv(chunkSize)
                if (chunk.length === 0) break
                for (let i = 0; i < chunk.length; i++) {
                  const k = chunk[i]!
                  visit(k.toString('utf8', 0, k.length - 9), readBe8(k, k.length - 8))
                }
              }
            } finally {
              await it.close()
            }
          },
          async insert(key, rowId) {
            await db.put(compositeKey(key, rowId), EMPTY, { sync: true })
          },
          insertConcurrent: (key, rowId) => db.put(compositeKey(key, rowId), EMPTY, { sync: true }),
          async insertBatch(list, from, to) {
            const batch = db.batch()
            for (let i = from; i < to; i++) batch.put(compositeKey(list.keys[i]!, list.rowIds[i]!), EMPTY)
            await batch.write({ sync: true })
          },
          async deleteBatch(list, from, to) {
            const batch = db.batch()
            for (let i = from; i < to; i++) batch.del(compositeKey(list.keys[i]!, list.rowIds[i]!))
            await batch.write({ sync: true })
            return -1
          },
          close: () => db.close(),
        }
      },
    }
  },
}

// ---------------------------------------------------------------- sqlite

// better-sqlite3 ships no types; this is the part of its API used here.
interface SqliteRunResult {
  changes: number
}
interface SqliteStatement {
  run(...params: unknown[]): SqliteRunResult
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
  iterate(...params: unknown[]): IterableIterator<unknown>
  pluck(toggle?: boolean): SqliteStatement
  raw(toggle?: boolean): SqliteStatement
}
interface SqliteDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown
  exec(source: string): SqliteDatabase
  prepare(source: string): SqliteStatement
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R
  close(): SqliteDatabase
}
type SqliteConstructor = new (filename: string, options?: object) => SqliteDatabase

const SQLITE_FILE = 'bench.sqlite'
const SQLITE_TABLE = 'CREATE TABLE IF NOT EXISTS idx (key TEXT NOT NULL, rowid INTEGER NOT NULL, PRIMARY KEY (key, rowid)) WITHOUT ROWID'

const sqlite: EngineFactory = {
  name: 'sqlite',
  title: 'SQLite',
  byDefault: true,
  async load(): Promise<Engine> {
    const require = createRequire(import.meta.url)
    const Database = require('better-sqlite3') as SqliteConstructor
    const mem = new Database(':memory:')
    const version = String(mem.prepare('SELECT sqlite_version()').pluck().get())
    mem.close()
    return {
      name: 'sqlite',
      describe:
        `better-sqlite3 (SQLite ${version}): idx(key TEXT, rowid INTEGER, PRIMARY KEY(key, rowid)) WITHOUT ROWID; ` +
        'journal_mode=WAL, synchronous=FULL (W1: journal_mode=DELETE, synchronous=FULL)',
      async bulkLoad(dir, data) {
        const db = new Database(path.join(dir, SQLITE_FILE))
        db.pragma('page_size = 4096')
        db.pragma('journal_mode = DELETE')
        db.pragma('synchronous = FULL')
        db.exec(SQLITE_TABLE)
        const ins = db.prepare('INSERT INTO idx (key, rowid) VALUES (?, ?)')
        const R = data.sizes.rowsPerKey
        db.transaction(() => {
          for (let p = 0; p < data.pairCount; p++) ins.run(data.keys[Math.floor(p / R)]!, data.sortedRowIds[p]!)
        })()
        db.close()
      },
      async open(dir) {
        const db = new Database(path.join(dir, SQLITE_FILE))
        db.pragma('page_size = 4096')
        db.pragma('journal_mode = WAL')
        db.pragma('synchronous = FULL')
        db.exec(SQLITE_TABLE)
        const get = db.prepare('SELECT rowid FROM idx WHERE key = ? ORDER BY rowid').pluck()
        const scanFrom = db.prepare('SELECT key, rowid FROM idx WHERE key >= ? ORDER BY key, rowid LIMIT ?').raw()
        const scanAll = db.prepare('SELECT key, rowid FROM idx ORDER BY key, rowid').raw()
        const ins = db.prepare('INSERT INTO idx (key, rowid) VALUES (?, ?)')
        const del = db.prepare('DELETE FROM idx WHERE key = ? AND rowid = ?')
        const insertBatch = db.transaction((list: PairList, from: number, to: number) => {
          for (let i = from; i < to; i++) ins.run(list.keys[i]!, list.rowIds[i]!)
        })
        const deleteBatch = db.transaction((list: PairList, from: number, to: number): number => {
          let n = 0
          for (let i = from; i < to; i++) n += del.run(list.keys[i]!, list.rowIds[i]!).changes
          return n
        })
        return {
          async: false,
          get: (key) => get.all(key) as number[],
          scan(gte, limit, visit) {
            if (gte === null && limit === Infinity) {
              for (const row of scanAll.iterate() as IterableIterator<[string, number]>) visit(row[0], row[1])
              return
            }
            const rows = scanFrom.all(gte ?? '', limit === Infinity ? -1 : limit) as [string, number][]
            for (let i = 0; i < rows.length; i++) visit(rows[i]![0], rows[i]![1])
          },
          insert(key, rowId) {
            ins.run(key, rowId)
          },
          insertConcurrent(key, rowId) {
            ins.run(key, rowId)
          },
          insertBatch(list, from, to) {
            insertBatch(list, from, to)
          },
          deleteBatch: (list, from, to) => deleteBatch(list, from, to),
          close() {
            db.close()
          },
        }
      },
    }
  },
}

// ---------------------------------------------------------------- registry

export const ENGINES: readonly EngineFactory[] = [
  tailroot,
  lmdbFactory('lmdb', false, true),
  leveldb,
  sqlite,
  lmdbFactory('lmdb-overlap', true, false),
]

/** Sum of the sizes of all files under dir (recursively). */
export function dirBytes(dir: string): number {
  let total = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) total += dirBytes(p)
    else if (e.isFile()) total += fs.statSync(p).size
  }
  return total
}
