/**
 * CommitWriter as the NodeSource of a streaming fold: it loads the node pages it appended itself,
 * both those already written out to the file and those still in its write buffer, as well as the
 * file's older pages; and a fold through Index that takes back a page it wrote leaves a file
 * whose live-page count verify confirms.
 */
import path from 'node:path'
import t from 'tap'
import { Index } from '../../lib/index.ts'
import { isLeaf } from '../../lib/format/node.ts'
import type { LeafNode } from '../../lib/format/node.ts'
import { CommitWriter } from '../../lib/store/commit-writer.ts'
import { IndexFile } from '../../lib/store/file.ts'
import { nodeVfs } from '../../lib/store/vfs.ts'
import { tmpDir } from '../helpers/tmp.ts'

t.test('loads its own pages from the file and from its buffer', t => {
  const file = path.join(tmpDir(t), 'own.idx')
  Index.open(file, { pageSize: 4096 }).close()
  const f = IndexFile.open(nodeVfs, file, true, 0)
  t.teardown(() => f.release())
  const prev = f.findNewestCommit(0)
  const w = new CommitWriter(f, prev ?? { page: 0, sequence: 0 } as never, 'none', false)
  const leaves: LeafNode[] = []
  const pages: number[] = []
  // More than the 1 MiB the writer buffers: the first pages reach the file before the last.
  for (let i = 0; i < 400; i++) {
    const leaf: LeafNode = { level: 0, keys: [`key${i}`, `key${i}z`], ids: [[i, i + 1], [7]], count: 3 }
    leaves.push(leaf)
    pages.push(w.append(leaf))
  }
  t.ok(f.pageCount() > pages[0]!, 'some pages were written out')
  t.ok(f.pageCount() <= pages[pages.length - 1]!, 'some are still buffered')
  for (let i = 0; i < pages.length; i += 37) t.same(w.load(pages[i]!, 0), leaves[i], `page ${pages[i]}`)
  t.same(w.load(pages[pages.length - 1]!, 0), leaves[leaves.length - 1], 'the last page')
  t.throws(() => w.load(pages[pages.length - 1]!, 1), /level/, 'a buffered page at the wrong level')
  t.throws(() => w.load(pages[pages.length - 1]! + 1, 0), /not a node/, 'a page not appended')
  w.abort()
  t.end()
})

t.test('a fold that takes back a page it wrote keeps livePages exact', t => {
  // As in spec/tree/stream-apply.spec.ts, through Index: the last two children of a level-2
  // node; the fold rewrites the last leaf of the first and empties the second but for one pair,
  // whose lone leaf is then merged with that leaf, written by then (the pure spec asserts that
  // this takes a page back). verify checks livePages.
  const file = path.join(tmpDir(t), 'fold.idx')
  const idx = Index.open(file, { pageSize: 512, maxPendingChanges: 0, cacheBytes: 0 })
  t.teardown(() => idx.close())
  idx.transaction(tx => { for (let i = 0; i < 20_000; i++) tx.insert(`k${String(i).padStart(6, '0')}`, i) })
  const f = IndexFile.open(nodeVfs, file, false, 0)
  const c = f.findNewestCommit(0)!
  let q = f.node(c.root, c.height - 1)
  while (!isLeaf(q) && q.level > 2) q = f.node(q.children[0]!, q.level - 1)
  const doomed: [string, number][] = []
  if (!isLeaf(q) && q.level === 2) {
    const first = f.node(q.children[q.children.length - 2]!, 1)
    const second = f.node(q.children[q.children.length - 1]!, 1)
    if (!isLeaf(first) && !isLeaf(second)) {
      const last = f.node(first.children[first.children.length - 1]!, 0)
      if (isLeaf(last)) doomed.push([last.keys[last.keys.length - 1]!, last.ids[last.ids.length - 1]!.at(-1)!])
      let kept = false
      for (const ref of second.children) {
        const leaf = f.node(ref, 0)
        if (isLeaf(leaf)) for (let g = 0; g < leaf.keys.length; g++) for (const id of leaf.ids[g]!) { if (kept) doomed.push([leaf.keys[g]!, id]); kept = true }
      }
    }
  }
  f.release()
  t.ok(doomed.length > 10, `height ${c.height}: ${doomed.length} pairs to delete`)
  let deleted = 0
  idx.transaction(tx => { for (const [k, r] of doomed) if (tx.delete(k, r)) deleted++ })
  t.equal(deleted, doomed.length, 'every pair was there')
  const after = idx.stats()
  t.equal(after.entries, 20_000 - doomed.length)
  t.equal(after.pendingChanges, 0, 'folded')
  const v = Index.verify(file)
  t.ok(v.ok, v.ok ? 'verify ok' : JSON.stringify(v.errors.slice(0, 3)))
  t.equal(idx.stats().height, c.height, 'same height')
  t.end()
})
