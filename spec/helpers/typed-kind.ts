/**
 * Typed keys for the model-based tests (spec/helpers/model.ts): every key is a tuple of typed
 * scalars (sometimes with a nested tuple), so keys share leading elements and `concat` and
 * `prefix` work on elements. Sizes count a tuple's content, its encoded bytes less the tag and
 * end byte: that is what concatenation adds, so a key built up to the maximum size stays within
 * it (and reaches it less its 2 bytes of overhead).
 */
import { encodeTypedKey, encodeTypedPrefix } from '../../lib/format/typed-key.ts'
import type { TypedKey } from '../../lib/index.ts'
import type { KeyKind } from './model.ts'
import type { Rng } from './rng.ts'
import { randomScalar, showTyped, startsWithNatural } from './typed-values.ts'

type Tuple = readonly TypedKey[]

const size = (v: TypedKey): number => encodeTypedKey(v).length
/** One-byte characters for filling strings. */
const FILL = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~ '

/** A tuple whose content is between min and max bytes (exactly, and at least one element when max ≥ 1). */
function randomTuple(rng: Rng, min: number, max: number): Tuple {
  let budget = Math.max(min + rng.int(max - min + 1), Math.min(max, 1))
  const out: TypedKey[] = []
  while (budget > 14 && rng.next() < 0.7) {
    const e = rng.next() < 0.1 ? [randomScalar(rng)] : randomScalar(rng)
    const n = size(e)
    if (n > budget - 2) break
    out.push(e)
    budget -= n
  }
  // Fill the rest exactly: a string of budget − 2 one-byte characters, or a 2-byte or 1-byte element.
  if (budget >= 3 || (budget === 2 && rng.next() < 0.5)) {
    let s = ''
    for (let i = 0; i < budget - 2; i++) s += FILL[rng.int(FILL.length)]
    out.push(s)
  } else if (budget === 2) out.push(rng.pick([0, 0n]))
  else if (budget === 1) out.push(rng.pick([null, false, true]))
  return out
}

export const typedKind: KeyKind<Tuple> = {
  encoding: 'typed',
  bytes: k => encodeTypedKey(k),
  show: k => showTyped(k),
  id: k => encodeTypedKey(k).toString('latin1'),
  random: randomTuple,
  concat: (a, b) => [...a, ...b],
  prefix: (rng, k) => k.slice(0, rng.int(Math.max(1, k.length))),
  // The least key above k: k followed by null (no tag lies between the end byte and null's).
  succ: k => [...k, null],
  empty: [],
  prefixOf(rng, k) {
    const x = rng.next()
    if (x < 0.1 && typeof k[0] === 'string') {
      const chars = Array.from(k[0])
      return chars.slice(0, rng.int(chars.length + 1)).join('') // a string prefix: no tuple matches
    }
    return k.slice(0, rng.int(k.length + 1))
  },
  prefixBytes: p => encodeTypedPrefix(p),
  matches: (k, p) => startsWithNatural(k, p as Tuple | string | Uint8Array),
}
