// The node cache: bounded by estimated heap bytes, CLOCK eviction keeps entries that were hit,
// dropFrom forgets a range.
import t from 'tap'
import { NodeCache, nodeHeapBytes } from '../../lib/store/cache.ts'
import type { LeafNode } from '../../lib/format/node.ts'

const leaf = (n: number): LeafNode => ({ level: 0, keys: [String(n).padStart(3, '0')], ids: [[n]], count: 1 })
/** Every test leaf has the same estimated size. */
const ONE = nodeHeapBytes(leaf(0))

t.test('never holds more than its capacity', t => {
  const c = new NodeCache(10 * ONE)
  for (let p = 1; p <= 100; p++) c.set(p, leaf(p))
  t.equal(c.size, 10)
  t.equal(c.bytes, 10 * ONE, 'bytes are accounted')
  for (let p = 91; p <= 100; p++) t.same((c.get(p) as LeafNode | undefined)?.keys, [String(p).padStart(3, '0')], `the newest page ${p} is cached`)
  t.equal(c.get(1), undefined, 'the oldest were evicted')
  t.end()
})

t.test('an entry that was hit survives a round of eviction', t => {
  const c = new NodeCache(4 * ONE)
  for (let p = 1; p <= 4; p++) c.set(p, leaf(p))
  c.get(1) // the root, say
  for (let p = 5; p <= 7; p++) c.set(p, leaf(p))
  t.ok(c.get(1), 'page 1 was hit, so it got a second chance')
  t.equal(c.get(2), undefined)
  t.equal(c.get(3), undefined)
  t.same([c.hits, c.misses], [2, 2])
  t.end()
})

t.test('capacity 0 caches nothing; set replaces; dropFrom and clear forget', t => {
  const none = new NodeCache(0)
  none.set(1, leaf(1))
  t.equal(none.get(1), undefined)
  const c = new NodeCache(100 * ONE)
  c.set(5, leaf(5))
  c.set(5, leaf(55))
  t.same((c.get(5) as LeafNode | undefined)?.keys, ['055'])
  for (let p = 1; p <= 20; p++) c.set(p, leaf(p))
  c.dropFrom(11)
  t.equal(c.size, 10)
  t.ok(c.get(10))
  t.equal(c.get(11), undefined)
  c.clear()
  t.equal(c.size, 0)
  t.end()
})

t.test('bigger nodes take more of the budget', t => {
  const big: LeafNode = { level: 0, keys: Array.from({ length: 100 }, (_, i) => 'k'.repeat(40) + i), ids: Array.from({ length: 100 }, () => [1, 2, 3, 4]), count: 400 }
  t.ok(nodeHeapBytes(big) > 50 * ONE, 'a full leaf is estimated far above a one-key leaf')
  const c = new NodeCache(nodeHeapBytes(big) + 2 * ONE)
  c.set(1, big)
  c.set(2, leaf(2))
  c.set(3, leaf(3))
  t.equal(c.size, 3)
  c.set(4, leaf(4))
  t.ok(c.bytes <= nodeHeapBytes(big) + 2 * ONE, 'the budget holds')
  t.equal(c.get(1), undefined, 'the big, cold, oldest node went first')
  t.end()
})

t.test('page bytes: kept by setPage, found by entry and getPage, replaced by the decoded node', t => {
  const c = new NodeCache(100 * ONE + 4096)
  const bytes = Buffer.alloc(512, 7)
  c.setPage(3, bytes)
  t.equal(c.size, 1)
  t.ok(c.bytes > bytes.length, 'the bytes count against the budget')
  t.equal(c.get(3), undefined, 'get() wants a decoded node: page bytes are a miss')
  t.equal(c.getPage(3), bytes)
  const e = c.entry(3)
  t.same([e?.node, e?.page === bytes], [null, true], 'entry() gives the bytes')
  c.set(3, leaf(3))
  t.equal(c.getPage(3), undefined, 'the node replaced the bytes')
  t.same((c.entry(3)?.node as LeafNode | undefined)?.keys, ['003'])
  t.equal(c.bytes, ONE, 'accounted as the node alone')
  t.equal(c.size, 1)
  c.setPage(9, bytes)
  c.dropFrom(5)
  t.equal(c.getPage(9), undefined, 'dropFrom forgets page bytes too')
  t.ok(c.entry(3))
  const none = new NodeCache(0)
  t.equal(none.enabled, false)
  none.setPage(1, bytes)
  t.equal(none.size, 0)
  t.end()
})

t.test('page bytes and nodes share the budget and the eviction', t => {
  const page = 4096
  const c = new NodeCache(3 * (page + 200))
  for (let p = 1; p <= 10; p++) c.setPage(p, Buffer.alloc(page))
  t.ok(c.size <= 3 && c.size >= 2, `${c.size} pages kept`)
  t.ok(c.bytes <= 3 * (page + 200), 'the budget holds')
  t.ok(c.getPage(10), 'the newest is kept')
  t.equal(c.getPage(1), undefined, 'the oldest went')
  t.end()
})
