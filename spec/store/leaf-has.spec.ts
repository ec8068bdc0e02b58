// Presence checks on leaves not cached (IndexFile.leafHas): the first check of a leaf searches its
// page bytes without caching it; a second check decodes and caches it, so later ones read nothing.
import path from 'node:path'
import t from 'tap'
import { Index } from '../../lib/index.ts'
import { CountingVfs } from '../helpers/counting-vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'

const key = (i: number): string => `key-${String(i).padStart(6, '0')}`

t.test('a leaf is searched in its bytes once, then decoded and cached', async t => {
  const file = path.join(tmpDir(t), 'has.idx')
  Index.build(file, Array.from({ length: 20_000 }, (_, i) => [key(i), i] as [string, number])).close()
  const vfs = new CountingVfs()
  const idx = Index.open(file, { readOnly: true, vfs })
  t.equal(idx.has(key(10), 10), true) // the path's internal nodes are cached now
  const reads: number[] = []
  for (let i = 0; i < 4; i++) {
    vfs.reset()
    t.equal(idx.has(key(15_000), i === 3 ? 1 : 15_000), i !== 3, `check ${i + 1}`)
    // Pages read (a look for new commits reads 32 bytes, not a page).
    reads.push(Math.floor(vfs.readBytes / 4096))
  }
  t.same(reads.slice(0, 2), [1, 1], `the first two checks read the leaf once each (${reads.join(', ')})`)
  t.same(reads.slice(2), [0, 0], 'the later ones read nothing: the second decoded and cached the leaf')
  idx.close()
})
