/**
 * Every TypeScript snippet in the README runs as written (its `assert`s, if any, are part of the
 * test), each in a child process whose working directory is a fresh temporary one, with
 * 'tailroot' resolved to lib/index.ts. So the README cannot drift from the code.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { tmpDir } from './helpers/tmp.ts'

const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const lib = new URL('../lib/index.ts', import.meta.url).href

/** The ```ts blocks, each with the heading it sits under and its line number. */
function snippets(): { heading: string; line: number; code: string }[] {
  const out: { heading: string; line: number; code: string }[] = []
  const lines = readme.split('\n')
  let heading = '(top)'
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!
    if (/^#+ /.test(l)) heading = l.replace(/^#+ /, '')
    if (l.trim() !== '```ts') continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end]!.trim() !== '```') end++
    out.push({ heading, line: start + 1, code: lines.slice(start, end).join('\n') })
    i = end
  }
  return out
}

const all = snippets()
t.ok(all.length >= 2, `the README has TypeScript snippets (${all.length})`)
for (const s of all) {
  t.test(`README line ${s.line} (${s.heading})`, async t => {
    const dir = tmpDir(t)
    const file = path.join(dir, 'snippet.ts')
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n') // ESM, as the package is
    fs.writeFileSync(file, s.code.replace(/from 'tailroot'/g, `from '${lib}'`))
    try {
      execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), file], { cwd: dir, stdio: 'pipe', timeout: 120_000 })
      t.pass('it ran')
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string }
      t.fail(`the snippet failed: ${e.stderr?.toString() || e.message}`)
    }
  })
}
