// The progress bar appears on a terminal's stderr, and not in a pipe nor with --json; stdout
// carries the same output either way.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Index } from '../../lib/index.ts'
import { ProgressBar, renderBar } from '../../lib/cli/progress.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { FakeStderr, cli } from './run-cli.ts'

t.test('renderBar fits the line and shows the share done', async t => {
  t.equal(renderBar('load', 0, 100, '', 80), `load [${'-'.repeat(40)}]   0% 0/100`)
  t.equal(renderBar('load', 50, 100, 'bytes', 80), `load [${'#'.repeat(20)}${'-'.repeat(20)}]  50% 50/100 bytes`)
  t.equal(renderBar('x', 2000, 1000, '', 80), `x [${'#'.repeat(40)}] 100% 2,000/1,000`, 'clamped at 100%')
  for (const cols of [20, 40, 60]) t.ok(renderBar('compact', 123456, 1000000, 'pairs', cols).length < Math.max(cols, 40), `fits ${cols} columns or drops the bar`)
  t.equal(renderBar('v', 5, 0, '', 80).includes('0%'), true, 'a zero total shows 0%')
})

t.test('ProgressBar draws only on a terminal, at most every 100 ms, and erases itself', async t => {
  t.equal(ProgressBar.on(new FakeStderr(false), 'x', true), null, 'not a terminal: no bar')
  t.equal(ProgressBar.on(new FakeStderr(true), 'x', false), null, 'disabled (--json): no bar')
  const tty = new FakeStderr(true)
  const bar = ProgressBar.on(tty, 'x', true)!
  bar.update(1, 10)
  bar.update(2, 10) // within 100 ms of the first: skipped
  t.equal(tty.text.split('\r').length - 1, 1, 'one drawing')
  t.match(tty.text, /^\rx \[####-+\]  10% 1\/10\x1b\[K$/)
  bar.end()
  t.ok(tty.text.endsWith('\r\x1b[K'), 'erased at the end')
})

t.test('compact, load and verify draw on a terminal only, and not with --json', async t => {
  const dir = tmpDir(t)
  const input = path.join(dir, 'in.ndjson')
  fs.writeFileSync(input, Array.from({ length: 20000 }, (_, i) => `["k${String(i).padStart(6, '0')}",${i}]`).join('\n'))
  for (const [mode, tty, json] of [['terminal', true, false], ['pipe', false, false], ['terminal --json', true, true]] as const) {
    const file = path.join(dir, `${mode.replace(/\W/g, '')}.idx`)
    const flag = json ? ['--json'] : []
    const runs = [['load', file, input, ...flag], ['verify', file, ...flag], ['compact', file, ...flag]]
    // Churn, so that the compaction has work to do.
    for (const args of runs) {
      if (args[0] === 'compact') {
        const idx = Index.open(file)
        for (let i = 0; i < 50; i++) idx.insert(`z${i}`, i)
        idx.close()
      }
      const err = new FakeStderr(tty)
      const r = await cli(args, err)
      t.equal(r.code, 0, `${args[0]} (${mode})`)
      const drawn = /\r\S+ \[[#-]+\] +\d+%/.test(err.text)
      t.equal(drawn, tty && !json, `${args[0]}: a bar ${tty && !json ? 'is' : 'is not'} drawn (${mode})`)
      if (drawn) t.ok(err.text.endsWith('\r\x1b[K'), `${args[0]}: and erased (${mode})`)
      else t.equal(err.text, '', `${args[0]}: stderr stays empty (${mode})`)
      t.notMatch(r.stdout, /\r|\x1b/, `${args[0]}: stdout has no bar (${mode})`)
    }
  }
  t.end()
})
