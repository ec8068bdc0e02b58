/** Keys on the command line and in output: utf8 keys as text, binary keys as hex. */
import type { KeyEncoding } from '../format/header.ts'
import type { Key } from '../keys.ts'
import { UsageError } from './exit-codes.ts'

const HEX = /^(?:[0-9a-fA-F]{2})*$/

/** Whether `s` is bytes in hex, two digits each. */
export function isHex(s: string): boolean {
  return HEX.test(s)
}

/** A key argument for an index of `encoding`; `what` names it in the error. */
export function parseKey(s: string, encoding: KeyEncoding, what: string): Key {
  if (encoding === 'utf8') return s
  if (!isHex(s)) throw new UsageError(`${what} must be hex digits for a binary index (two per byte), got ${JSON.stringify(s.slice(0, 80))}`)
  return Buffer.from(s, 'hex')
}

/** A key as printed: text, or hex for binary keys. */
export function showKey(k: Key): string {
  return typeof k === 'string' ? k : k.toString('hex')
}
