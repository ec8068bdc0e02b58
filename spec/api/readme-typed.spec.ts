/**
 * The README's "Typed and composite keys" snippet runs as written (its `assert`s are the test),
 * in a child process whose working directory is a temporary one, with 'tailroot' resolved to
 * lib/index.ts.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { tmpDir } from '../helpers/tmp.ts'

const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

t.test('README: Typed and composite keys', async t => {
  const section = readme.split('\n### Typed and composite keys\n')[1]?.split('\n### ')[0] ?? ''
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  t.ok(code, 'the section has a ts snippet')
  const lib = new URL('../../lib/index.ts', import.meta.url).href
  const dir = tmpDir(t)
  const file = path.join(dir, 'snippet.ts')
  fs.writeFileSync(file, code!.replace(/from 'tailroot'/g, `from '${lib}'`))
  execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), file], { cwd: dir, stdio: 'pipe' })
  t.ok(fs.existsSync(path.join(dir, 'people.name.idx')), 'it ran and made its index')
})
