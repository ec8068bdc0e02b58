// Engine adapters for bench/run.ts: tailroot and its peers, each behind the
// same small interface. Every engine module is loaded with a dynamic import so
// that one that is missing or fails to load is skipped, not fatal.
//
// Mapping of the index (key -> ascending rowIds) onto each engine:
//   tailroot  Index (keyEncoding 'utf8', unique false, pageSize 4096, durability 'full')
//   lmdb      lmdb-js in dupSort mode: key = the key string, one duplicate value
//             per rowId = 8-byte big-endian rowId. LMDB sorts duplicates byte-wise,
//             so getValues(key) yields the rowIds ascending. Measured against the
//             other mapping (composite key `key \0 rowId8` -> empty value, get =
//             getRange over the prefix): dupSort stores the key once per key, and
//             was ~1.5x faster on lookups and ~1.7x on range counts, so it is used.
//             overlappingSync is turned off: with lmdb-js's default on Linux
//             (overlappingSync: true) putSync/transactionSync return before the
//             commit is flushed, which is not a durable commit; with it off each
//             commit is flushed (data, then meta page) before it returns, as
//             plain LMDB does. `lmdb-overlap` (only with --only) keeps the default.
//   leveldb   classic-level, composite key `key \0 rowId8` -> empty value; get is
//             an iterator over [key\0, key\1); a range count iterates and counts.
//             Defaults otherwise (Snappy on, 8 MiB block cache). Its API is async:
//             the harness awaits each call in turn (no concurrent requests).
//   sqlite    better-sqlite3, table idx(key TEXT, rowid INTEGER,
//             PRIMARY KEY(key, rowid)) WITHOUT ROWID, journal_mode=WAL,
//             synchronous=FULL, page_size 4096. The bulk load runs in
//             journal_mode=DELETE (no WAL copy of a fresh file's pages), then the
//             file is switched to WAL for everything else.

import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import type { BenchData, PairList } from './data.ts'

/** A handle whose calls are synchronous. */
export interface SyncHandle {
  readonly async: false
  /** all rowIds of key, ascending */
  get(key: string): number[]
  /** number of pairs with gte <= key < lt */
  countRange(gte: string, lt: string): number
  /** one pair, one durable commit */
  insert(key: string, rowId: number): void
  /** pairs [from, to) of list, one durable commit */
  insertBatch(list: PairList, from: number, to: number): void
  close(): void | Promise<void>
}

/** A handle whose calls return promises (awaited one at a time). */
export interface AsyncHandle {
  readonly async: true
  get(key: string): Promise<number[]>
  countRange(gte: string, lt: string): Promise<number>
  insert(key: string, rowId: number): Promise<void>
  insertBatch(list: PairList, from: number, to: number): Promise<void>
  close(): Promise<void>
}

export type Handle = SyncHandle | AsyncHandle

export interface Engine {
  readonly name: string
  /** mapping and settings, printed in the run's header */
  readonly describe: string
  /** Create the store in the empty directory dir from data.sortedPairs(), commit durably, close. */
  bulkLoad(dir: string, data: BenchData): Promise<void>
  /** Open the store that bulkLoad made in dir. */
  open(dir: string): Promise<Handle>
}

export interface EngineFactory {
  readonly name: string
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

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  )
}

// ---------------------------------------------------------------- tailroot

const TAILROOT_FILE = 'bench.tailroot'

const tailroot: EngineFactory = {
  name: 'tailroot',
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
        // The return value of build is treated as unknown: awaited if it is a
        // promise, closed if it is something with a close().
        let built: unknown = Index.build(path.join(dir, TAILROOT_FILE), data.sortedPairs(), options)
        if (isThenable(built)) built = await built
        if (typeof built === 'object' && built !== null) {
          const close = (built as { close?: unknown }).close
          if (typeof close === 'function') {
            const r: unknown = close.call(built)
            if (isThenable(r)) await r
          }
        }
      },
      async open(dir) {
        const idx = Index.open(path.join(dir, TAILROOT_FILE), { create: true, ...options })
        return {
          async: false,
          get: (key) => idx.get(key),
          countRange: (gte, lt) => idx.countRange({ gte, lt }),
          insert(key, rowId) {
            idx.insert(key, rowId)
          },
          insertBatch(list, from, to) {
            idx.transaction((tx) => {
              for (let i = from; i < to; i++) tx.insert(list.keys[i]!, list.rowIds[i]!)
            })
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
          'lmdb-js dupSort: key string -> 8-byte BE rowId duplicates; getValues / getCount; ' +
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
            countRange: (gte, lt) => db.getCount({ start: gte, end: lt }),
            insert(key, rowId) {
              db.putSync(key, be8(rowId))
            },
            insertBatch(list, from, to) {
              db.transactionSync(() => {
                for (let i = from; i < to; i++) db.putSync(list.keys[i]!, be8(list.rowIds[i]!))
              })
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
      describe: 'classic-level: composite key key\\0rowId8 -> empty; iterator over the key prefix; put/batch with { sync: true }',
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
          async countRange(gte, lt) {
            const it = db.keys({ gte: Buffer.from(gte, 'utf8'), lt: Buffer.from(lt, 'utf8') })
            let n = 0
            try {
              for (;;) {
                const chunk = await it.nextv(1000)
                if (chunk.length === 0) break
                n += chunk.length
              }
            } finally {
              await it.close()
            }
            return n
          },
          async insert(key, rowId) {
            await db.put(compositeKey(key, rowId), EMPTY, { sync: true })
          },
          async insertBatch(list, from, to) {
            const batch = db.batch()
            for (let i = from; i < to; i++) batch.put(compositeKey(list.keys[i]!, list.rowIds[i]!), EMPTY)
            await batch.write({ sync: true })
          },
          close: () => db.close(),
        }
      },
    }
  },
}

// ---------------------------------------------------------------- sqlite

// better-sqlite3 ships no types; this is the part of its API used here.
interface SqliteStatement {
  run(...params: unknown[]): unknown
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
  pluck(toggle?: boolean): SqliteStatement
}
interface SqliteDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown
  exec(source: string): SqliteDatabase
  prepare(source: string): SqliteStatement
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void
  close(): SqliteDatabase
}
type SqliteConstructor = new (filename: string, options?: object) => SqliteDatabase

const SQLITE_FILE = 'bench.sqlite'

const sqlite: EngineFactory = {
  name: 'sqlite',
  byDefault: true,
  async load(): Promise<Engine> {
    const require = createRequire(import.meta.url)
    const Database = require('better-sqlite3') as SqliteConstructor
    const version = String(new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get())
    return {
      name: 'sqlite',
      describe: `better-sqlite3 (SQLite ${version}): idx(key TEXT, rowid INTEGER, PRIMARY KEY(key, rowid)) WITHOUT ROWID; WAL, synchronous=FULL`,
      async bulkLoad(dir, data) {
        const db = new Database(path.join(dir, SQLITE_FILE))
        db.pragma('page_size = 4096')
        db.pragma('journal_mode = DELETE')
        db.pragma('synchronous = FULL')
        db.exec('CREATE TABLE idx (key TEXT NOT NULL, rowid INTEGER NOT NULL, PRIMARY KEY (key, rowid)) WITHOUT ROWID')
        const ins = db.prepare('INSERT INTO idx (key, rowid) VALUES (?, ?)')
        const R = data.sizes.rowsPerKey
        db.transaction(() => {
          for (let p = 0; p < data.pairCount; p++) ins.run(data.keys[Math.floor(p / R)]!, data.sortedRowIds[p]!)
        })()
        db.close()
      },
      async open(dir) {
        const db = new Database(path.join(dir, SQLITE_FILE))
        db.pragma('journal_mode = WAL')
        db.pragma('synchronous = FULL')
        const get = db.prepare('SELECT rowid FROM idx WHERE key = ? ORDER BY rowid').pluck()
        const count = db.prepare('SELECT count(*) FROM idx WHERE key >= ? AND key < ?').pluck()
        const ins = db.prepare('INSERT INTO idx (key, rowid) VALUES (?, ?)')
        const batch = db.transaction((list: PairList, from: number, to: number) => {
          for (let i = from; i < to; i++) ins.run(list.keys[i]!, list.rowIds[i]!)
        })
        return {
          async: false,
          get: (key) => get.all(key) as number[],
          countRange: (gte, lt) => count.get(gte, lt) as number,
          insert(key, rowId) {
            ins.run(key, rowId)
          },
          insertBatch(list, from, to) {
            batch(list, from, to)
          },
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
