// A create or a build that fails for lack of space (here EFBIG under a file-size limit, which
// behaves like ENOSPC) leaves no temporary file behind, however often it is retried.
import t from 'tap'
import fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tmpDir } from '../helpers/tmp.ts'

const child = fileURLToPath(new URL('../helpers/children/size-limited.ts', import.meta.url))
const root = fileURLToPath(new URL('../../', import.meta.url))

t.test('failed creates and builds leave nothing beside the index', t => {
  const dir = tmpDir(t)
  // bash counts ulimit -f in 1024-byte blocks: 32 KiB admits a 512-byte header, not a 64 KiB one.
  // Without tsx's cache, whose files (a module with its source map) can exceed the limit too: a
  // cold cache (a fresh clone) would have the child killed by SIGXFSZ writing one.
  const r = spawnSync('bash', ['-c', `ulimit -f 32 && exec "${process.execPath}" --import tsx "${child}" "${dir}"`], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TSX_DISABLE_CACHE: '1' } })
  t.equal(r.status, 0, `the child ran (signal ${r.signal}): ${r.stderr.slice(-1000)}`)
  const lines = r.stdout.trim().split('\n')
  t.equal(lines.length, 6, `six attempts: ${r.stdout}`)
  for (const line of lines) t.match(line, /^(create|build)-\d IO .*EFBIG/, `each attempt fails with IO naming EFBIG: ${line}`)
  t.same(fs.readdirSync(dir), [], 'no file is left in the directory')
  t.end()
})
