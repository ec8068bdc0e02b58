// Child for fairness.spec.ts: opens the index, prints "ready", waits for the deadline on stdin
// (so both children start together however long each took to start), commits in a tight loop
// until the deadline, then prints its count and the longest time one lock acquisition (one
// commit call) took.
import { Index } from '../../lib/index.ts'

const [file, tag] = process.argv.slice(2) as [string, string]
const idx = Index.open(file, { durability: 'none', lockTimeoutMs: 20000 })
process.stdout.write('ready\n')
let input = ''
process.stdin.on('data', d => {
  input += String(d)
  if (!input.includes('\n')) return
  process.stdin.pause()
  const deadline = Number(input.trim())
  let n = 0
  let longest = 0
  while (Date.now() < deadline) {
    const t0 = Date.now()
    idx.insert(tag, n++)
    longest = Math.max(longest, Date.now() - t0)
  }
  idx.close()
  process.stdout.write(JSON.stringify({ tag, commits: n, longestMs: longest }) + '\n')
  process.stdin.destroy()
})
