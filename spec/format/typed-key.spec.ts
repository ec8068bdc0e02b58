/**
 * The typed key codec (FORMAT.md §4.1): the test vectors of fixtures/typed-keys.json both ways;
 * random pairs whose encodings must compare as the values do naturally (spec/helpers/
 * typed-values.ts, an oracle that never encodes); round trips; prefixes; refused values.
 * TAILROOT_SEED=n replays one seed.
 */
import fs from 'node:fs'
import t from 'tap'
import { TailrootError } from '../../lib/errors.ts'
import { DecodeError } from '../../lib/format/page.ts'
import { decodeTypedKey, encodeTypedKey, encodeTypedPrefix } from '../../lib/format/typed-key.ts'
import type { TypedKey } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import {
  compareNatural, fromDescribed, nearby, randomBigInt, randomNumber, randomString, randomTyped, sameValue, showTyped, startsWithNatural,
} from '../helpers/typed-values.ts'
import type { Described } from '../helpers/typed-values.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

interface Fixture {
  valid: { value: Described; hex: string }[]
  invalid: { hex: string; why: string }[]
}
const fixture = JSON.parse(fs.readFileSync(new URL('../../fixtures/typed-keys.json', import.meta.url), 'utf8')) as Fixture

const hexOf = (v: unknown): string => encodeTypedKey(v).toString('hex')
const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0)

function codeOf(fn: () => unknown): string {
  try { fn() } catch (err) { return err instanceof TailrootError ? err.code : err instanceof DecodeError ? 'DecodeError' : `foreign ${String(err)}` }
  return 'no error'
}

t.test('test vectors, both ways, in ascending order', async t => {
  t.ok(fixture.valid.length >= 100, `${fixture.valid.length} vectors`)
  let prev: { v: TypedKey; hex: string } | null = null
  for (const { value, hex } of fixture.valid) {
    const v = fromDescribed(value)
    const name = showTyped(v)
    t.equal(hexOf(v), hex, `encode ${name}`)
    const back = decodeTypedKey(Buffer.from(hex, 'hex'))
    t.ok(sameValue(back, v), `decode ${hex} is ${name} (got ${showTyped(back)})`)
    if (prev !== null) {
      t.ok(prev.hex < hex, `${showTyped(prev.v)} < ${name} bytewise`)
      t.equal(compareNatural(prev.v, v), -1, `${showTyped(prev.v)} < ${name} naturally`)
    }
    prev = { v, hex }
  }
})

t.test('invalid byte strings are DecodeErrors', async t => {
  t.ok(fixture.invalid.length >= 20, `${fixture.invalid.length} invalid keys`)
  for (const { hex, why } of fixture.invalid) {
    t.equal(codeOf(() => decodeTypedKey(Buffer.from(hex, 'hex'))), 'DecodeError', `${hex}: ${why}`)
  }
})

t.test('random pairs: the byte order is the natural order', async t => {
  const rng = new Rng(seed)
  const failures: string[] = []
  const N = 20_000
  let ties = 0
  for (let i = 0; i < N && failures.length < 10; i++) {
    const a = randomTyped(rng)
    const b = rng.next() < 0.6 ? nearby(rng, a) : randomTyped(rng)
    const want = compareNatural(a, b)
    const got = sign(Buffer.compare(encodeTypedKey(a), encodeTypedKey(b)))
    if (want === 0) ties++
    if (got !== want) failures.push(`seed ${seed} pair ${i}: compare(${showTyped(a)}, ${showTyped(b)}) is ${want}, bytes give ${got}`)
  }
  t.same(failures, [], `${N} pairs (seed ${seed})`)
  t.ok(ties > N / 100, `${ties} equal pairs were among them`)
})

t.test('numbers and bigints interleave by value, a number before the equal bigint', async t => {
  const rng = new Rng(seed ^ 0x5bd1e995)
  const failures: string[] = []
  for (let i = 0; i < 20_000 && failures.length < 10; i++) {
    const a = rng.next() < 0.5 ? randomNumber(rng) : randomBigInt(rng)
    const b = rng.next() < 0.3 ? nearby(rng, a) : rng.next() < 0.5 ? randomNumber(rng) : randomBigInt(rng)
    const want = compareNatural(a, b)
    const got = sign(Buffer.compare(encodeTypedKey(a), encodeTypedKey(b)))
    if (got !== want) failures.push(`seed ${seed} pair ${i}: ${showTyped(a)} vs ${showTyped(b)}: natural ${want}, bytes ${got}`)
  }
  t.same(failures, [], `seed ${seed}`)
  t.ok(Buffer.compare(encodeTypedKey(1), encodeTypedKey(1n)) < 0 && Buffer.compare(encodeTypedKey(1n), encodeTypedKey(1.0000000000000002)) < 0, '1 < 1n < the next float')
  t.ok(Buffer.compare(encodeTypedKey(-1), encodeTypedKey(-1n)) < 0 && Buffer.compare(encodeTypedKey(-1.0000000000000002), encodeTypedKey(-1)) < 0, '-1.0000000000000002 < -1 < -1n')
  t.ok(Buffer.compare(encodeTypedKey(2 ** 53), encodeTypedKey(2n ** 53n + 1n)) < 0, '2^53 < 2^53 + 1n')
})

t.test('round trips', async t => {
  const rng = new Rng(seed + 1)
  const failures: string[] = []
  const N = 20_000
  for (let i = 0; i < N && failures.length < 10; i++) {
    const v = randomTyped(rng, 3)
    const e = encodeTypedKey(v)
    const back = decodeTypedKey(e)
    if (!sameValue(back, v)) failures.push(`seed ${seed} value ${i}: ${showTyped(v)} came back as ${showTyped(back)}`)
    else if (!encodeTypedKey(back).equals(e)) failures.push(`seed ${seed} value ${i}: ${showTyped(v)} re-encodes differently`)
  }
  t.same(failures, [], `${N} values (seed ${seed})`)
  t.ok(Object.is(decodeTypedKey(encodeTypedKey(-0)), 0), '-0 reads back as 0')
  t.equal(hexOf(-0), hexOf(0), '-0 and 0 are one key')
  t.ok(decodeTypedKey(encodeTypedKey(new Date(5))) instanceof Date, 'a Date comes back as a Date')
  const bytes = decodeTypedKey(encodeTypedKey(Buffer.from([1, 2])))
  t.ok(bytes instanceof Uint8Array && !Buffer.isBuffer(bytes), 'bytes come back as a plain Uint8Array, even from a Buffer')
  const big = 2n ** 32767n + 12345n
  t.equal(decodeTypedKey(encodeTypedKey(-big)), -big, 'the largest bigints round-trip')
})

t.test('prefixes select exactly the keys that start with them', async t => {
  const rng = new Rng(seed + 2)
  const failures: string[] = []
  let matches = 0
  const N = 10_000
  for (let i = 0; i < N && failures.length < 10; i++) {
    const k = rng.next() < 0.7 ? [randomString(rng), ...[randomTyped(rng, 1), randomTyped(rng, 1)].slice(0, rng.int(3))] : randomTyped(rng)
    let p: readonly TypedKey[] | string | Uint8Array
    const x = rng.next()
    if (x < 0.15) p = randomString(rng)
    else if (x < 0.2) p = Uint8Array.from([rng.pick([0, 1, 2, 0xff])])
    else if (Array.isArray(k) && x < 0.8) p = (k as TypedKey[]).slice(0, rng.int(k.length + 1)).map(e => (rng.next() < 0.2 ? nearby(rng, e) : e))
    else if (typeof k === 'string') p = k.slice(0, rng.int(k.length + 1)).replace(/[\ud800-\udbff]$/, '')
    else p = [randomString(rng)]
    const want = startsWithNatural(k, p)
    const pb = encodeTypedPrefix(p)
    const got = encodeTypedKey(k).subarray(0, pb.length).equals(pb)
    if (want) matches++
    if (got !== want) failures.push(`seed ${seed} case ${i}: ${showTyped(k)} starts with ${showTyped(p as TypedKey)}: natural ${want}, bytes ${got}`)
  }
  t.same(failures, [], `${N} cases (seed ${seed})`)
  t.ok(matches > N / 5 && matches < N * 0.9, `${matches} matched`)
  t.equal(encodeTypedPrefix(['Smith']).toString('hex'), '7050536d69746800', "['Smith']: the tuple tag and the element, without the tuple's end byte")
  t.notOk(encodeTypedKey(['Smith\u0000', 'x']).subarray(0, 8).equals(encodeTypedPrefix(['Smith'])), "['Smith\\0', 'x'] does not start with ['Smith']")
})

t.test('values that are not typed keys are INVALID_ARGUMENT, with a message naming them', async t => {
  const cases: [unknown, RegExp][] = [
    [NaN, /key is NaN/], [[1, NaN], /key\[1\] is NaN/], [undefined, /key is undefined/], [{}, /an object \(Object\)/],
    [Symbol('s'), /a symbol/], [() => 1, /a function/], [new Date(NaN), /invalid Date/], ['\ud800', /lone surrogate/],
    [['a', ['\udc00']], /key\[1\]\[0\] is a string that is not well-formed/], [new Uint16Array(2), /Uint16Array/],
    [2n ** 32768n, /bigint of 32769 bits/], [-(2n ** 32768n), /bigint of 32769 bits/], [new ArrayBuffer(2), /ArrayBuffer/],
  ]
  let deep: unknown = 1
  for (let i = 0; i < 17; i++) deep = [deep]
  cases.push([deep, /nests arrays more than 16 deep/])
  for (const [v, msg] of cases) {
    let err: unknown = null
    try { encodeTypedKey(v) } catch (e) { err = e }
    t.ok(err instanceof TailrootError && err.code === 'INVALID_ARGUMENT', `${String(typeof v === 'symbol' ? 'symbol' : v).slice(0, 30)} refused`)
    t.match((err as Error | null)?.message ?? '', msg)
  }
  let ok: unknown = 1
  for (let i = 0; i < 16; i++) ok = [ok]
  t.equal(decodeTypedKey(encodeTypedKey(ok)) !== null, true, 'arrays nested 16 deep are keys')
  t.ok(sameValue(decodeTypedKey(encodeTypedKey(2n ** 32767n)), 2n ** 32767n), 'a bigint of 32768 bits is a key')
  t.equal(codeOf(() => encodeTypedPrefix(5)), 'INVALID_ARGUMENT', 'a number is no prefix')
  t.equal(codeOf(() => encodeTypedPrefix([NaN])), 'INVALID_ARGUMENT', 'a prefix element is checked like a key')
})
