// Two processes commit in tight loops on one file; each must get a fair share of the lock and
// no single commit may wait long (the turnstile in lib/store/lock.ts).
import t from 'tap'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Index } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fairness-child.ts')

interface Result { tag: string; commits: number; longestMs: number }

function run(file: string, tag: string, until: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, file, tag, String(until)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', d => { out += d })
    p.on('error', reject)
    p.on('exit', code => code === 0 ? resolve(JSON.parse(out) as Result) : reject(new Error(`child ${tag} exited with ${code}`)))
  })
}

t.test('two tight-loop writers share the lock fairly', async t => {
  const file = path.join(tmpDir(t), 'fair.idx')
  Index.open(file).close()
  // Both children start loading at once; the window starts after their startup.
  const until = Date.now() + 6000
  const [a, b] = await Promise.all([run(file, 'a', until), run(file, 'b', until)])
  t.comment(`a: ${a.commits} commits (longest ${a.longestMs} ms), b: ${b.commits} commits (longest ${b.longestMs} ms)`)
  const total = a.commits + b.commits
  t.ok(total > 100, `enough commits to judge (${total})`)
  t.ok(Math.min(a.commits, b.commits) >= total * 0.25, `each writer gets at least a quarter (a ${a.commits}, b ${b.commits})`)
  t.ok(Math.max(a.longestMs, b.longestMs) < 2000, `no commit waited 2 s for the lock (a ${a.longestMs} ms, b ${b.longestMs} ms)`)
  const idx = Index.open(file, { readOnly: true })
  t.equal(idx.count('a'), a.commits, 'every commit of a is in the file')
  t.equal(idx.count('b'), b.commits, 'every commit of b is in the file')
  t.equal(idx.sequence, total, 'one commit per insert')
  idx.close()
  t.ok(Index.verify(file).ok)
})
