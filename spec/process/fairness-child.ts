// Child for fairness.spec.ts: commits in a tight loop until the deadline, then prints its count
// and the longest time one lock acquisition (one commit call) took.
import { Index } from '../../lib/index.ts'

const [file, tag, untilMs] = process.argv.slice(2) as [string, string, string]
const idx = Index.open(file, { durability: 'none', lockTimeoutMs: 20000 })
const deadline = Number(untilMs)
let n = 0
let longest = 0
while (Date.now() < deadline) {
  const t0 = Date.now()
  idx.insert(tag, n++)
  longest = Math.max(longest, Date.now() - t0)
}
idx.close()
process.stdout.write(JSON.stringify({ tag, commits: n, longestMs: longest }) + '\n')
