/** Keys on the command line and in output: utf8 keys as text, binary keys as hex, typed keys as JSON. */
import type { KeyEncoding } from '../format/header.ts'
import type { TypedKey } from '../format/typed-key.ts'
import type { Key } from '../keys.ts'
import { typedFromJson, typedToJson } from './typed-json.ts'
import { UsageError } from './exit-codes.ts'

const HEX = /^(?:[0-9a-fA-F]{2})*$/

/** Whether `s` is bytes in hex, two digits each. */
export function isHex(s: string): boolean {
  return HEX.test(s)
}

/** A key argument for an index of `encoding`; `what` names it in the error. */
export function parseKey(s: string, encoding: KeyEncoding, what: string): Key {
  if (encoding === 'utf8') return s
  if (encoding === 'typed') {
    try { return typedFromJson(JSON.parse(s)) } catch (err) {
      throw new UsageError(`${what} must be a JSON value for a typed index (${err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message})`)
    }
  }
  if (!isHex(s)) throw new UsageError(`${what} must be hex digits for a binary index (two per byte), got ${JSON.stringify(s.slice(0, 80))}`)
  return Buffer.from(s, 'hex')
}

/** A key as printed: text, hex for binary keys, JSON for typed keys. */
export function showKey(k: Key, encoding: KeyEncoding): string {
  if (encoding === 'typed') return JSON.stringify(typedToJson(k as TypedKey))
  return typeof k === 'string' ? k : Buffer.from((k as Uint8Array).buffer, (k as Uint8Array).byteOffset, (k as Uint8Array).byteLength).toString('hex')
}

/** A key in JSON output: the typed key's JSON value, else as showKey prints it. */
export function jsonKey(k: Key, encoding: KeyEncoding): unknown {
  return encoding === 'typed' ? typedToJson(k as TypedKey) : showKey(k, encoding)
}
