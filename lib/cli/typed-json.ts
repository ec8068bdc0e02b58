/**
 * Typed keys (FORMAT.md §4.1) as JSON, for the command line and its output: null, booleans,
 * finite numbers, strings and arrays are themselves; the values JSON lacks are one-member objects:
 * {"$bigint": "123"}, {"$date": "2026-01-02T03:04:05.000Z"}, {"$bytes": "00ff"} (hex) and
 * {"$number": "Infinity" | "-Infinity"}.
 */
import type { TypedKey } from '../format/typed-key.ts'

/** The JSON value of a typed key. */
export function typedToJson(k: TypedKey): unknown {
  if (k === null || typeof k === 'boolean' || typeof k === 'string') return k
  if (typeof k === 'number') return Number.isFinite(k) ? k : { $number: String(k) }
  if (typeof k === 'bigint') return { $bigint: k.toString() }
  if (k instanceof Date) return { $date: k.toISOString() }
  if (k instanceof Uint8Array) return { $bytes: Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('hex') }
  return k.map(typedToJson)
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/

/** The typed key a JSON value stands for; throws a message naming what is wrong. */
export function typedFromJson(v: unknown): TypedKey {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number') return v
  if (Array.isArray(v)) return v.map(typedFromJson)
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
    if (entries.length === 1 && typeof entries[0]![1] === 'string') {
      const [tag, s] = entries[0] as [string, string]
      if (tag === '$bigint' && /^-?\d+$/.test(s)) return BigInt(s)
      if (tag === '$date') { const d = new Date(s); if (!Number.isNaN(d.getTime())) return d }
      if (tag === '$bytes' && HEX.test(s)) return Buffer.from(s, 'hex')
      if (tag === '$number' && (s === 'Infinity' || s === '-Infinity')) return Number(s)
    }
  }
  throw new Error(`not a typed key: ${JSON.stringify(v)?.slice(0, 100)} (JSON null, booleans, numbers, strings and arrays, or {"$bigint": "…"}, {"$date": "…"}, {"$bytes": "hex"}, {"$number": "Infinity"})`)
}
