/**
 * LeafPacker (groups one at a time) makes exactly the leaves packLeavesBalanced makes of all the
 * groups at once, whatever the group sizes: short and long keys, single ids, and groups of
 * thousands of ids that span several leaves. Randomised: prints its seed; TAILROOT_SEED=n
 * replays one.
 */
import t from 'tap'
import { maxKeyBytes } from '../../lib/format/constants.ts'
import type { LeafNode } from '../../lib/format/node.ts'
import { LeafPacker } from '../../lib/tree/leaf-packer.ts'
import { packLeavesBalanced } from '../../lib/tree/pack.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'

const seed = Rng.seedFromEnv()
t.comment(`seed ${seed}: rerun with TAILROOT_SEED=${seed}`)

t.test('the same leaves as packLeavesBalanced', t => {
  const rng = new Rng(seed)
  const rounds = SOAK ? 3000 : 400
  for (let round = 0; round < rounds; round++) {
    const pageSize = rng.pick([512, 1024, 4096, 65536])
    const groups = rng.int(rng.next() < 0.3 ? 5 : 600)
    const longKeys = rng.next() < 0.3
    const keys: string[] = []
    const ids: number[][] = []
    for (let g = 0; g < groups; g++) {
      const pad = longKeys ? rng.int(maxKeyBytes(pageSize) - 8) : rng.int(12)
      keys.push(`k${String(g).padStart(6, '0')}${'p'.repeat(pad)}`)
      const n = 1 + rng.int(rng.next() < 0.05 ? 20_000 : rng.next() < 0.5 ? 4 : 300)
      const list: number[] = []
      let id = rng.int(1000)
      for (let i = 0; i < n; i++) { list.push(id); id += 1 + rng.int(rng.next() < 0.1 ? 100_000 : 50) }
      ids.push(list)
    }
    const want = packLeavesBalanced(keys, ids, pageSize)
    const packer = new LeafPacker(pageSize)
    const got: LeafNode[] = []
    for (let g = 0; g < groups; g++) {
      packer.add(keys[g]!, ids[g]!)
      if (rng.next() < 0.5) got.push(...packer.takeFinal())
    }
    got.push(...packer.finish())
    const same = got.length === want.length && got.every((l, i) => JSON.stringify(l) === JSON.stringify(want[i]))
    if (!same) { t.fail(`round ${round} (seed ${seed}, page ${pageSize}, ${groups} groups): ${got.length} leaves, packLeavesBalanced makes ${want.length}`); break }
  }
  t.pass(`${rounds} rounds`)
  t.end()
})
