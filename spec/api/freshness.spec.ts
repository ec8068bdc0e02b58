// When reads outside a transaction see commits made elsewhere (lib/api/freshness.ts).
import t from 'tap'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { tmpDir } from '../helpers/tmp.ts'

const lib = new URL('../../lib/index.ts', import.meta.url).href

/** Runs a child process that inserts (key, rowId) into `file` and exits. */
function insertInChild(file: string, key: string, rowId: number): Promise<void> {
  const code = `import { Index } from ${JSON.stringify(lib)}; const i = Index.open(${JSON.stringify(file)}); i.insert(${JSON.stringify(key)}, ${rowId}); i.close()`
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: 'inherit' })
    p.on('error', reject)
    p.on('exit', c => c === 0 ? resolve() : reject(new Error(`child exited with ${c}`)))
  })
}

t.test('another handle of this thread: its commits are seen at once', t => {
  const file = path.join(tmpDir(t), 'f.idx')
  const a = Index.open(file)
  const b = Index.open(file)
  t.equal(b.count(), 0)
  for (let i = 0; i < 50; i++) {
    a.insert('k', i)
    t.equal(b.count('k'), i + 1, `b sees a's commit ${i + 1} in the same run of code`)
    b.insert('j', i)
    t.same(a.get('j').length, i + 1, `a sees b's commit ${i + 1}`)
  }
  a.close()
  b.close()
  t.end()
})

t.test('another process: a commit that happened before an event is seen after it', async t => {
  const file = path.join(tmpDir(t), 'f.idx')
  const reader = Index.open(file, { readOnly: false })
  t.equal(reader.count(), 0)
  for (let i = 0; i < 3; i++) {
    // The read just before the child runs marks this run of code as having looked.
    t.equal(reader.count(), i)
    await insertInChild(file, 'child', i)
    t.equal(reader.count(), i + 1, `without refresh(), the child's commit ${i + 1} is visible after its exit event`)
  }
  reader.close()
})

t.test('maxStalenessMs: a time bound; refresh() always looks', async t => {
  const file = path.join(tmpDir(t), 'f.idx')
  const reader = Index.open(file, { maxStalenessMs: 3_600_000 })
  t.equal(reader.count(), 0)
  await insertInChild(file, 'child', 1)
  t.equal(reader.count(), 0, 'within the bound the handle does not look')
  t.equal(reader.sequence, 0)
  t.equal(reader.refresh(), true, 'refresh moves the view')
  t.equal(reader.count(), 1)
  t.equal(reader.refresh(), false, 'nothing newer')
  reader.close()
})

t.test('maxStalenessMs: commits of other handles in this thread are still seen at once', t => {
  const file = path.join(tmpDir(t), 'f.idx')
  const a = Index.open(file, { maxStalenessMs: 3_600_000, durability: 'none' })
  const b = Index.open(file, { maxStalenessMs: 3_600_000, durability: 'none' })
  t.equal(b.count(), 0)
  for (let i = 0; i < 20; i++) {
    a.insert('k', i)
    t.equal(b.count('k'), i + 1, `b sees a's commit ${i + 1} at once`)
    b.transaction(() => {}, { meta: Buffer.from([i]) })
    t.same(a.meta, Buffer.from([i]), `a sees b's commit at once`)
  }
  const s = b.snapshot()
  a.insert('after', 1)
  t.equal(s.count(), 20, 'a snapshot stays where it was')
  t.same(b.get('after'), [1])
  s.close()
  a.close()
  b.close()
  t.end()
})
