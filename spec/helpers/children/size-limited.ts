/**
 * Runs under a file-size limit (the parent sets `ulimit -f`): creates an index and builds one,
 * both of which hit EFBIG, and prints `<step> <error code>` for each.
 * Usage: size-limited.ts <dir>
 */
import path from 'node:path'
import { Index } from '../../../lib/index.ts'
import { arg, say } from './io.ts'

const dir = arg(0, 'dir')

function attempt(step: string, fn: () => void): void {
  try {
    fn()
    say(`${step} ok`)
  } catch (err) {
    say(`${step} ${(err as { code?: string }).code ?? 'unknown'} ${JSON.stringify((err as Error).message)}`)
  }
}

for (let i = 0; i < 3; i++) {
  // The 64 KiB header page alone exceeds the limit.
  attempt(`create-${i}`, () => Index.open(path.join(dir, 'created.idx'), { pageSize: 65536 }).close())
  // A small header fits; the data pages of the build do not.
  attempt(`build-${i}`, () => Index.build(path.join(dir, 'built.idx'), Array.from({ length: 20000 }, (_, j) => [`key${j}`, j] as const), { pageSize: 512 }).close())
}
