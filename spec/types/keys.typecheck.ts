/**
 * Compile-time checks, never run: `tsc --noEmit` (the first step of `npm test`) compiles this
 * file, and every `@ts-expect-error` line must be an error, or tsc fails ("unused directive").
 * The key type follows keyEncoding: string by default, Uint8Array for 'binary', TypedKey for
 * 'typed', Key when the encoding is known only at run time.
 */
import { Index } from '../../lib/index.ts'
import type { BuildOptions, Key, OpenOptions, TypedKey } from '../../lib/index.ts'

declare const p: string

function utf8(): void {
  const a = Index.open(p)
  a.insert('Lyon', 1)
  // @ts-expect-error a utf8 index takes strings
  a.insert(42, 1)
  // @ts-expect-error a utf8 index takes strings
  a.insert(Buffer.from('x'), 1)
  const k: string = [...a.range()][0]![0]
  void k
  a.range({ prefix: 'Ly' })
  // @ts-expect-error a utf8 prefix is a string
  a.range({ prefix: ['Ly'] })
  const b = Index.open(p, { keyEncoding: 'utf8', unique: true })
  // @ts-expect-error a utf8 index takes strings
  b.get(1n)
}

function binary(): void {
  const a = Index.open(p, { keyEncoding: 'binary' })
  a.insert(new Uint8Array([1, 2]), 1)
  a.insert(Buffer.from('x'), 1) // a Buffer is a Uint8Array
  // @ts-expect-error a binary index takes Uint8Array keys
  a.insert('x', 1)
  // @ts-expect-error a binary index takes Uint8Array keys
  a.countRange({ gte: 'a' })
  const k: Uint8Array = [...a.range()][0]![0]
  void k
  a.countRange({ prefix: new Uint8Array([1]) })
  // @ts-expect-error a binary prefix is bytes
  a.countRange({ prefix: 'x' })
  const narrowed = Index.open<Buffer>(p, { keyEncoding: 'binary' })
  const nk: Buffer = narrowed.get(Buffer.from('x')).length > 0 ? [...narrowed.range()][0]![0] : Buffer.alloc(0)
  void nk
  // @ts-expect-error a binary index cannot be given string keys
  Index.open<string>(p, { keyEncoding: 'binary' })
}

function typed(): void {
  const a = Index.open(p, { keyEncoding: 'typed' })
  a.insert(42, 1)
  a.insert(['Smith', 'John'], 2)
  a.insert([new Date(), 7n, null, true, new Uint8Array(1), ['nested']], 3)
  // @ts-expect-error undefined is no typed key
  a.insert(undefined, 1)
  // @ts-expect-error objects are no typed keys
  a.insert({ name: 'x' }, 1)
  // @ts-expect-error symbols are no typed keys
  a.insert([Symbol('x')], 1)
  const k: TypedKey = [...a.range({ prefix: ['Smith'], reverse: true, limit: 10 })][0]![0]
  void k
  a.range({ prefix: 'Sm' })
  // @ts-expect-error a prefix is an array, a string or bytes
  a.range({ prefix: 5 })
  const byAge = Index.open<number>(p, { keyEncoding: 'typed' })
  byAge.insert(30, 1)
  // @ts-expect-error this typed index was narrowed to numbers
  byAge.insert('30', 1)
  const byName = Index.open<[string, string]>(p, { keyEncoding: 'typed' })
  byName.insert(['Smith', 'John'], 1)
  // @ts-expect-error this typed index was narrowed to [string, string] tuples
  byName.insert(['Smith', 1], 1)
  // @ts-expect-error a Map is no typed key
  Index.open<Map<string, string>>(p, { keyEncoding: 'typed' })
  const tx = a.transaction(t => t)
  void tx
}

function build(): void {
  const a = Index.build(p, [['a', 1], ['b', 2]])
  a.insert('c', 3)
  // @ts-expect-error built without keyEncoding: string keys
  Index.build(p, [[1, 1]])
  const b = Index.build(p, [[new Uint8Array(1), 1]], { keyEncoding: 'binary' })
  // @ts-expect-error a binary index takes Uint8Array keys
  b.insert('x', 1)
  // @ts-expect-error a binary build takes Uint8Array keys
  Index.build(p, [['a', 1]], { keyEncoding: 'binary' })
  const c = Index.build(p, [[['Smith', 'John'], 1], [42, 2]], { keyEncoding: 'typed' })
  c.insert(new Date(0), 3)
  // @ts-expect-error a typed build takes typed keys
  Index.build(p, [[{ a: 1 }, 1]], { keyEncoding: 'typed' })
}

function runtimeEncoding(o: OpenOptions): void {
  // An encoding known only at run time: keys of any kind.
  const a: Index<Key> = Index.open(p, o)
  a.insert('x', 1)
  a.insert(new Uint8Array(1), 1)
  a.insert([1, 'x'], 1)
  // @ts-expect-error the options decide the key type, not a type argument
  Index.open<number>(p, o)
}

void utf8
void binary
void typed
void build
void runtimeEncoding

function buildRuntimeEncoding(o: BuildOptions, pairs: [Key, number][]): void {
  const a: Index<Key> = Index.build(p, pairs, o)
  void a
  // @ts-expect-error options without a literal keyEncoding mean utf8: string keys
  Index.build(p, pairs, {})
}
void buildRuntimeEncoding
