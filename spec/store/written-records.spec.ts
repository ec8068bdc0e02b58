/**
 * recordsOf on a commit this process wrote returns the batch CommitWriter encoded it from
 * (noteWritten), without reading the file; it must be what decoding the commit's page gives.
 * Against the simple version: the records decoded from the file, for commits with records
 * inline and in log pages.
 */
import path from 'node:path'
import t from 'tap'
import { Index } from '../../lib/index.ts'
import { EMPTY_COMMIT } from '../../lib/format/commit.ts'
import { decodeCommit } from '../../lib/format/commit.ts'
import { CommitWriter } from '../../lib/store/commit-writer.ts'
import { IndexFile } from '../../lib/store/file.ts'
import { recordsOf } from '../../lib/store/log-chain.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'
import type { Batch } from '../../lib/tree/batch.ts'
import { Rng } from '../helpers/rng.ts'
import { tmpDir } from '../helpers/tmp.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed} (rerun with TAILROOT_SEED=${seed})`)

t.test('the remembered records are the records in the file', t => {
  const file = path.join(tmpDir(t), 'records.idx')
  Index.open(file, { pageSize: 512 }).close()
  const f = IndexFile.open(nodeVfs, file, true, 0)
  t.teardown(() => f.release())
  const rng = new Rng(seed)
  let prev = f.findNewestCommit(0) ?? EMPTY_COMMIT
  let inline = 0
  let paged = 0
  for (let round = 0; round < 40; round++) {
    // Inserts only, each commit its own chain (net against the empty tree).
    const n = 1 + (rng.int(2) === 0 ? rng.int(4) : rng.int(120))
    const keys = new Set<string>()
    while (keys.size < n) keys.add(`k${rng.int(100_000)}`)
    const sorted = [...keys].sort()
    const b: Batch = { keys: sorted, ids: sorted.map(() => rng.int(1000)), ins: sorted.map(() => true) }
    const w = new CommitWriter(f, prev, 'none', false)
    w.appendLog(b, null)
    const c = w.commit({ root: 0, height: 0, entryCount: n, livePages: w.logPages, meta: null, logPrevHead: 0, chainBefore: 0 })
    if (c.logPages > 0) paged++
    else inline++
    t.equal(recordsOf(f, c), b, `round ${round}: the batch written, not a decoded copy`)
    const decoded = decodeCommit(f.readPages(c.page, 1), c.page, f.header.fileId, f.formatVersion)
    t.ok(decoded !== null && decoded !== c, `round ${round}: the commit decodes`)
    if (decoded === null) break
    const read = recordsOf(f, decoded)
    t.not(read, b, `round ${round}: a decoded commit is read from the file`)
    t.same(read, b, `round ${round}: and holds the same records (seed ${seed})`)
    prev = c
  }
  t.ok(inline > 0 && paged > 0, `records inline (${inline}) and in log pages (${paged})`)
  t.end()
})
