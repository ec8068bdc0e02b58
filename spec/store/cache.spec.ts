// The node cache: bounded, CLOCK eviction keeps entries that were hit, dropFrom forgets a range.
import t from 'tap'
import { NodeCache } from '../../lib/store/cache.ts'
import type { LeafNode } from '../../lib/format/node.ts'

const leaf = (n: number): LeafNode => ({ level: 0, keys: [String(n)], ids: [[n]], count: 1 })

t.test('never holds more than its capacity', t => {
  const c = new NodeCache(10)
  for (let p = 1; p <= 100; p++) c.set(p, leaf(p))
  t.equal(c.size, 10)
  for (let p = 91; p <= 100; p++) t.same((c.get(p) as LeafNode | undefined)?.keys, [String(p)], `the newest page ${p} is cached`)
  t.equal(c.get(1), undefined, 'the oldest were evicted')
  t.end()
})

t.test('an entry that was hit survives a round of eviction', t => {
  const c = new NodeCache(4)
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
  const c = new NodeCache(100)
  c.set(5, leaf(5))
  c.set(5, leaf(55))
  t.same((c.get(5) as LeafNode | undefined)?.keys, ['55'])
  for (let p = 1; p <= 20; p++) c.set(p, leaf(p))
  c.dropFrom(11)
  t.equal(c.size, 10)
  t.ok(c.get(10))
  t.equal(c.get(11), undefined)
  c.clear()
  t.equal(c.size, 0)
  t.end()
})
